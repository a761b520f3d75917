// RRSIG creation (RFC 4034 §3.1.8.1, §6): the signature input of one RRset and the RRSIG RR.
// The caller passes RDATA already in canonical form (dns/canonical.ts); this file sorts and
// de-duplicates it, builds the bytes that are signed, and signs them with node:crypto.
import { labelCount, nameToWire, type Fqdn } from '../name.ts';
import type { RR } from '../rr.ts';
import { RRType } from '../types.ts';
import { ECDSA_CURVES } from './ecdsa.ts';
import { ecdsaSignerFor, signData, type SigningKey } from './keys.ts';

/** The RRSIG labels field: labels of the owner, root and a leading `*` label not counted. */
export function rrsigLabels(owner: Fqdn): number {
  const n = labelCount(owner);
  return owner.startsWith('*.') ? n - 1 : n;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** Sorts canonical RDATA as left-justified octet strings and drops duplicates (§6.3). */
export function sortRdata(rdatas: readonly Uint8Array[]): Uint8Array[] {
  if (rdatas.length < 2) return [...rdatas];
  const sorted = [...rdatas].sort(compareBytes);
  const out: Uint8Array[] = [sorted[0] as Uint8Array];
  for (let i = 1; i < sorted.length; i++) {
    const r = sorted[i] as Uint8Array;
    if (compareBytes(r, out[out.length - 1] as Uint8Array) !== 0) out.push(r);
  }
  return out;
}

/**
 * The bytes an RRSIG signs: RRSIG RDATA without the signature, then every RR of the set in
 * canonical form and order. `ownerWire` is the (lower-case) owner as the RRSIG covers it: for a
 * wildcard expansion that is `*.` + the rightmost `labels` labels, which the caller supplies.
 */
export function signatureInput(
  header: Uint8Array,
  ownerWire: Uint8Array,
  type: number,
  klass: number,
  originalTtl: number,
  canonicalRdatas: readonly Uint8Array[],
): Uint8Array {
  const sorted = sortRdata(canonicalRdatas);
  const out = new Uint8Array(header.length + canonicalRRsLength(ownerWire, sorted));
  out.set(header, 0);
  writeCanonicalRRs(out, header.length, ownerWire, type, klass, originalTtl, sorted);
  return out;
}

/** Bytes of the RRs of a set in canonical form (after the RRSIG header). */
function canonicalRRsLength(ownerWire: Uint8Array, sorted: readonly Uint8Array[]): number {
  let len = 0;
  for (const r of sorted) len += ownerWire.length + 10 + r.length;
  return len;
}

/** Writes the RRs of a set (RDATA canonical and sorted) in canonical form at `o`. */
function writeCanonicalRRs(
  out: Uint8Array,
  o: number,
  ownerWire: Uint8Array,
  type: number,
  klass: number,
  ttl: number,
  sorted: readonly Uint8Array[],
): void {
  for (const r of sorted) {
    out.set(ownerWire, o);
    o += ownerWire.length;
    out[o] = type >> 8;
    out[o + 1] = type & 0xff;
    out[o + 2] = klass >> 8;
    out[o + 3] = klass & 0xff;
    writeU32(out, o + 4, ttl);
    out[o + 8] = r.length >> 8;
    out[o + 9] = r.length & 0xff;
    out.set(r, o + 10);
    o += 10 + r.length;
  }
}

/** Validity window of one signature. */
export interface SignatureTimes {
  readonly inception: number;
  readonly expiration: number;
}

/**
 * Timing policy: inception = now + inceptionOffset (negative: back-dated for clock skew);
 * expiration = now + validity - jitter, where the jitter in [0, jitter) comes from a seeded
 * hash of owner and type, so the same zone signed twice gets the same times.
 */
export interface SigningPolicy {
  readonly inceptionOffset: number;
  readonly validity: number;
  readonly jitter: number;
  readonly seed: number;
}

export const DEFAULT_POLICY: SigningPolicy = {
  inceptionOffset: -3600,
  validity: 14 * 86400,
  jitter: 86400,
  seed: 0x6d70646e,
};

/** FNV-1a over the seed, the owner text and the type: a stable per-RRset jitter source. */
export function rrsetHash(seed: number, owner: string, type: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < owner.length; i++) {
    h ^= owner.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= type & 0xff;
  h = Math.imul(h, 0x01000193) >>> 0;
  h ^= type >> 8;
  h = Math.imul(h, 0x01000193) >>> 0;
  return h;
}

export function signatureTimes(policy: SigningPolicy, now: number, owner: string, type: number): SignatureTimes {
  const jitter = policy.jitter > 0 ? rrsetHash(policy.seed, owner, type) % policy.jitter : 0;
  return {
    inception: (now + policy.inceptionOffset) >>> 0,
    expiration: (now + policy.validity - jitter) >>> 0,
  };
}

/** Everything needed to sign one RRset except the crypto: header + input bytes. */
export interface SignJob {
  readonly owner: Fqdn;
  readonly type: number;
  readonly klass: number;
  readonly ttl: number;
  readonly key: SigningKey;
  readonly header: Uint8Array;
  readonly input: Uint8Array;
  /** Where the caller wants the finished RRSIG pushed (used by the zone signer). */
  readonly target: RR[] | undefined;
}

/** Prepares the signature input of an RRset (rdatas canonical) for one key. */
export function prepareSign(
  owner: Fqdn,
  type: number,
  klass: number,
  ttl: number,
  canonicalRdatas: readonly Uint8Array[],
  key: SigningKey,
  times: SignatureTimes,
  ownerWire: Uint8Array = nameToWire(owner),
  signerWire: Uint8Array = nameToWire(key.zone),
  target?: RR[],
): SignJob {
  // Header and RRs are written into one buffer; the header is a view of its start.
  const sorted = canonicalRdatas.length > 1 ? sortRdata(canonicalRdatas) : canonicalRdatas;
  const headLen = 18 + signerWire.length;
  const len = headLen + canonicalRRsLength(ownerWire, sorted);
  const input: Uint8Array = Buffer.allocUnsafe(len); // pooled: no backing store per RRset
  input[0] = type >> 8;
  input[1] = type & 0xff;
  input[2] = key.algorithm;
  input[3] = rrsigLabels(owner);
  writeU32(input, 4, ttl);
  writeU32(input, 8, times.expiration);
  writeU32(input, 12, times.inception);
  input[16] = key.keyTag >> 8;
  input[17] = key.keyTag & 0xff;
  input.set(signerWire, 18);
  writeCanonicalRRs(input, headLen, ownerWire, type, klass, ttl, sorted);
  return { owner, type, klass, ttl, key, header: input.subarray(0, headLen), input, target };
}

function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

/** The RRSIG RR of a prepared job and its signature. */
export function rrsigRR(job: SignJob, signature: Uint8Array): RR {
  const rdata: Uint8Array = Buffer.allocUnsafe(job.header.length + signature.length);
  rdata.set(job.header, 0);
  rdata.set(signature, job.header.length);
  return { name: job.owner, type: RRType.RRSIG, class: job.klass, ttl: job.ttl, rdata };
}

/** Signs one prepared job in this thread. */
export function runSignJob(job: SignJob): RR {
  const ecdsa = ECDSA_CURVES[job.key.algorithm];
  if (ecdsa === undefined) return rrsigRR(job, signData(job.key.algorithm, job.key.privateKey, job.input));
  // ECDSA: r||s goes from hex straight into the RRSIG RDATA (no Buffer in between).
  const rdata: Uint8Array = Buffer.allocUnsafe(job.header.length + ecdsa.size * 2);
  rdata.set(job.header, 0);
  const written = (rdata as Buffer).write(ecdsaSignerFor(job.key.algorithm, job.key.privateKey).signHex(job.input), job.header.length, 'hex');
  if (written !== ecdsa.size * 2) throw new RangeError(`ECDSA signature of ${written} octets, not ${ecdsa.size * 2}`);
  return { name: job.owner, type: RRType.RRSIG, class: job.klass, ttl: job.ttl, rdata };
}
