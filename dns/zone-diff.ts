// The difference between two versions of a zone, as one journal entry (IXFR, RFC 1995): for a
// reload, the journal gets diffZones(old, reread). An RRset whose TTL changed is removed whole
// and added whole with the new TTL; the SOA is always first in both lists.
import { ZoneError } from './errors.ts';
import type { RR } from './rr.ts';
import { soaSerial } from './rdata/soa.ts';
import { rrsetRecords, type RRset, type Zone, type ZoneDiff } from './zone.ts';
import { RRType } from './types.ts';

function hexKey(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x < 16 ? '0' + x.toString(16) : x.toString(16);
  return s;
}

function sameBytes(x: Uint8Array, y: Uint8Array): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** Records of `a` whose RDATA is not in `b` (same owner, type and TTL). */
function setDifference(a: RRset, b: RRset, out: RR[]): void {
  const br = b.rdata;
  if (br.length <= 8) {
    // Small RRsets (nearly all): compare bytes directly, no keys to build.
    for (const rdata of a.rdata) {
      if (!br.some((r) => sameBytes(r, rdata))) out.push({ name: a.name, type: a.type, class: a.class, ttl: a.ttl, rdata });
    }
    return;
  }
  const keys = new Set<string>();
  for (const r of br) keys.add(hexKey(r));
  for (const rdata of a.rdata) {
    if (!keys.has(hexKey(rdata))) out.push({ name: a.name, type: a.type, class: a.class, ttl: a.ttl, rdata });
  }
}

/** What takes `from` to `to`. Both must have the same origin. Unchanged zones give empty lists. */
export function diffZones(from: Zone, to: Zone): ZoneDiff {
  if (from.origin !== to.origin) throw new ZoneError(`cannot diff zone ${from.origin} against ${to.origin}`);
  const removed: RR[] = [];
  const added: RR[] = [];
  const compare = (a: Zone, b: Zone, out: RR[]): void => {
    for (const name of a.namesUnordered()) {
      for (const set of a.rrsets(name)) {
        if (set.type === RRType.SOA) continue;
        const other = b.get(name, set.type);
        if (other === undefined || other.ttl !== set.ttl) out.push(...rrsetRecords(set));
        else setDifference(set, other, out);
      }
    }
  };
  compare(from, to, removed);
  compare(to, from, added);
  const fromSoa = from.soaRR();
  const toSoa = to.soaRR();
  const soaChanged = removed.length > 0 || added.length > 0 || hexKey(fromSoa.rdata) !== hexKey(toSoa.rdata) || fromSoa.ttl !== toSoa.ttl;
  return {
    fromSerial: soaSerial(fromSoa.rdata),
    toSerial: soaSerial(toSoa.rdata),
    removed: soaChanged ? [fromSoa, ...removed] : removed,
    added: soaChanged ? [toSoa, ...added] : added,
  };
}
