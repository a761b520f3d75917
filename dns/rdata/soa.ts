// The SOA fields (RFC 1035 §3.3.13): the one place that reads or sets them in SOA RDATA, like
// Knot's libknot/rrtype/soa.h. SOA RDATA is MNAME, RNAME, then five 32-bit fields (SERIAL,
// REFRESH, RETRY, EXPIRE, MINIMUM) that end the RDATA, so each is found from the end.
//
// RDATA too short to hold two names (at least the root, one octet each) and the five fields
// (22 octets) is a WireError. Decoded messages and parsed zone files never produce it (both
// check SOA RDATA against dns/rdata's table); only hand-built RDATA can.
import { WireError } from '../errors.ts';

/** Octets of the five 32-bit fields that end SOA RDATA. */
const FIELDS = 20;
/** The shortest SOA RDATA: two root names and the five fields. */
const MIN_LENGTH = 2 + FIELDS;

/** Offset of the serial; throws WireError when `rdata` is too short to be SOA RDATA. */
function serialAt(rdata: Uint8Array): number {
  if (rdata.length < MIN_LENGTH) {
    throw new WireError(`SOA RDATA of ${rdata.length} octets, need at least ${MIN_LENGTH}`, 0);
  }
  return rdata.length - FIELDS;
}

function u32At(rdata: Uint8Array, o: number): number {
  return (
    (rdata[o] as number) * 0x1000000 +
    (((rdata[o + 1] as number) << 16) | ((rdata[o + 2] as number) << 8) | (rdata[o + 3] as number))
  );
}

/** The SERIAL field. */
export function soaSerial(rdata: Uint8Array): number {
  return u32At(rdata, serialAt(rdata));
}

/** The MINIMUM field (RFC 2308: the negative-caching TTL). */
export function soaMinimum(rdata: Uint8Array): number {
  return u32At(rdata, serialAt(rdata) + 16);
}

/** The SOA timers in seconds. */
export interface SoaTimers {
  readonly refresh: number;
  readonly retry: number;
  readonly expire: number;
  readonly minimum: number;
}

/** REFRESH, RETRY, EXPIRE and MINIMUM. */
export function soaTimers(rdata: Uint8Array): SoaTimers {
  const o = serialAt(rdata);
  return { refresh: u32At(rdata, o + 4), retry: u32At(rdata, o + 8), expire: u32At(rdata, o + 12), minimum: u32At(rdata, o + 16) };
}

/** A copy of SOA RDATA with another serial (taken modulo 2^32). */
export function soaRdataWithSerial(rdata: Uint8Array, serial: number): Uint8Array {
  const o = serialAt(rdata);
  const out = rdata.slice();
  out[o] = (serial >>> 24) & 0xff;
  out[o + 1] = (serial >>> 16) & 0xff;
  out[o + 2] = (serial >>> 8) & 0xff;
  out[o + 3] = serial & 0xff;
  return out;
}

/** A copy of an SOA record with another serial. */
export function soaWithSerial<R extends { readonly rdata: Uint8Array }>(soa: R, serial: number): R {
  return { ...soa, rdata: soaRdataWithSerial(soa.rdata, serial) };
}
