// The NSEC chain (RFC 4034 §4): every authoritative name and every zone cut, in canonical
// order, each with an NSEC to the next and the types at the name. Built name by name during
// full signing (sign-zone.ts) and repaired around changed names (sign-incremental.ts).
import type { RR } from '../rr.ts';
import { RRType } from '../types.ts';
import { encodeNsec } from './nsec.ts';
import { bytesEqual, lowerBound, nodeKey, type Node, type SignIndex } from './signed-index.ts';
import { prepareRecord, type JobSink } from './zone-sign.ts';

/** Names in the NSEC chain: authoritative data and delegations (not ENTs or occluded names). */
export function inChain(n: Node): boolean {
  return n.status === 'auth' || n.status === 'cut';
}

function nsecTypes(n: Node): number[] {
  if (n.status === 'cut') {
    // The NSEC's own RRSIG lives at the cut, so RRSIG is always listed.
    const t: number[] = [RRType.NS, RRType.RRSIG, RRType.NSEC];
    if (n.sets.has(RRType.DS)) t.push(RRType.DS);
    return t;
  }
  return [...n.sets.keys(), RRType.RRSIG, RRType.NSEC];
}

function nsecFor(s: SignIndex, n: Node, next: Node): RR {
  return { name: n.name, type: RRType.NSEC, class: 1, ttl: s.denialTtl, rdata: encodeNsec(next.name, nsecTypes(n)) };
}

function setNsec(s: SignIndex, n: Node, rr: RR, sink: JobSink): void {
  n.nsec = rr;
  const target: RR[] = [];
  n.sigs.set(RRType.NSEC, target);
  prepareRecord(s, rr, s.wireOf(n), target, sink);
}

/** Gives `n` its NSEC pointing to `next` and signs it (full signing). */
export function signNsec(s: SignIndex, n: Node, next: Node, sink: JobSink): void {
  setNsec(s, n, nsecFor(s, n, next), sink);
}

/** Re-computes the NSEC of `n`; signs it when its RDATA or TTL changed. */
export function repairNsec(s: SignIndex, n: Node, sink: JobSink): void {
  if (!inChain(n)) {
    if (n.nsec !== undefined) {
      delete n.nsec;
      n.sigs.delete(RRType.NSEC);
    }
    return;
  }
  const rr = nsecFor(s, n, chainNext(s, n));
  if (n.nsec !== undefined && bytesEqual(n.nsec.rdata, rr.rdata) && n.nsec.ttl === rr.ttl) return;
  setNsec(s, n, rr, sink);
}

function chainNext(s: SignIndex, n: Node): Node {
  const sorted = s.sorted;
  const i = lowerBound(sorted, n.key, nodeKey);
  for (let k = 1; k <= sorted.length; k++) {
    const c = sorted[(i + k) % sorted.length] as Node;
    if (inChain(c)) return c;
  }
  return n;
}

/** The chain member before the sort key `key` (the NSEC that covers a name there). */
export function chainPrev(s: SignIndex, key: string): Node | undefined {
  const sorted = s.sorted;
  const i = lowerBound(sorted, key, nodeKey);
  for (let k = 1; k <= sorted.length; k++) {
    const c = sorted[(i - k + sorted.length * 2) % sorted.length] as Node;
    if (inChain(c) && c.key !== key) return c;
  }
  return undefined;
}

/** Repairs the NSECs of changed names (those still present) and of their chain predecessors. */
export function repairNsecChain(s: SignIndex, changed: readonly { key: string; node: Node | undefined }[], sink: JobSink): void {
  const redo = new Set<Node>();
  for (const c of changed) {
    if (c.node !== undefined && s.byName.get(c.node.name) === c.node) redo.add(c.node);
    const prev = chainPrev(s, c.key);
    if (prev !== undefined) redo.add(prev);
  }
  for (const n of redo) repairNsec(s, n, sink);
}
