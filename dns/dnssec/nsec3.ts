// NSEC3 (RFC 5155): hashed owner names, NSEC3 and NSEC3PARAM RDATA, and base32hex.
import { createHash } from 'node:crypto';
import { nameToWire, type Fqdn } from '../name.ts';
import { formatBase32Hex, parseBase32Hex } from '../rdata/text.ts';
import { decodeTypeBitmap, encodeTypeBitmap } from './bitmap.ts';
import { DnssecWireError } from './errors.ts';

/** NSEC3 parameters (RFC 9276: iterations 0 and an empty salt are the defaults). */
export interface Nsec3Params {
  readonly iterations: number;
  readonly salt: Uint8Array;
  readonly optOut: boolean;
}

export const DEFAULT_NSEC3: Nsec3Params = { iterations: 0, salt: new Uint8Array(0), optOut: false };

/** RFC 5155 §5: IH(salt, x, k), SHA-1 only (hash algorithm 1). */
export function nsec3Hash(name: Fqdn, iterations: number, salt: Uint8Array): Uint8Array {
  let h: Uint8Array = createHash('sha1').update(nameToWire(name)).update(salt).digest();
  for (let i = 0; i < iterations; i++) h = createHash('sha1').update(h).update(salt).digest();
  return h;
}

/** NSEC3 owner label: base32hex (dns/rdata/text.ts) in lower case, as owner names are. */
export function base32hex(b: Uint8Array): string {
  return formatBase32Hex(b).toLowerCase();
}

/** Decodes base32hex (either case, no padding). */
export function fromBase32hex(s: string): Uint8Array {
  try {
    return parseBase32Hex(s);
  } catch (err) {
    throw new DnssecWireError(`bad base32hex "${s}"`, { cause: err });
  }
}

export interface Nsec3Fields {
  readonly hashAlgorithm: number;
  readonly flags: number;
  readonly iterations: number;
  readonly salt: Uint8Array;
  readonly nextHashed: Uint8Array;
  readonly types: readonly number[];
}

export function encodeNsec3(f: Nsec3Fields): Uint8Array {
  const bm = encodeTypeBitmap(f.types);
  const out = new Uint8Array(6 + f.salt.length + f.nextHashed.length + bm.length);
  out[0] = f.hashAlgorithm;
  out[1] = f.flags;
  out[2] = f.iterations >> 8;
  out[3] = f.iterations & 0xff;
  out[4] = f.salt.length;
  out.set(f.salt, 5);
  let o = 5 + f.salt.length;
  out[o++] = f.nextHashed.length;
  out.set(f.nextHashed, o);
  out.set(bm, o + f.nextHashed.length);
  return out;
}

export function decodeNsec3(rdata: Uint8Array): Nsec3Fields {
  const saltLen = rdata[4];
  if (saltLen === undefined) throw new DnssecWireError('NSEC3 RDATA too short');
  const hashLen = rdata[5 + saltLen];
  if (hashLen === undefined || 6 + saltLen + hashLen > rdata.length) {
    throw new DnssecWireError('NSEC3 RDATA too short');
  }
  return {
    hashAlgorithm: rdata[0] as number,
    flags: rdata[1] as number,
    iterations: ((rdata[2] as number) << 8) | (rdata[3] as number),
    salt: rdata.subarray(5, 5 + saltLen),
    nextHashed: rdata.subarray(6 + saltLen, 6 + saltLen + hashLen),
    types: decodeTypeBitmap(rdata.subarray(6 + saltLen + hashLen)),
  };
}

/** NSEC3PARAM RDATA: hash algorithm 1, flags 0 (RFC 5155 §4.1.2), iterations, salt. */
export function encodeNsec3Param(p: Nsec3Params): Uint8Array {
  const out = new Uint8Array(5 + p.salt.length);
  out[0] = 1;
  out[1] = 0;
  out[2] = p.iterations >> 8;
  out[3] = p.iterations & 0xff;
  out[4] = p.salt.length;
  out.set(p.salt, 5);
  return out;
}
