// BIND-style key files: `K<zone>+<alg>+<tag>.key` (the DNSKEY RR) and `.private`
// (Private-key-format v1.3, `PrivateKey:` = base64 of the Ed25519 seed or the ECDSA scalar).
// Parsing and formatting only; reading and writing key directories is dns/net/keydir.ts.
import { parseName, type Fqdn } from '../name.ts';
import { algorithmName, SIGNING_ALGORITHMS } from './algorithms.ts';
import { KeyError } from './errors.ts';
import {
  decodeDnskey,
  encodeDnskey,
  isKsk,
  privateKeyFromRaw,
  privateKeyRaw,
  signingKeyFromPrivate,
  type SigningKey,
} from './keys.ts';
import { keyTag } from './keytag.ts';

/** `K<zone>+<alg>+<tag>`, the base name BIND gives a key's two files. */
export function keyFileBase(zone: Fqdn, algorithm: number, tag: number): string {
  return `K${zone}+${String(algorithm).padStart(3, '0')}+${String(tag).padStart(5, '0')}`;
}

function timestamp(sec: number): string {
  const d = new Date(sec * 1000).toISOString(); // 2026-11-27T21:03:33.000Z
  return d.slice(0, 19).replace(/[-:T]/g, '');
}

function b64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

/** Text of the `.key` file: comments as dnssec-keygen writes them, then the DNSKEY RR. */
export function formatKeyFile(key: SigningKey): string {
  const kind = isKsk(key.flags) ? 'key-signing' : 'zone-signing';
  const f = decodeDnskey(key.dnskey);
  return (
    `; This is a ${kind} key, keyid ${key.keyTag}, for ${key.zone}\n` +
    `; Created: ${timestamp(key.created)}\n` +
    `${key.zone} IN DNSKEY ${f.flags} ${f.protocol} ${f.algorithm} ${b64(f.publicKey)}\n`
  );
}

/** Text of the `.private` file (never logged). */
export function formatPrivateFile(key: SigningKey): string {
  const ts = timestamp(key.created);
  return (
    'Private-key-format: v1.3\n' +
    `Algorithm: ${key.algorithm} (${algorithmName(key.algorithm)})\n` +
    `PrivateKey: ${b64(privateKeyRaw(key.algorithm, key.privateKey))}\n` +
    `Created: ${ts}\nPublish: ${ts}\nActivate: ${ts}\n`
  );
}

/** Owner and DNSKEY RDATA of a `.key` file (or any one-DNSKEY presentation text). */
export function parseKeyFile(text: string, file = '<key>'): { zone: Fqdn; dnskey: Uint8Array } {
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/;.*$/, '').trim();
    if (line === '') continue;
    const tokens = line.split(/\s+/);
    const at = tokens.findIndex((t) => t.toUpperCase() === 'DNSKEY');
    if (at < 1 || tokens.length < at + 5) throw new KeyError(`not a DNSKEY record: "${line}"`, file);
    let zone: Fqdn;
    try {
      zone = parseName(tokens[0] ?? '');
    } catch (err) {
      throw new KeyError(`bad owner name "${tokens[0] ?? ''}"`, file, { cause: err });
    }
    const [flags, protocol, algorithm] = tokens.slice(at + 1, at + 4).map(Number);
    const keyText = tokens.slice(at + 4).join('');
    if (
      flags === undefined ||
      protocol === undefined ||
      algorithm === undefined ||
      ![flags, protocol, algorithm].every(Number.isInteger) ||
      !/^[A-Za-z0-9+/]+=*$/.test(keyText)
    ) {
      throw new KeyError(`malformed DNSKEY record: "${line}"`, file);
    }
    const publicKey = new Uint8Array(Buffer.from(keyText, 'base64'));
    return { zone, dnskey: encodeDnskey({ flags, protocol, algorithm, publicKey }) };
  }
  throw new KeyError('no DNSKEY record found', file);
}

/** Algorithm and raw private key of a `.private` file. */
export function parsePrivateFile(
  text: string,
  file = '<private>',
): { algorithm: number; raw: Uint8Array } & KeyTiming {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z0-9-]+):\s*(.*?)\s*$/.exec(line);
    if (m !== null) fields.set((m[1] ?? '').toLowerCase(), m[2] ?? '');
  }
  const format = fields.get('private-key-format');
  if (format === undefined || !/^v1\.[0-9]+$/.test(format)) {
    throw new KeyError('not a BIND private key file (no "Private-key-format: v1.x")', file);
  }
  const algorithm = Number(/^([0-9]+)/.exec(fields.get('algorithm') ?? '')?.[1] ?? NaN);
  if (!Number.isInteger(algorithm)) throw new KeyError('missing or bad "Algorithm:" line', file);
  if (!SIGNING_ALGORITHMS.includes(algorithm)) {
    throw new KeyError(`unsupported signing algorithm ${algorithm} (${algorithmName(algorithm)})`, file);
  }
  const pk = fields.get('privatekey');
  if (pk === undefined || !/^[A-Za-z0-9+/]+=*$/.test(pk)) {
    throw new KeyError('missing or bad "PrivateKey:" line', file);
  }
  const raw = new Uint8Array(Buffer.from(pk, 'base64'));
  const timing: KeyTiming = {};
  for (const f of ['created', 'publish', 'activate', 'inactive', 'delete'] as const) {
    const t = bindTime(fields.get(f));
    if (t !== undefined) timing[f] = t;
  }
  return { algorithm, raw, ...timing };
}

/** BIND timing metadata of a key (seconds since the epoch); absent fields are unset. */
export interface KeyTiming {
  created?: number;
  publish?: number;
  activate?: number;
  inactive?: number;
  delete?: number;
}

function bindTime(text: string | undefined): number | undefined {
  const m = /^([0-9]{4})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})$/.exec(text ?? '');
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, sec] = m;
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec)) / 1000;
}

/**
 * What a key does at `now` by its BIND timing: `sign` (published and active), `publish` (in the
 * DNSKEY RRset only: not yet active, or inactive but not deleted), or `none`.
 */
export function keyRoleAt(t: KeyTiming, now: number): 'sign' | 'publish' | 'none' {
  if (t.delete !== undefined && t.delete <= now) return 'none';
  if (t.publish !== undefined && t.publish > now && (t.activate === undefined || t.activate > now)) return 'none';
  const active = (t.activate === undefined || t.activate <= now) && (t.inactive === undefined || t.inactive > now);
  return active ? 'sign' : 'publish';
}

/**
 * A SigningKey from the texts of its `.key` and `.private` files. Checks that both halves
 * belong together, and, when `zone` is given, that the key is for that zone.
 */
export function keyFromBindFiles(
  keyText: string,
  privateText: string,
  names: { keyFile?: string; privateFile?: string; zone?: Fqdn } = {},
): SigningKey {
  const keyFile = names.keyFile ?? '<key>';
  const { zone, dnskey } = parseKeyFile(keyText, keyFile);
  const f = decodeDnskey(dnskey);
  if (names.zone !== undefined && zone !== names.zone) {
    throw new KeyError(`key ${keyTag(dnskey)} is for zone ${zone}, not ${names.zone}`, keyFile);
  }
  const priv = parsePrivateFile(privateText, names.privateFile);
  if (priv.algorithm !== f.algorithm) {
    throw new KeyError(
      `algorithm ${priv.algorithm} in the private file does not match algorithm ${f.algorithm} of the DNSKEY`,
      names.privateFile ?? '<private>',
    );
  }
  let key: SigningKey;
  try {
    key = signingKeyFromPrivate(zone, f.algorithm, f.flags, privateKeyFromRaw(priv.algorithm, priv.raw), priv.created);
  } catch (err) {
    // A wrong-length or out-of-range key: say which file holds it.
    if (err instanceof KeyError && err.file === undefined) throw new KeyError(err.message, names.privateFile ?? '<private>', { cause: err });
    throw err;
  }
  if (!Buffer.from(key.dnskey).equals(Buffer.from(dnskey))) {
    throw new KeyError(
      `private key does not match the public key ${keyTag(dnskey)} in ${keyFile}`,
      names.privateFile ?? '<private>',
    );
  }
  return key;
}
