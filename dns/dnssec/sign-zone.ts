// Full signing: reads the unsigned records into the index, adds the apex records the signer
// owns (DNSKEY RRset, NSEC3PARAM), works out each name's status, and prepares every signature
// in output order (each name's RRsets, then its NSEC, name by name; the NSEC3 records after
// every name), handing each to a sink.
import { isSubdomain } from '../name.ts';
import type { RR } from '../rr.ts';
import { RRType, typeToString } from '../types.ts';
import { SignError } from './errors.ts';
import { inChain, signNsec } from './nsec-chain.ts';
import { buildNsec3Chain } from './nsec3-chain.ts';
import { encodeNsec3Param } from './nsec3.ts';
import { bytesEqual, SignIndex, STRIPPED, type Node, type RRset, type SignerConfig } from './signed-index.ts';
import { setDenialTtl } from './zone-nsec.ts';
import { prepareSet, signNow, type JobSink } from './zone-sign.ts';

/**
 * Fills `s` from `records` and prepares every signature into `sink`, in output order.
 * `progress` hears how many output sections (SignIndex.sectionRecords) are complete.
 */
export function buildSigned(s: SignIndex, records: readonly RR[], now: number, sink: JobSink, progress?: (sections: number) => void): void {
  s.now = now;
  let soa: RR | undefined;
  for (const rr of records) {
    if (!isSubdomain(rr.name, s.origin)) {
      throw new SignError(`record outside the zone ${s.origin}: ${rr.name} ${typeToString(rr.type)}`);
    }
    if (STRIPPED.has(rr.type)) continue;
    if (rr.type === RRType.SOA) {
      if (rr.name !== s.origin) {
        throw new SignError(`SOA record at ${rr.name} is not at the zone apex ${s.origin}`);
      }
      soa = rr;
    }
    if (rr.type === RRType.DNSKEY && rr.name === s.origin) s.checkForeign(rr.rdata);
    s.addRR(rr);
  }
  if (soa === undefined) throw new SignError(`zone ${s.origin} has no SOA record at its apex`);
  setDenialTtl(s, soa);
  installApexRecords(s, soa);
  s.sorted = [...s.byName.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const n of s.sorted) n.status = s.computeStatus(n);
  const chain = s.denial.kind === 'nsec' ? s.sorted.filter(inChain) : [];
  let c = 0;
  for (let i = 0; i < s.sorted.length; i++) {
    const n = s.sorted[i] as Node;
    for (const type of n.sets.keys()) {
      if (s.isSigned(n, type)) prepareSet(s, n, type, sink);
    }
    if (chain[c] === n) {
      c++;
      signNsec(s, n, chain[c % chain.length] as Node, sink);
    }
    progress?.(i + 1);
  }
  if (s.denial.kind === 'nsec3') buildNsec3Chain(s, sink);
  progress?.(s.sorted.length + 1);
}

/** The DNSKEY RRset (own keys and foreign DNSKEYs added to any in the zone) and NSEC3PARAM. */
function installApexRecords(s: SignIndex, soa: RR): void {
  const apex = s.byName.get(s.origin) as Node;
  const existing = apex.sets.get(RRType.DNSKEY);
  const set: RRset = existing ?? { ttl: soa.ttl, klass: soa.class, rdatas: [] };
  s.dnskeyTtlFromSoa = existing === undefined;
  for (const dk of [...s.keys.map((k) => k.dnskey), ...s.foreign]) {
    if (!set.rdatas.some((r) => bytesEqual(r, dk))) set.rdatas.push(dk);
  }
  apex.sets.set(RRType.DNSKEY, set);
  if (s.denial.kind === 'nsec3') {
    apex.sets.set(RRType.NSEC3PARAM, { ttl: s.denialTtl, klass: soa.class, rdatas: [encodeNsec3Param(s.denial)] });
  }
}

/** Signs a zone in this thread, each RRset as it is prepared (nothing piles up for the GC). */
export function signZone(records: readonly RR[], cfg: SignerConfig, now: number): SignIndex {
  const s = new SignIndex(cfg);
  buildSigned(s, records, now, signNow(s));
  return s;
}
