// The JOSE envelope of an inter-provider message, as the prototype (TDNS) writes it: standard
// base64 (padded) of a compact JWS (ES256) whose payload is a compact JWE (ECDH-ES, A256GCM) of
// the JSON body, encrypted to the recipient's P-256 key. The JWE's protected header names the
// recipient (`peer_id`) and the time (`timestamp`, RFC 3339). The receiver verifies with the key
// of the sender named by the QNAME only, checks time and replay (the caller holds the replay
// record), then decrypts. Pure: jose over WebCrypto, no I/O.
import { CompactEncrypt, CompactSign, compactDecrypt, compactVerify, decodeProtectedHeader, importJWK, type CryptoKey, type JWK } from 'jose';
import { EnvelopeError, type EnvelopeFault } from './errors.ts';

const JWS_HEADER = { alg: 'ES256', cty: 'application/octet-stream', typ: 'JWS' } as const;
const JWE_TYP = 'tdns-distribution';

/** A peer's public keys: one P-256 key for both in TDNS, or a set with `use` sig and enc. */
export interface PeerKeys {
  readonly verify: CryptoKey;
  readonly encrypt: CryptoKey;
}

/** Our private keys (the same P-256 key twice in TDNS's profile). */
export interface OwnKeys {
  readonly sign: CryptoKey;
  readonly decrypt: CryptoKey;
}

function isP256(jwk: unknown): jwk is JWK {
  return typeof jwk === 'object' && jwk !== null && (jwk as JWK).kty === 'EC' && (jwk as JWK).crv === 'P-256';
}

/** The sig and enc JWKs of a key or key set (one key without `use` serves both). */
function pickKeys(json: unknown, what: string): { sig: JWK; enc: JWK } {
  if (isP256(json)) return { sig: json, enc: json };
  const keys = typeof json === 'object' && json !== null ? (json as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(keys)) throw new EnvelopeError('malformed', `${what} is neither a P-256 JWK nor a JWK set`);
  const p256 = keys.filter(isP256);
  const sig = p256.find((k) => k.use === 'sig') ?? p256.find((k) => k.use === undefined);
  const enc = p256.find((k) => k.use === 'enc') ?? p256.find((k) => k.use === undefined);
  if (sig === undefined || enc === undefined) throw new EnvelopeError('malformed', `${what} has no P-256 key for ${sig === undefined ? 'signing' : 'encryption'}`);
  return { sig, enc };
}

async function importAs(jwk: JWK, alg: 'ES256' | 'ECDH-ES', what: string): Promise<CryptoKey> {
  // Import only the fields of the key itself: `use`, `key_ops` or `alg` written for the other
  // role must not stop one key from serving both, as TDNS's single key does.
  const bare = Object.fromEntries(Object.entries(jwk).filter(([k, v]) => ['kty', 'crv', 'x', 'y', 'd'].includes(k) && v !== undefined)) as JWK;
  try {
    const key = await importJWK(bare, alg);
    if (key instanceof Uint8Array) throw new Error('not an asymmetric key');
    return key;
  } catch (e) {
    throw new EnvelopeError('malformed', `${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/** A peer's keys from its published JWK (or JWK set), as JSON. */
export async function peerKeys(json: unknown, what = 'peer JWK'): Promise<PeerKeys> {
  const { sig, enc } = pickKeys(json, what);
  if (sig.d !== undefined || enc.d !== undefined) throw new EnvelopeError('malformed', `${what} holds a private key`);
  return { verify: await importAs(sig, 'ES256', what), encrypt: await importAs(enc, 'ECDH-ES', what) };
}

/** Our keys from a private JWK (or JWK set). */
export async function ownKeys(json: unknown, what = 'private JWK'): Promise<OwnKeys> {
  const { sig, enc } = pickKeys(json, what);
  if (sig.d === undefined || enc.d === undefined) throw new EnvelopeError('malformed', `${what} holds no private key`);
  return { sign: await importAs(sig, 'ES256', what), decrypt: await importAs(enc, 'ECDH-ES', what) };
}

const rfc3339 = (ms: number): string => new Date(ms).toISOString();

export interface SealInput {
  /** The message body (UTF-8 JSON). */
  readonly body: Uint8Array;
  /** Recipient identity, written into the JWE header as `peer_id`. */
  readonly recipient: string;
  /** Epoch ms, written as `timestamp`. */
  readonly time: number;
  readonly sender: OwnKeys;
  readonly to: PeerKeys;
}

/** Encrypts to the recipient, signs, and returns the payload of a Format 2 CHUNK option. */
export async function seal(input: SealInput): Promise<string> {
  const jwe = await new CompactEncrypt(input.body)
    .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', typ: JWE_TYP, cty: 'application/octet-stream', peer_id: input.recipient, timestamp: rfc3339(input.time) })
    .encrypt(input.to.encrypt);
  const jws = await new CompactSign(new TextEncoder().encode(jwe)).setProtectedHeader(JWS_HEADER).sign(input.sender.sign);
  return btoa(jws);
}

/** What a verified envelope says before decryption. */
export interface Verified {
  /** The compact JWE inside. */
  readonly jwe: string;
  /** `peer_id` of the JWE header: the intended recipient. */
  readonly recipient: string;
  /** `timestamp` of the JWE header, epoch ms. */
  readonly time: number;
  /** SHA-256 of the JWS signature, hex: with the sender, the replay record's key. */
  readonly replayKey: string;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const COMPACT_JWE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Verifies the JWS with the sender's key (chosen by the QNAME, never by a header) and reads the
 * JWE header. Throws EnvelopeError: malformed, signature, or plaintext (a payload that is not
 * an ECDH-ES/A256GCM JWE, e.g. TDNS's unencrypted JSON).
 */
export async function verifyEnvelope(payload: string, sender: PeerKeys): Promise<Verified> {
  if (!BASE64.test(payload)) throw new EnvelopeError('malformed', 'payload is not standard base64');
  const jws = atob(payload);
  let inner: Uint8Array;
  let signature: string;
  try {
    const header = decodeProtectedHeader(jws);
    if (header.alg !== 'ES256') throw new EnvelopeError('malformed', `JWS alg ${String(header.alg)} is not ES256`);
    signature = jws.slice(jws.lastIndexOf('.') + 1);
    inner = (await compactVerify(jws, sender.verify, { algorithms: ['ES256'] })).payload;
  } catch (e) {
    if (e instanceof EnvelopeError) throw e;
    const name = e instanceof Error ? e.name : '';
    const fault: EnvelopeFault = name === 'JWSSignatureVerificationFailed' ? 'signature' : 'malformed';
    throw new EnvelopeError(fault, fault === 'signature' ? 'signature does not verify with the sender\'s key' : `JWS: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const jwe = new TextDecoder().decode(inner);
  if (!COMPACT_JWE.test(jwe)) throw new EnvelopeError('plaintext', 'signed payload is not a compact JWE');
  let h;
  try {
    h = decodeProtectedHeader(jwe);
  } catch (e) {
    throw new EnvelopeError('malformed', 'JWE protected header does not decode', { cause: e });
  }
  if (h.alg !== 'ECDH-ES' || h.enc !== 'A256GCM') throw new EnvelopeError('plaintext', `JWE ${String(h.alg)}/${String(h.enc)} is not ECDH-ES/A256GCM`);
  const recipient = h['peer_id'];
  const stamp = h['timestamp'];
  if (typeof recipient !== 'string' || recipient === '') throw new EnvelopeError('malformed', 'JWE header has no peer_id');
  const time = typeof stamp === 'string' ? Date.parse(stamp) : Number.NaN;
  if (Number.isNaN(time)) throw new EnvelopeError('malformed', 'JWE header has no RFC 3339 timestamp');
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(signature)));
  const replayKey = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
  return { jwe, recipient, time, replayKey };
}

/** Refuses an envelope for another recipient (names compared without case and one trailing dot). */
export function checkRecipient(v: Verified, self: string): void {
  const norm = (s: string): string => s.toLowerCase().replace(/\.$/, '');
  if (norm(v.recipient) !== norm(self)) throw new EnvelopeError('recipient', `addressed to ${v.recipient}, not to ${self}`);
}

/** Refuses an envelope whose timestamp is more than `windowMs` from `now`. */
export function checkTime(v: Verified, now: number, windowMs: number): void {
  if (Math.abs(now - v.time) > windowMs) {
    throw new EnvelopeError('time', `timestamp ${rfc3339(v.time)} is outside the window of ${windowMs / 1000} s around ${rfc3339(now)}`);
  }
}

/** Decrypts a verified envelope with our key; a tampered or misaddressed ciphertext is `decrypt`. */
export async function openEnvelope(v: Verified, own: OwnKeys): Promise<Uint8Array> {
  try {
    return (await compactDecrypt(v.jwe, own.decrypt, { keyManagementAlgorithms: ['ECDH-ES'], contentEncryptionAlgorithms: ['A256GCM'] })).plaintext;
  } catch (e) {
    throw new EnvelopeError('decrypt', `JWE does not decrypt with our key (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
}
