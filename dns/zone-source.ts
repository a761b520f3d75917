// The seam between the server and the data it serves. The server (dns/net/server.ts) asks a
// ZoneSource for the sections of an answer and for the records of a transfer; it never looks
// inside a zone. An unsigned zone (dns/net/primary.ts) and a signed one
// (dns/dnssec/source.ts) both implement it; a signed source's `query` adds RRSIGs and NSEC
// records when `dnssecOk` is set and its `records` yields the signed zone. Pure: types only.
import type { Fqdn } from './name.ts';
import type { RR } from './rr.ts';
import type { ZoneDiff } from './zone.ts';

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
  diffsSince?(serial: number): readonly ZoneDiff[] | undefined;
}
