// The NSEC3 chain (RFC 5155): the hashes of every authoritative name, empty non-terminal and
// (without opt-out, or with a DS) delegation, in hash order, each NSEC3 pointing to the next
// hash. Built after every name is known (sign-zone.ts), repaired around changed names
// (sign-incremental.ts), and searched for the proofs of answers (nsec3For).
import type { Fqdn } from '../name.ts';
import type { RR } from '../rr.ts';
import { RRType } from '../types.ts';
import { ownerWire } from './namekeys.ts';
import { base32hex, encodeNsec3, nsec3Hash, type Nsec3Params } from './nsec3.ts';
import { bytesEqual, lowerBound, n3Key, type Node, type Nsec3Node, type SignIndex } from './signed-index.ts';
import { prepareRecord, type JobSink } from './zone-sign.ts';

/** Names with an NSEC3: data, ENTs, and delegations unless opt-out leaves an unsigned one out. */
function inNsec3Chain(s: SignIndex, n: Node): boolean {
  if (n.status === 'auth' || n.status === 'ent') return true;
  if (n.status !== 'cut') return false;
  return !(s.denial.kind === 'nsec3' && s.denial.optOut && !n.sets.has(RRType.DS));
}

function nsec3Params(s: SignIndex): Nsec3Params {
  return s.denial.kind === 'nsec3' ? s.denial : { iterations: 0, salt: new Uint8Array(0), optOut: false };
}

/** The base32hex label of the NSEC3 hash of `name`. */
export function nsec3Label(s: SignIndex, name: Fqdn): string {
  const p = nsec3Params(s);
  return base32hex(nsec3Hash(name, p.iterations, p.salt));
}

/** The chain member before `label` in hash order (cyclic); undefined for an empty chain. */
export function nsec3Prev(s: SignIndex, label: string): Nsec3Node | undefined {
  const sorted = s.n3Sorted;
  if (sorted.length === 0) return undefined;
  const i = lowerBound(sorted, label, n3Key);
  return sorted[(i - 1 + sorted.length) % sorted.length];
}

function nsec3Types(n: Node): number[] {
  if (n.status === 'ent') return [];
  if (n.status === 'cut') return n.sets.has(RRType.DS) ? [RRType.NS, RRType.DS, RRType.RRSIG] : [RRType.NS];
  return [...n.sets.keys(), RRType.RRSIG];
}

function makeNsec3Node(s: SignIndex, n: Node): Nsec3Node {
  const p = nsec3Params(s);
  const hash = nsec3Hash(n.name, p.iterations, p.salt);
  const label = base32hex(hash);
  const owner = `${label}.${s.origin === '.' ? '' : s.origin}` as Fqdn;
  n.hash = label;
  return { label, owner, hash, node: n, sigs: [] };
}

function nsec3Record(s: SignIndex, x: Nsec3Node, next: Nsec3Node): RR {
  const p = nsec3Params(s);
  const rdata = encodeNsec3({
    hashAlgorithm: 1,
    flags: p.optOut ? 1 : 0,
    iterations: p.iterations,
    salt: p.salt,
    nextHashed: next.hash,
    types: nsec3Types(x.node),
  });
  return { name: x.owner, type: RRType.NSEC3, class: 1, ttl: s.denialTtl, rdata };
}

/** Builds and signs the whole chain (full signing, after every name's status is known). */
export function buildNsec3Chain(s: SignIndex, sink: JobSink): void {
  for (const n of s.sorted) {
    if (!inNsec3Chain(s, n)) continue;
    const x = makeNsec3Node(s, n);
    s.n3ByLabel.set(x.label, x);
  }
  s.n3Sorted = [...s.n3ByLabel.values()].sort((a, b) => (a.label < b.label ? -1 : 1));
  const sorted = s.n3Sorted;
  sorted.forEach((x, i) => {
    x.rr = nsec3Record(s, x, sorted[(i + 1) % sorted.length] as Nsec3Node);
    prepareRecord(s, x.rr, ownerWire(x.owner), x.sigs, sink);
  });
}

/** Re-computes the NSEC3 of `x`; signs it when its RDATA or TTL changed. */
export function repairNsec3(s: SignIndex, x: Nsec3Node, sink: JobSink): void {
  const i = lowerBound(s.n3Sorted, x.label, n3Key);
  const next = s.n3Sorted[(i + 1) % s.n3Sorted.length] as Nsec3Node;
  const rr = nsec3Record(s, x, next);
  if (x.rr !== undefined && bytesEqual(x.rr.rdata, rr.rdata) && x.rr.ttl === rr.ttl) return;
  x.rr = rr;
  prepareRecord(s, rr, ownerWire(x.owner), x.sigs, sink);
}

/**
 * Takes removed names out of the chain, adds names that joined it, drops those that left it,
 * and repairs the NSEC3 of each changed name and of its predecessor in hash order.
 */
export function repairNsec3Chain(
  s: SignIndex,
  changed: readonly { key: string; node: Node | undefined }[],
  removedNodes: readonly Node[],
  sink: JobSink,
): void {
  const redo = new Set<Nsec3Node>();
  const drop = (label: string): void => {
    const x = s.n3ByLabel.get(label);
    if (x === undefined) return;
    s.n3ByLabel.delete(label);
    const i = lowerBound(s.n3Sorted, label, n3Key);
    s.n3Sorted.splice(i, 1);
    redo.delete(x);
    const p = nsec3Prev(s, label);
    if (p !== undefined) redo.add(p);
  };
  for (const n of removedNodes) if (n.hash !== undefined) drop(n.hash);
  for (const c of changed) {
    const n = c.node;
    if (n === undefined || s.byName.get(n.name) !== n) continue;
    if (!inNsec3Chain(s, n)) {
      if (n.hash !== undefined) drop(n.hash);
      delete n.hash;
      continue;
    }
    let x = n.hash !== undefined ? s.n3ByLabel.get(n.hash) : undefined;
    if (x === undefined) {
      x = makeNsec3Node(s, n);
      s.n3ByLabel.set(x.label, x);
      const i = lowerBound(s.n3Sorted, x.label, n3Key);
      s.n3Sorted.splice(i, 0, x);
      const p = nsec3Prev(s, x.label);
      if (p !== undefined) redo.add(p);
    }
    redo.add(x);
  }
  for (const x of redo) repairNsec3(s, x, sink);
}

/** NSEC3 record matching (`match`) or covering the hash of `name`. */
export function nsec3For(s: SignIndex, name: Fqdn): { rr: RR; match: boolean } | undefined {
  if (s.n3Sorted.length === 0) return undefined;
  const label = nsec3Label(s, name);
  const exact = s.n3ByLabel.get(label);
  if (exact?.rr !== undefined) return { rr: exact.rr, match: true };
  const prev = nsec3Prev(s, label) as Nsec3Node;
  return prev.rr === undefined ? undefined : { rr: prev.rr, match: false };
}
