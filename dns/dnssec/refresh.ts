// Re-signing before expiry: every RRset (NSEC and NSEC3 records included) with a signature
// that expires within the refresh window gets new signatures.
import type { Fqdn } from '../name.ts';
import type { RR } from '../rr.ts';
import { RRType } from '../types.ts';
import { ownerWire } from './namekeys.ts';
import { decodeRrsig } from './rrsig.ts';
import { withChanges } from './signed-changes.ts';
import type { SignChanges, SignIndex, SignStats } from './signed-index.ts';
import { prepareRecord, prepareSet, runJobs, type Job, type JobSink } from './zone-sign.ts';

function isDue(s: SignIndex, sigs: readonly RR[], now: number): boolean {
  return sigs.some((sig) => ((decodeRrsig(sig.rdata).expiration - now) | 0) < s.refreshWithin);
}

/** Re-signs every RRset with a signature that expires within the refresh window. */
export function refresh(s: SignIndex, now: number): SignStats {
  s.now = now;
  const before = { ...s.stats };
  const jobs: Job[] = [];
  const sink: JobSink = (j) => jobs.push(j);
  for (const n of s.sorted) {
    for (const [type, sigs] of n.sigs) {
      if (!isDue(s, sigs, now)) continue;
      if (type === RRType.NSEC) {
        if (n.nsec !== undefined) prepareRecord(s, n.nsec, s.wireOf(n), sigs, sink);
      } else if (n.sets.has(type)) prepareSet(s, n, type, sink);
    }
  }
  for (const x of s.n3Sorted) {
    if (x.rr !== undefined && isDue(s, x.sigs, now)) prepareRecord(s, x.rr, ownerWire(x.owner), x.sigs, sink);
  }
  runJobs(s, jobs);
  return { signatures: s.stats.signatures - before.signatures, rrsets: s.stats.rrsets - before.rrsets };
}

/** refresh() that also returns the signed records it replaced (for an IXFR journal). */
export function refreshWithChanges(s: SignIndex, now: number): SignChanges {
  const owners = new Set<Fqdn>();
  const labels = new Set<string>();
  for (const n of s.sorted) {
    for (const sigs of n.sigs.values()) if (isDue(s, sigs, now)) owners.add(n.name);
  }
  for (const x of s.n3Sorted) if (isDue(s, x.sigs, now)) labels.add(x.label);
  return withChanges(s, owners, labels, () => refresh(s, now));
}
