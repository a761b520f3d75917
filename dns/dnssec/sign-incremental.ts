// Incremental signing: a diff of unsigned records re-signs only the RRsets it touches and
// repairs the denial chain around the names whose existence, status or type set changed.
import { isSubdomain, type Fqdn } from '../name.ts';
import { RRType, typeToString } from '../types.ts';
import { SignError } from './errors.ts';
import { nameSortKey, parentOf as parentName } from './namekeys.ts';
import { withChanges } from './signed-changes.ts';
import { bytesEqual, lowerBound, nodeKey, STRIPPED, type Node, type RRDiff, type SignChanges, type SignIndex, type SignStats } from './signed-index.ts';
import { denialTouched, repairDenial, retime, setDenialTtl } from './zone-nsec.ts';
import { prepareSet, runJobs, type Job, type JobSink } from './zone-sign.ts';

/** A name's status and sorted types, to see whether a change moved them ('-': absent). */
function shape(n: Node | undefined): string {
  return n === undefined ? '-' : `${n.status}:${[...n.sets.keys()].sort((a, b) => a - b).join(',')}`;
}

/**
 * Applies a diff of unsigned records and re-signs what it touches: the changed RRsets, the
 * NSEC/NSEC3 records of names whose existence or type set changed and of their chain
 * predecessors. Returns the work done.
 */
export function applySigned(s: SignIndex, diff: RRDiff, now: number): SignStats {
  s.now = now;
  const before = { ...s.stats };
  const denialTtlBefore = s.denialTtl;
  const soaTtlBefore = s.apexSoaTtl();
  const touched = new Map<Fqdn, Set<number>>();
  const mark = (name: Fqdn, type: number): void => {
    let t = touched.get(name);
    if (t === undefined) touched.set(name, (t = new Set()));
    t.add(type);
  };
  const typesBefore = new Map<Fqdn, string>();
  const snapshot = (name: Fqdn): void => {
    if (typesBefore.has(name)) return;
    typesBefore.set(name, shape(s.byName.get(name)));
  };
  for (const rr of [...diff.removed, ...diff.added]) {
    if (!isSubdomain(rr.name, s.origin)) {
      throw new SignError(`record outside the zone ${s.origin}: ${rr.name} ${typeToString(rr.type)}`);
    }
  }
  const newNodes: Node[] = [];
  for (const rr of diff.removed) {
    if (STRIPPED.has(rr.type)) continue;
    const n = s.byName.get(rr.name);
    const set = n?.sets.get(rr.type);
    if (n === undefined || set === undefined) continue;
    if (rr.type === RRType.DNSKEY && rr.name === s.origin && s.keys.some((k) => bytesEqual(k.dnskey, rr.rdata))) {
      continue; // our own keys stay published while we sign with them
    }
    snapshot(n.name);
    const rdata = s.canon(rr.type, rr.rdata);
    const i = set.rdatas.findIndex((r) => bytesEqual(r, rdata));
    if (i < 0) continue;
    set.rdatas.splice(i, 1);
    if (set.rdatas.length === 0) n.sets.delete(rr.type);
    mark(n.name, rr.type);
  }
  for (const rr of diff.added) {
    if (STRIPPED.has(rr.type)) continue;
    if (rr.type === RRType.DNSKEY && rr.name === s.origin) s.checkForeign(rr.rdata);
    snapshot(rr.name);
    let p: Fqdn | undefined = rr.name;
    while (p !== undefined && !s.byName.has(p)) {
      snapshot(p);
      p = p === s.origin ? undefined : parentName(p);
    }
    const n = s.ensureNode(rr.name, newNodes);
    const set = n.sets.get(rr.type);
    const ttlChanged = set !== undefined && set.ttl !== rr.ttl;
    if (s.addRR(rr) || ttlChanged) mark(n.name, rr.type);
    if (rr.type === RRType.SOA) setDenialTtl(s, rr);
  }
  if (touched.size === 0) return { signatures: 0, rrsets: 0 };
  for (const n of newNodes) {
    const i = lowerBound(s.sorted, n.key, nodeKey);
    if (s.sorted[i] !== n) s.sorted.splice(i, 0, n);
  }
  // Remove names that have neither data nor descendants (walking up through ENTs).
  const removedNodes: Node[] = [];
  for (const name of touched.keys()) {
    let n = s.byName.get(name);
    while (n !== undefined && n.sets.size === 0 && n.name !== s.origin && !s.hasDescendant(n)) {
      const i = lowerBound(s.sorted, n.key, nodeKey);
      s.sorted.splice(i, 1);
      s.byName.delete(n.name);
      removedNodes.push(n);
      const p = parentName(n.name) as Fqdn;
      snapshot(p);
      n = s.byName.get(p);
    }
  }
  // Status: a changed NS or DNAME can move the whole subtree below it.
  const jobs: Job[] = [];
  const sink: JobSink = (j) => jobs.push(j);
  const statusChanged: Node[] = [];
  const restatus = (n: Node): void => {
    const st = s.computeStatus(n);
    if (st !== n.status) {
      n.status = st;
      statusChanged.push(n);
    }
  };
  const sortedTouched = [...touched.keys()]
    .map((name) => s.byName.get(name))
    .filter((n): n is Node => n !== undefined)
    .sort((a, b) => (a.key < b.key ? -1 : 1));
  for (const n of [...sortedTouched, ...newNodes].sort((a, b) => (a.key < b.key ? -1 : 1))) {
    restatus(n);
    const types = touched.get(n.name);
    if (types !== undefined && (types.has(RRType.NS) || types.has(RRType.DNAME))) {
      for (let i = lowerBound(s.sorted, n.key, nodeKey) + 1; i < s.sorted.length; i++) {
        const d = s.sorted[i] as Node;
        if (!isSubdomain(d.name, n.name)) break;
        restatus(d);
      }
    }
  }
  // Signatures.
  for (const n of statusChanged) {
    n.sigs.forEach((_v, type) => {
      if (type !== RRType.NSEC) n.sigs.delete(type);
    });
    for (const type of n.sets.keys()) if (s.isSigned(n, type)) prepareSet(s, n, type, sink);
  }
  for (const [name, types] of touched) {
    const n = s.byName.get(name);
    if (n === undefined || statusChanged.includes(n)) continue;
    for (const type of types) {
      if (n.sets.has(type) && s.isSigned(n, type)) prepareSet(s, n, type, sink);
      else n.sigs.delete(type);
    }
  }
  // Denial chain around names whose existence, status or type set changed.
  const changed: { key: string; node: Node | undefined; hash: string | undefined }[] = [];
  for (const [name, was] of typesBefore) {
    const n = s.byName.get(name);
    if (shape(n) !== was) changed.push({ key: n?.key ?? nameSortKey(name), node: n, hash: n?.hash });
  }
  for (const n of removedNodes) changed.push({ key: n.key, node: undefined, hash: n.hash });
  for (const n of statusChanged) changed.push({ key: n.key, node: n, hash: n.hash });
  repairDenial(s, changed, removedNodes, sink);
  retime(s, denialTtlBefore, soaTtlBefore, sink);
  runJobs(s, jobs);
  return { signatures: s.stats.signatures - before.signatures, rrsets: s.stats.rrsets - before.rrsets };
}

/**
 * applySigned() that also returns the signed records it removed and added (SOA and its RRSIGs
 * included), for an IXFR journal. The owners that can change are collected before the change
 * (the names in the diff, their ancestors, the subtree under a changed NS or DNAME, and their
 * chain predecessors), read before and after, and compared.
 */
export function applySignedWithChanges(s: SignIndex, diff: RRDiff, now: number): SignChanges {
  const names = new Set<Fqdn>([s.origin]);
  for (const rr of [...diff.removed, ...diff.added]) {
    let n: Fqdn | undefined = rr.name;
    while (n !== undefined && isSubdomain(n, s.origin)) {
      names.add(n);
      n = n === s.origin ? undefined : parentName(n);
    }
    const node = s.byName.get(rr.name);
    if (node !== undefined && (rr.type === RRType.NS || rr.type === RRType.DNAME)) {
      for (let i = lowerBound(s.sorted, node.key, nodeKey) + 1; i < s.sorted.length; i++) {
        const d = s.sorted[i] as Node;
        if (!isSubdomain(d.name, node.name)) break;
        names.add(d.name);
      }
    }
  }
  const owners = new Set<Fqdn>(names);
  const labels = new Set<string>();
  denialTouched(s, diff, names, owners, labels);
  return withChanges(s, owners, labels, () => applySigned(s, diff, now));
}
