// The seam between the server and the data it serves. The server asks a ZoneSource for the
// sections of an answer and for the records of a transfer; it never looks inside a zone.
// A DNSSEC signer provides its own ZoneSource (same interface) whose `query` adds RRSIGs and
// NSEC records when `dnssecOk` is set and whose `records` yields the signed zone.
import type { Fqdn } from '../name.ts';
import type { RR } from '../rr.ts';
import type { JournalDiff } from './journal.ts';

export interface SourceAnswer {
  /** NOERROR or NXDOMAIN (3). */
  readonly rcode: number;
  /** Authoritative answer (false for referrals). */
  readonly aa: boolean;
  readonly answer: readonly RR[];
  readonly authority: readonly RR[];
  readonly additional: readonly RR[];
}

export interface SourceQueryOptions {
  /** The query had EDNS with DO set: a signed source adds DNSSEC records. */
  readonly dnssecOk: boolean;
}

export interface ZoneSource {
  readonly origin: Fqdn;
  /** Current SOA serial. */
  readonly serial: number;
  /** The apex SOA record. */
  soa(): RR;
  /** RFC 1034 §4.3.2 answer for a name at or below `origin`. */
  query(qname: Fqdn, qtype: number, opts: SourceQueryOptions): SourceAnswer;
  /** Every record of the zone for AXFR, the SOA first (the server appends the closing SOA). */
  records(): Iterable<RR>;
  /** The changes from `serial` to the current serial, or undefined when unknown (→ AXFR). */
  diffsSince?(serial: number): readonly JournalDiff[] | undefined;
}

/** A copy of an SOA RR with another serial (SOA RDATA ends with serial and four timers). */
export function soaWithSerial(soa: RR, serial: number): RR {
  const rdata = soa.rdata.slice();
  const o = rdata.length - 20;
  rdata[o] = (serial >>> 24) & 0xff;
  rdata[o + 1] = (serial >>> 16) & 0xff;
  rdata[o + 2] = (serial >>> 8) & 0xff;
  rdata[o + 3] = serial & 0xff;
  return { ...soa, rdata };
}

/** The serial inside SOA RDATA. */
export function soaSerial(rdata: Uint8Array): number {
  const o = rdata.length - 20;
  if (o < 2) return 0;
  return (
    (rdata[o] as number) * 0x1000000 +
    (((rdata[o + 1] as number) << 16) | ((rdata[o + 2] as number) << 8) | (rdata[o + 3] as number))
  );
}

/** The SOA timers (refresh, retry, expire, minimum) inside SOA RDATA, in seconds. */
export function soaTimers(rdata: Uint8Array): { refresh: number; retry: number; expire: number; minimum: number } {
  const at = (k: number): number => {
    const o = rdata.length - 16 + 4 * k;
    return (
      (rdata[o] as number) * 0x1000000 +
      (((rdata[o + 1] as number) << 16) | ((rdata[o + 2] as number) << 8) | (rdata[o + 3] as number))
    );
  };
  return { refresh: at(0), retry: at(1), expire: at(2), minimum: at(3) };
}
