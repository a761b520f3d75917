// A signed zone as the server's ZoneSource (dns/zone-source.ts). Queries go through
// answerQuery; AXFR yields the signed zone with the SOA first. Updates come as ZoneDiffs and are re-signed incrementally.
import type { Fqdn } from '../name.ts';
import { soaSerial } from '../rdata/soa.ts';
import type { RR } from '../rr.ts';
import { RRType } from '../types.ts';
import type { SourceAnswer, SourceQueryOptions, ZoneSource } from '../zone-source.ts';
import { answerQuery } from './answer.ts';
import type { RRDiff, SignedZone, SignStats } from './signer.ts';

export class SignedZoneSource implements ZoneSource {
  constructor(readonly signed: SignedZone) {}

  get origin(): Fqdn {
    return this.signed.origin;
  }

  get serial(): number {
    return soaSerial(this.soa().rdata);
  }

  soa(): RR {
    const soa = this.signed.rrset(this.signed.origin, RRType.SOA)[0];
    if (soa === undefined) throw new Error(`signed zone ${this.signed.origin} lost its SOA`);
    return soa;
  }

  query(qname: Fqdn, qtype: number, opts: SourceQueryOptions): SourceAnswer {
    return answerQuery(this.signed, qname, qtype, opts.dnssecOk);
  }

  /** Every record of the signed zone, the SOA (and its RRSIGs) first. */
  *records(): Generator<RR> {
    const soa = this.soa();
    yield soa;
    const soaSigs = this.signed.rrsigs(this.signed.origin, RRType.SOA);
    yield* soaSigs;
    for (const rr of this.signed.records()) {
      if (rr.name === soa.name && (rr.type === RRType.SOA || (rr.type === RRType.RRSIG && soaSigs.includes(rr)))) continue;
      yield rr;
    }
  }

  /** Applies a diff of unsigned records (re-signing incrementally). */
  apply(diff: RRDiff, now?: number): SignStats {
    return this.signed.apply(diff, now);
  }
}
