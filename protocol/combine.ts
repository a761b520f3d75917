// The combined zone: the owner's zone with the contributions of the providers currently in HSYNC
// (ON) merged in, and the serial to serve it under. Pure. A stored contribution counts only
// while it passes the gates today, so a provider that left `servers` or `signers`, or a policy
// change, takes effect at the next build without touching the store (docs/combiner.md).
import { compareRRs, sortCanonical } from '../dns/canonical.ts';
import { compareNames, type Fqdn } from '../dns/name.ts';
import { soaSerial, soaWithSerial } from '../dns/rdata/soa.ts';
import type { RR } from '../dns/rr.ts';
import { RRType } from '../dns/types.ts';
import { serialAdd, serialMax } from '../dns/serial.ts';
import { checkRecord, GLUE_TYPES, type GateOptions } from './combiner-gates.ts';
import { nsTargets, type ContributionStore } from './contributions.ts';
import { ProtocolError } from './errors.ts';
import type { HsyncAnalysis } from './hsync-analysis.ts';

export interface CombineInput {
  /** The owner's (unsigned) zone as transferred from upstream, SOA included. */
  readonly owner: readonly RR[];
  readonly store: ContributionStore;
  readonly analysis: HsyncAnalysis;
  readonly options: GateOptions;
}

/** Types whose contributed RRset is added to the owner's rather than replacing it. */
const UNION_WITH_OWNER: ReadonlySet<number> = new Set([RRType.KEY]);

const setKey = (rr: { readonly name: Fqdn; readonly type: number }): string => `${rr.name}/${rr.type}`;

/** The contributed RRs that pass the gates now, from the providers listed ON, per originator. */
export function servedContributions(input: Omit<CombineInput, 'owner'>): Map<Fqdn, RR[]> {
  const { store, analysis, options } = input;
  const on = new Set(analysis.providers.filter((p) => p.state === 'ON').map((p) => p.identity));
  const out = new Map<Fqdn, RR[]>();
  const originators = [...store.byOriginator.keys()].filter((o) => on.has(o)).sort(compareNames);
  for (const originator of originators) {
    const rrs = store.byOriginator.get(originator) ?? [];
    const pass = (rr: RR, targets: ReadonlySet<Fqdn>): boolean => checkRecord({ analysis, originator, rr, nsTargets: targets }, options).verdict === 'accept';
    const main = rrs.filter((rr) => !GLUE_TYPES.has(rr.type) && pass(rr, new Set()));
    const targets = nsTargets(store.zone, main);
    const glue = rrs.filter((rr) => GLUE_TYPES.has(rr.type) && pass(rr, targets));
    if (main.length + glue.length > 0) out.set(originator, [...main, ...glue]);
  }
  return out;
}

/**
 * The combined zone in canonical order. A contributed RRset (the union over providers, with the
 * smallest TTL of its parts) replaces the owner's RRset of that owner name and type: the apex NS
 * (only with nsmgmt=agent, and only once some provider contributed NS, so the zone always has
 * NS), DNSKEY, CDS, CDNSKEY, CSYNC and in-bailiwick glue; KEY is added to the owner's.
 */
export function combineZone(input: CombineInput): RR[] {
  const contributed = new Map<string, RR[]>();
  for (const rrs of servedContributions(input).values()) {
    for (const rr of rrs) {
      if (rr.type === RRType.NS && input.analysis.params.nsmgmt !== 'agent') continue;
      const list = contributed.get(setKey(rr));
      if (list === undefined) contributed.set(setKey(rr), [rr]);
      else list.push(rr);
    }
  }
  const out: RR[] = input.owner.filter((rr) => !contributed.has(setKey(rr)));
  for (const [k, list] of contributed) {
    const all = UNION_WITH_OWNER.has((list[0] as RR).type) ? [...input.owner.filter((rr) => setKey(rr) === k), ...list] : list;
    const ttl = Math.min(...all.map((rr) => rr.ttl));
    for (const rr of all) out.push(rr.ttl === ttl ? rr : { ...rr, ttl });
  }
  const sorted = sortCanonical(out);
  return sorted.filter((rr, i) => i === 0 || compareRRs(sorted[i - 1] as RR, rr) !== 0);
}

/** The apex SOA of a zone's records; throws ProtocolError when there is none. */
export function soaOf(records: readonly RR[]): RR {
  const soa = records.find((rr) => rr.type === RRType.SOA);
  if (soa === undefined) throw new ProtocolError('the zone has no SOA record');
  return soa;
}

const withoutSerial = (rr: RR): RR => (rr.type === RRType.SOA ? soaWithSerial(rr, 0) : rr);

/** True when two zones have the same content, the SOA serial aside (order does not matter). */
export function sameContent(a: readonly RR[], b: readonly RR[]): boolean {
  if (a.length !== b.length) return false;
  const x = sortCanonical(a.map(withoutSerial));
  const y = sortCanonical(b.map(withoutSerial));
  return x.every((rr, i) => compareRRs(rr, y[i] as RR) === 0 && rr.ttl === (y[i] as RR).ttl);
}

/**
 * The serial of a new version: max(last served + 1, owner's serial) in RFC 1982 arithmetic,
 * so it never goes backwards; the owner's serial when nothing was served yet. When the owner's
 * serial is exactly 2^31 away (incomparable), last served + 1 wins.
 */
export function nextSerial(lastServed: number | undefined, ownerSerial: number): number {
  if (lastServed === undefined) return ownerSerial;
  return serialMax(serialAdd(lastServed, 1), ownerSerial);
}

export interface Served {
  readonly serial: number;
  /** The records served, the SOA carrying `serial`. */
  readonly records: readonly RR[];
}

/**
 * What to serve after a rebuild: the last served version unchanged when the combined content
 * equals it (serial aside), else the combined zone under nextSerial. `changed` says whether a
 * new version (to persist, transfer and NOTIFY) was made.
 */
export function nextVersion(last: Served | undefined, combined: readonly RR[]): Served & { readonly changed: boolean } {
  if (last !== undefined && sameContent(last.records, combined)) return { ...last, changed: false };
  const soa = soaOf(combined);
  const serial = nextSerial(last?.serial, soaSerial(soa.rdata));
  return { serial, records: combined.map((rr) => (rr.type === RRType.SOA ? soaWithSerial(rr, serial) : rr)), changed: true };
}
