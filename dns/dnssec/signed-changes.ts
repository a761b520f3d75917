// What a change did to the signed zone, as records: the signed records it removed and added at
// the owners (and NSEC3 hash labels) it could touch, read before and after. For an IXFR
// journal (dns/net/inline-signed.ts).
import type { Fqdn } from '../name.ts';
import type { RR } from '../rr.ts';
import type { SignChanges, SignIndex, SignStats } from './signed-index.ts';

/** Runs a change and reports the signed records it removed and added at these owners. */
export function withChanges(s: SignIndex, owners: Iterable<Fqdn>, labels: Iterable<string>, change: () => SignStats): SignChanges {
  const ownerList = [...owners];
  const labelList = [...labels];
  const before = snapshot(s, ownerList, labelList);
  const stats = change();
  const after = snapshot(s, ownerList, labelList);
  const removed: RR[] = [];
  const added: RR[] = [];
  for (const [k, rr] of before) if (!after.has(k)) removed.push(rr);
  for (const [k, rr] of after) if (!before.has(k)) added.push(rr);
  return { ...stats, removed, added };
}

function snapshot(s: SignIndex, owners: Iterable<Fqdn>, labels: Iterable<string>): Map<string, RR> {
  const out = new Map<string, RR>();
  const put = (rr: RR): void => {
    out.set(`${rr.name}|${rr.type}|${rr.ttl}|${Buffer.from(rr.rdata.buffer, rr.rdata.byteOffset, rr.rdata.byteLength).toString('hex')}`, rr);
  };
  for (const name of owners) {
    const n = s.byName.get(name);
    if (n === undefined) continue;
    for (const [type, set] of n.sets) {
      for (const rdata of set.rdatas) put({ name, type, class: set.klass, ttl: set.ttl, rdata });
    }
    for (const sigs of n.sigs.values()) sigs.forEach(put);
    if (n.nsec !== undefined) put(n.nsec);
  }
  for (const label of labels) {
    const x = s.n3ByLabel.get(label);
    if (x === undefined) continue;
    if (x.rr !== undefined) put(x.rr);
    x.sigs.forEach(put);
  }
  return out;
}
