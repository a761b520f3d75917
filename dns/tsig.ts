// TSIG (RFC 8945): MAC computation and verification over DNS message bytes.
//
// Pure: works on whole message bytes (the wire codec never has to re-encode a signed message,
// which would break the MAC). Supports HMAC-SHA256 (the default), HMAC-SHA1 and HMAC-SHA512,
// single messages and multi-message transfers (every message signed, or unsigned runs between
// signed ones with the prior MAC chained), and the BADSIG/BADKEY/BADTIME outcomes.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { inputError, ParseError, WireError } from './errors.ts';
import { nameToWire, parseUserName, nameFromLabelBytes, type Fqdn } from './name.ts';
import { RRType, Rcode } from './types.ts';
import { CLASS_ANY } from './rr.ts';

export type TsigAlgorithm = 'hmac-sha1' | 'hmac-sha256' | 'hmac-sha512';

const ALGORITHMS: Record<TsigAlgorithm, { hash: string; name: Fqdn; size: number }> = {
  'hmac-sha1': { hash: 'sha1', name: 'hmac-sha1.' as Fqdn, size: 20 },
  'hmac-sha256': { hash: 'sha256', name: 'hmac-sha256.' as Fqdn, size: 32 },
  'hmac-sha512': { hash: 'sha512', name: 'hmac-sha512.' as Fqdn, size: 64 },
};

export interface TsigKey {
  readonly name: Fqdn;
  readonly algorithm: TsigAlgorithm;
  readonly secret: Uint8Array;
}

/** The default fudge (seconds) of RFC 8945 §10. */
export const DEFAULT_FUDGE = 300;

/** The TSIG RR's fields, as found at the end of a message. */
export interface TsigRecord {
  readonly keyName: Fqdn;
  readonly algorithm: Fqdn;
  readonly timeSigned: number;
  readonly fudge: number;
  readonly mac: Uint8Array;
  readonly originalId: number;
  readonly error: number;
  readonly otherData: Uint8Array;
  /** Offset of the TSIG RR's owner name in the message. */
  readonly offset: number;
}

function algorithmFromName(name: string): TsigAlgorithm | undefined {
  const n = name.toLowerCase().replace(/\.$/, '');
  return n === 'hmac-sha1' || n === 'hmac-sha256' || n === 'hmac-sha512' ? n : undefined;
}

/** Parses `NAME:ALGORITHM:BASE64SECRET` (algorithm hmac-sha256, hmac-sha1 or hmac-sha512). */
export function parseTsigKey(text: string): TsigKey {
  const parts = text.split(':');
  if (parts.length !== 3) throw new ParseError(`TSIG key must be NAME:ALGORITHM:BASE64SECRET`);
  const [nameText, algText, secretText] = parts as [string, string, string];
  let name: Fqdn;
  try {
    name = parseUserName(nameText);
  } catch (err) {
    throw new ParseError(`bad TSIG key name "${nameText}"`, undefined, undefined, undefined, {
      cause: inputError(err),
    });
  }
  const algorithm = algorithmFromName(algText);
  if (algorithm === undefined) {
    throw new ParseError(`unsupported TSIG algorithm "${algText}" (hmac-sha256, hmac-sha1, hmac-sha512)`);
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(secretText) || secretText.length % 4 !== 0) {
    throw new ParseError('TSIG secret is not base64');
  }
  return { name, algorithm, secret: Buffer.from(secretText, 'base64') };
}

/** The algorithm's name as written in the TSIG RR and in server configs (`hmac-sha256`). */
export function tsigAlgorithmName(alg: TsigAlgorithm): string {
  return alg;
}

// ---------------------------------------------------------------------------------------------
// Minimal wire walking: enough to find the last additional RR without a full decode.

function skipName(buf: Uint8Array, off: number): number {
  for (let hops = 0; hops < 256; hops++) {
    const len = buf[off];
    if (len === undefined) throw new WireError('name runs past the end', off);
    if (len === 0) return off + 1;
    if ((len & 0xc0) === 0xc0) {
      if (off + 2 > buf.length) throw new WireError('truncated pointer', off);
      return off + 2;
    }
    if ((len & 0xc0) !== 0) throw new WireError('bad label type', off);
    off += len + 1;
  }
  throw new WireError('name too long', off);
}

/** Reads an uncompressed name (TSIG names are never compressed, RFC 8945 §4.2). */
function readPlainName(buf: Uint8Array, off: number): { name: Fqdn; end: number } {
  const labels: Uint8Array[] = [];
  for (;;) {
    const len = buf[off];
    if (len === undefined) throw new WireError('name runs past the end', off);
    if (len === 0) return { name: nameFromLabelBytes(labels), end: off + 1 };
    if ((len & 0xc0) !== 0) throw new WireError('compressed name in TSIG', off);
    if (off + 1 + len > buf.length) throw new WireError('label runs past the end', off);
    labels.push(buf.subarray(off + 1, off + 1 + len));
    off += len + 1;
  }
}

function u16(buf: Uint8Array, off: number): number {
  if (off + 2 > buf.length) throw new WireError('truncated', off);
  return ((buf[off] as number) << 8) | (buf[off + 1] as number);
}

/**
 * Finds the TSIG RR, which must be the last RR of the additional section. Returns undefined
 * when the message has none; throws WireError on a malformed message or a misplaced TSIG.
 */
export function findTsig(msg: Uint8Array): TsigRecord | undefined {
  if (msg.length < 12) throw new WireError('message shorter than its header', 0);
  const qd = u16(msg, 4);
  const rrs = u16(msg, 6) + u16(msg, 8) + u16(msg, 10);
  const ar = u16(msg, 10);
  let off = 12;
  for (let i = 0; i < qd; i++) off = skipName(msg, off) + 4;
  let last = -1;
  let lastType = -1;
  for (let i = 0; i < rrs; i++) {
    const start = off;
    off = skipName(msg, off);
    const type = u16(msg, off);
    const rdlen = u16(msg, off + 8);
    off += 10 + rdlen;
    if (off > msg.length) throw new WireError('RR runs past the end', start);
    if (type === RRType.TSIG && (i !== rrs - 1 || ar === 0)) {
      throw new WireError('TSIG is not the last additional RR', start);
    }
    last = start;
    lastType = type;
  }
  if (lastType !== RRType.TSIG || last < 0) return undefined;
  const owner = readPlainName(msg, last);
  let o = owner.end + 10; // type, class, ttl, rdlength
  const alg = readPlainName(msg, o);
  o = alg.end;
  if (o + 10 > msg.length) throw new WireError('truncated TSIG', o);
  const hi = u16(msg, o);
  const lo = (u16(msg, o + 2) * 0x10000 + u16(msg, o + 4)) >>> 0;
  const timeSigned = hi * 0x100000000 + lo;
  const fudge = u16(msg, o + 6);
  const macSize = u16(msg, o + 8);
  o += 10;
  if (o + macSize + 6 > msg.length) throw new WireError('truncated TSIG MAC', o);
  const mac = msg.slice(o, o + macSize);
  o += macSize;
  const originalId = u16(msg, o);
  const error = u16(msg, o + 2);
  const otherLen = u16(msg, o + 4);
  o += 6;
  if (o + otherLen > msg.length) throw new WireError('truncated TSIG other data', o);
  const otherData = msg.slice(o, o + otherLen);
  return {
    keyName: owner.name,
    algorithm: alg.name,
    timeSigned,
    fudge,
    mac,
    originalId,
    error,
    otherData,
    offset: last,
  };
}

// ---------------------------------------------------------------------------------------------
// Building the digest input and the TSIG RR.

function time48(t: number): Uint8Array {
  const b = new Uint8Array(6);
  const hi = Math.floor(t / 0x100000000);
  const lo = t >>> 0;
  b[0] = (hi >> 8) & 0xff;
  b[1] = hi & 0xff;
  b[2] = (lo >>> 24) & 0xff;
  b[3] = (lo >>> 16) & 0xff;
  b[4] = (lo >>> 8) & 0xff;
  b[5] = lo & 0xff;
  return b;
}

function be16(v: number): Uint8Array {
  return Uint8Array.of((v >> 8) & 0xff, v & 0xff);
}

function withLength(mac: Uint8Array): Uint8Array[] {
  return [be16(mac.length), mac];
}

interface Variables {
  keyName: Fqdn;
  algorithm: Fqdn;
  timeSigned: number;
  fudge: number;
  error: number;
  otherData: Uint8Array;
}

function variablesWire(v: Variables): Uint8Array[] {
  return [
    nameToWire(v.keyName),
    be16(CLASS_ANY),
    new Uint8Array(4), // TTL 0
    nameToWire(v.algorithm),
    time48(v.timeSigned),
    be16(v.fudge),
    be16(v.error),
    be16(v.otherData.length),
    v.otherData,
  ];
}

function hmac(key: TsigKey, parts: readonly Uint8Array[]): Uint8Array {
  const h = createHmac(ALGORITHMS[key.algorithm].hash, key.secret);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** Message bytes as they were before signing: original id, ARCOUNT - 1, no TSIG RR. */
function strippedMessage(msg: Uint8Array, tsig: TsigRecord): Uint8Array {
  const out = msg.slice(0, tsig.offset);
  out[0] = (tsig.originalId >> 8) & 0xff;
  out[1] = tsig.originalId & 0xff;
  const ar = u16(out, 10) - 1;
  out[10] = (ar >> 8) & 0xff;
  out[11] = ar & 0xff;
  return out;
}

function tsigRR(key: TsigKey, v: Variables, mac: Uint8Array, originalId: number): Uint8Array {
  const rdata = concat([
    nameToWire(v.algorithm),
    time48(v.timeSigned),
    be16(v.fudge),
    be16(mac.length),
    mac,
    be16(originalId),
    be16(v.error),
    be16(v.otherData.length),
    v.otherData,
  ]);
  return concat([
    nameToWire(key.name),
    be16(RRType.TSIG),
    be16(CLASS_ANY),
    new Uint8Array(4),
    be16(rdata.length),
    rdata,
  ]);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function appendRR(msg: Uint8Array, rr: Uint8Array): Uint8Array {
  const out = concat([msg, rr]);
  const ar = u16(out, 10) + 1;
  out[10] = (ar >> 8) & 0xff;
  out[11] = ar & 0xff;
  return out;
}

export interface SignOptions {
  /** Seconds since the epoch. */
  readonly now: number;
  readonly fudge?: number;
  /** The request's MAC, when signing a response (empty for an unsigned error response). */
  readonly requestMac?: Uint8Array;
  /** TSIG error (BADTIME etc.); BADSIG/BADKEY responses are not signed: use unsignedError. */
  readonly error?: number;
  readonly otherData?: Uint8Array;
}

/** Signs one message (a request, or the first/only message of a response). */
export function signMessage(
  msg: Uint8Array,
  key: TsigKey,
  opts: SignOptions,
): { bytes: Uint8Array; mac: Uint8Array } {
  const v: Variables = {
    keyName: key.name,
    algorithm: ALGORITHMS[key.algorithm].name,
    timeSigned: opts.now,
    fudge: opts.fudge ?? DEFAULT_FUDGE,
    error: opts.error ?? 0,
    otherData: opts.otherData ?? new Uint8Array(0),
  };
  const parts: Uint8Array[] = [];
  if (opts.requestMac !== undefined) parts.push(...withLength(opts.requestMac));
  parts.push(msg, ...variablesWire(v));
  const mac = hmac(key, parts);
  return { bytes: appendRR(msg, tsigRR(key, v, mac, u16(msg, 0))), mac };
}

/**
 * Appends an unsigned TSIG RR carrying `error` (BADSIG or BADKEY, RFC 8945 §5.3.2): empty MAC.
 * The key name and algorithm echo the request's.
 */
export function unsignedError(
  msg: Uint8Array,
  request: Pick<TsigRecord, 'keyName' | 'algorithm' | 'timeSigned' | 'fudge'>,
  error: number,
): Uint8Array {
  const v: Variables = {
    keyName: request.keyName,
    algorithm: request.algorithm,
    timeSigned: request.timeSigned,
    fudge: request.fudge,
    error,
    otherData: new Uint8Array(0),
  };
  const fakeKey: TsigKey = { name: request.keyName, algorithm: 'hmac-sha256', secret: new Uint8Array(0) };
  return appendRR(msg, tsigRR(fakeKey, v, new Uint8Array(0), u16(msg, 0)));
}

export type TsigVerdict =
  | { readonly ok: true; readonly tsig: TsigRecord; readonly key: TsigKey }
  | { readonly ok: false; readonly error: number; readonly reason: string; readonly tsig?: TsigRecord };

export interface VerifyOptions {
  readonly now: number;
  readonly requestMac?: Uint8Array;
}

/** BADSIG, BADKEY, BADTIME, BADTRUNC by number (RFC 8945 §3), else the number. */
function tsigErrorName(error: number): string {
  const names: Record<number, string> = { 16: 'BADSIG', 17: 'BADKEY', 18: 'BADTIME', 22: 'BADTRUNC' };
  return names[error] ?? `TSIG error ${error}`;
}

function macMatches(key: TsigKey, got: Uint8Array, want: Uint8Array): boolean {
  const full = ALGORITHMS[key.algorithm].size;
  // RFC 8945 §5.2.2.1: truncated MACs shorter than half the output or 10 octets are BADSIG.
  if (got.length > full || got.length < Math.max(10, full / 2)) return false;
  return timingSafeEqual(got, want.subarray(0, got.length));
}

function timeOk(tsig: TsigRecord, now: number): boolean {
  return Math.abs(now - tsig.timeSigned) <= tsig.fudge;
}

function keyFor(tsig: TsigRecord, keys: ReadonlyMap<Fqdn, TsigKey> | TsigKey): TsigKey | undefined {
  const key = 'secret' in keys ? (keys.name === tsig.keyName ? keys : undefined) : keys.get(tsig.keyName);
  if (key === undefined) return undefined;
  return ALGORITHMS[key.algorithm].name === tsig.algorithm.toLowerCase() ? key : undefined;
}

/**
 * Verifies a single signed message (a request, or the first/only message of a response) with
 * one of `keys`. A message without TSIG gives `{ ok: false, error: 0, reason: 'unsigned' }`.
 */
export function verifyMessage(
  msg: Uint8Array,
  keys: ReadonlyMap<Fqdn, TsigKey> | TsigKey,
  opts: VerifyOptions,
): TsigVerdict {
  const tsig = findTsig(msg);
  if (tsig === undefined) return { ok: false, error: 0, reason: 'unsigned' };
  // A peer that rejected our request answers with its TSIG error and no MAC (RFC 8945 §5.3.2):
  // report that error, not a bad signature.
  // Only for responses (a request MAC to answer to): on a request this would let anyone
  // without the key choose the error the server then signs its reply for.
  if (opts.requestMac !== undefined && tsig.error !== 0 && tsig.mac.length === 0) {
    return { ok: false, error: tsig.error, reason: `the peer refused key ${tsig.keyName}: ${tsigErrorName(tsig.error)}`, tsig };
  }
  const key = keyFor(tsig, keys);
  if (key === undefined) {
    return { ok: false, error: Rcode.BADKEY, reason: `unknown key ${tsig.keyName}`, tsig };
  }
  const parts: Uint8Array[] = [];
  if (opts.requestMac !== undefined) parts.push(...withLength(opts.requestMac));
  parts.push(strippedMessage(msg, tsig), ...variablesWire({ ...tsig, keyName: tsig.keyName }));
  if (!macMatches(key, tsig.mac, hmac(key, parts))) {
    return { ok: false, error: Rcode.BADSIG, reason: `bad signature with key ${key.name}`, tsig };
  }
  if (!timeOk(tsig, opts.now)) {
    return { ok: false, error: Rcode.BADTIME, reason: `time ${tsig.timeSigned} outside fudge`, tsig };
  }
  if (tsig.error !== 0) {
    return { ok: false, error: tsig.error, reason: `peer reports TSIG error ${tsig.error}`, tsig };
  }
  return { ok: true, tsig, key };
}

// ---------------------------------------------------------------------------------------------
// Multi-message transfers (RFC 8945 §5.3.1).

/**
 * Signs the messages of one multi-message response: the first with the request MAC and all
 * variables, every later one with the prior MAC and only the timers. Signing every message is
 * allowed (and what NSD and Knot expect to accept).
 */
export class TsigStreamSigner {
  #prior: Uint8Array | undefined;
  constructor(
    private readonly key: TsigKey,
    private readonly requestMac: Uint8Array,
    private readonly fudge = DEFAULT_FUDGE,
  ) {}

  sign(msg: Uint8Array, now: number): Uint8Array {
    if (this.#prior === undefined) {
      const { bytes, mac } = signMessage(msg, this.key, {
        now,
        fudge: this.fudge,
        requestMac: this.requestMac,
      });
      this.#prior = mac;
      return bytes;
    }
    const v: Variables = {
      keyName: this.key.name,
      algorithm: ALGORITHMS[this.key.algorithm].name,
      timeSigned: now,
      fudge: this.fudge,
      error: 0,
      otherData: new Uint8Array(0),
    };
    const mac = hmac(this.key, [...withLength(this.#prior), msg, time48(now), be16(this.fudge)]);
    this.#prior = mac;
    return appendRR(msg, tsigRR(this.key, v, mac, u16(msg, 0)));
  }
}

export type StreamVerdict =
  | { readonly ok: true; readonly signed: boolean }
  | { readonly ok: false; readonly error: number; readonly reason: string; readonly tsig?: TsigRecord };

/** Most unsigned messages accepted in a row between two signed ones (RFC 8945 §5.3.1: 99). */
export const MAX_UNSIGNED_RUN = 99;

/**
 * Verifies the messages of one multi-message response in order. Unsigned messages are
 * accumulated and covered by the next signed one; the first and last messages must be signed.
 */
export class TsigStreamVerifier {
  #prior: Uint8Array;
  #first = true;
  #pending: Uint8Array[] = [];
  constructor(
    private readonly key: TsigKey,
    requestMac: Uint8Array,
  ) {
    this.#prior = requestMac;
  }

  /** Verifies one message; `signed` tells whether it carried a TSIG. */
  verify(msg: Uint8Array, now: number): StreamVerdict {
    const tsig = findTsig(msg);
    if (tsig === undefined) {
      if (this.#first) return { ok: false, error: 0, reason: 'first message unsigned' };
      this.#pending.push(msg);
      if (this.#pending.length > MAX_UNSIGNED_RUN) {
        return { ok: false, error: Rcode.BADSIG, reason: 'too many unsigned messages' };
      }
      return { ok: true, signed: false };
    }
    const key = keyFor(tsig, this.key);
    if (key === undefined) return { ok: false, error: Rcode.BADKEY, reason: 'key mismatch', tsig };
    const parts: Uint8Array[] = [...withLength(this.#prior), ...this.#pending, strippedMessage(msg, tsig)];
    if (this.#first) parts.push(...variablesWire(tsig));
    else parts.push(time48(tsig.timeSigned), be16(tsig.fudge));
    if (!macMatches(key, tsig.mac, hmac(key, parts))) {
      return { ok: false, error: Rcode.BADSIG, reason: 'bad signature in transfer', tsig };
    }
    if (!timeOk(tsig, now)) return { ok: false, error: Rcode.BADTIME, reason: 'time outside fudge', tsig };
    if (tsig.error !== 0) return { ok: false, error: tsig.error, reason: `TSIG error ${tsig.error}`, tsig };
    this.#first = false;
    this.#pending = [];
    this.#prior = tsig.mac;
    return { ok: true, signed: true };
  }

  /** True when no unsigned messages are waiting for a signed one (the transfer may end). */
  get settled(): boolean {
    return this.#pending.length === 0 && !this.#first;
  }
}
