// A signed zone as the server's ZoneSource (dns/net/zone-source.ts, matched structurally: this
// folder may not import dns/net). Queries go through answerQuery; AXFR yields the signed zone
// with the SOA first. Updates come as ZoneDiffs and are re-signed incrementally.
import type { Fqdn } from '../name.ts';
import type { RR } from '../rr.ts';
import { RRType } from '../types.ts';
import { answerQuery, type DnssecAnswer } from './answer.ts';
import type { RRDiff, SignedZone, SignStats } from './signer.ts';

function serialOf(soa: RR | undefined): number {
  if (soa === undefined) return 0;
  const o = soa.rdata.length - 20;
  return (
    ((soa.rdata[o] ?? 0) * 0x1000000 + (((soa.rdata[o + 1] ?? 0) << 16) | ((soa.rdata[o + 2] ?? 0) << 8) | (soa.rdata[o + 3] ?? 0))) >>> 0
  );
}

export class SignedZoneSource {
  constructor(readonly signed: SignedZone) {}

  get origin(): Fqdn {
    return this.signed.origin;
  }

  get serial(): number {
    return serialOf(this.soa());
  }

  soa(): RR {
    const soa = this.signed.rrset(this.signed.origin, RRType.SOA)[0];
    if (soa === undefined) throw new Error(`signed zone ${this.signed.origin} lost its SOA`);
    return soa;
  }

  query(qname: Fqdn, qtype: number, opts: { readonly dnssecOk: boolean }): DnssecAnswer {
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
