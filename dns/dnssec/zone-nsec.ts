// Authenticated denial, whichever kind the zone uses (NSEC or NSEC3): its TTL, the repair of
// the chain after a change, the re-timing when a new SOA moves TTLs, and which denial records
// a change can touch. The chains themselves are nsec-chain.ts and nsec3-chain.ts.
import type { Fqdn } from '../name.ts';
import type { RR } from '../rr.ts';
import { RRType } from '../types.ts';
import { negativeTtl } from '../zone-lookup.ts';
import { nameSortKey } from './namekeys.ts';
import { chainPrev, repairNsec, repairNsecChain } from './nsec-chain.ts';
import { nsec3Label, nsec3Prev, repairNsec3, repairNsec3Chain } from './nsec3-chain.ts';
import type { Node, RRDiff, SignIndex } from './signed-index.ts';
import { prepareSet, type JobSink } from './zone-sign.ts';

/** RFC 9077: the denial TTL is the lesser of the SOA TTL and MINIMUM (RFC 2308's negative TTL). */
export function setDenialTtl(s: SignIndex, soa: RR): void {
  s.denialTtl = negativeTtl(soa.ttl, soa.rdata);
}

/** Repairs the chain around names whose existence, status or type set changed. */
export function repairDenial(
  s: SignIndex,
  changed: readonly { key: string; node: Node | undefined }[],
  removedNodes: readonly Node[],
  sink: JobSink,
): void {
  if (s.denial.kind === 'nsec') repairNsecChain(s, changed, sink);
  else repairNsec3Chain(s, changed, removedNodes, sink);
}

/**
 * After a new SOA: TTLs derived from it follow, as a fresh signing would have them. The denial
 * TTL (RFC 9077: min(SOA TTL, MINIMUM)) of every NSEC or NSEC3 and of NSEC3PARAM, and the
 * DNSKEY RRset's TTL when it takes the SOA TTL; each is re-signed (RRSIGs carry the TTL).
 */
export function retime(s: SignIndex, denialTtlBefore: number, soaTtlBefore: number | undefined, sink: JobSink): void {
  const apex = s.byName.get(s.origin) as Node;
  if (s.denialTtl !== denialTtlBefore) {
    if (s.denial.kind === 'nsec') for (const n of s.sorted) repairNsec(s, n, sink);
    else {
      for (const x of s.n3Sorted) repairNsec3(s, x, sink);
      const param = apex.sets.get(RRType.NSEC3PARAM);
      if (param !== undefined) {
        param.ttl = s.denialTtl;
        prepareSet(s, apex, RRType.NSEC3PARAM, sink);
      }
    }
  }
  const soaTtl = s.apexSoaTtl();
  const dnskey = apex.sets.get(RRType.DNSKEY);
  if (s.dnskeyTtlFromSoa && soaTtl !== undefined && soaTtl !== soaTtlBefore && dnskey !== undefined && dnskey.ttl !== soaTtl) {
    dnskey.ttl = soaTtl;
    prepareSet(s, apex, RRType.DNSKEY, sink);
  }
}

/**
 * True when `diff` brings an SOA that moves the denial TTL, so every NSEC or NSEC3 changes
 * (see retime; a DNSKEY re-timed with the SOA TTL is at the apex, read anyway).
 */
function retimesDenial(s: SignIndex, diff: RRDiff): boolean {
  const soa = diff.added.find((r) => r.type === RRType.SOA && r.name === s.origin);
  return soa !== undefined && negativeTtl(soa.ttl, soa.rdata) !== s.denialTtl;
}

/**
 * The denial records `diff` can change, given the owners it can change (`names`): NSEC owners
 * go into `owners`, NSEC3 hash labels into `labels`. Each name's chain predecessor, or every
 * denial record when the diff re-times them.
 */
export function denialTouched(s: SignIndex, diff: RRDiff, names: ReadonlySet<Fqdn>, owners: Set<Fqdn>, labels: Set<string>): void {
  if (retimesDenial(s, diff)) {
    // Every denial record changes TTL: read all of them (NSEC at every owner, or every NSEC3).
    if (s.denial.kind === 'nsec') for (const n of s.sorted) owners.add(n.name);
    else for (const x of s.n3Sorted) labels.add(x.label);
  } else if (s.denial.kind === 'nsec') {
    for (const n of names) {
      const prev = chainPrev(s, nameSortKey(n));
      if (prev !== undefined) owners.add(prev.name);
    }
  } else {
    for (const n of names) {
      const label = nsec3Label(s, n);
      labels.add(label);
      const prev = nsec3Prev(s, label);
      if (prev !== undefined) labels.add(prev.label);
    }
  }
}
