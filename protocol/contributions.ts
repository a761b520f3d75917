// The combiner's contribution store as an immutable value: per zone, each originator's RRs
// (keyed by owner and type), changed by one SYNC/UPDATE at a time through the gates, and its
// compact serialisation, one KV record per (zone, originator). Pure. Results are per record and
// describe the state reached, not the change made, so a retransmitted SYNC gets the same answer
// (docs/combiner.md).
import { compareRdata, sortCanonical } from '../dns/canonical.ts';
import { DnsError } from '../dns/errors.ts';
import { compareNames, isSubdomain, parseUserName, type Fqdn } from '../dns/name.ts';
import { decodeRdata } from '../dns/rdata/codec.ts';
import { CLASS_IN, type RR } from '../dns/rr.ts';
import { RRType, typeFromString, typeToString } from '../dns/types.ts';
import { formatRecord } from '../dns/zonefile/print.ts';
import { parseRecords } from '../dns/zonefile/parse.ts';
import { checkRecord, checkRemoval, GLUE_TYPES, type GateOptions } from './combiner-gates.ts';
import { MessageError } from './errors.ts';
import type { HsyncAnalysis } from './hsync-analysis.ts';
import type { OperationKind, ZoneData } from './messages.ts';

/** One zone's contributions: originator identity → its RRs in canonical order (no duplicates). */
export interface ContributionStore {
  readonly zone: Fqdn;
  readonly byOriginator: ReadonlyMap<Fqdn, readonly RR[]>;
}

/** What became of one record of an update, named by its text as the originator sent it. */
export type RecordResult =
  | { readonly status: 'applied'; readonly record: string }
  | { readonly status: 'removed'; readonly record: string }
  | { readonly status: 'ignored'; readonly record: string; readonly reason: string }
  | { readonly status: 'rejected'; readonly record: string; readonly reason: string }
  | { readonly status: 'pending'; readonly record: string; readonly reason: string };

export interface ApplyResult {
  readonly store: ContributionStore;
  /** One per record of the update, in the update's order. */
  readonly results: readonly RecordResult[];
  /** The originators whose stored RRs changed (each is one KV record to write). */
  readonly changed: readonly Fqdn[];
}

export function emptyStore(zone: Fqdn): ContributionStore {
  return { zone, byOriginator: new Map() };
}

/** The RRs an originator contributes (empty when none). */
export function contributionOf(store: ContributionStore, originator: Fqdn): readonly RR[] {
  return store.byOriginator.get(originator) ?? [];
}

/** The store without an originator's contributions (a provider that left HSYNC for good). */
export function purgeOriginator(store: ContributionStore, originator: Fqdn): ContributionStore {
  if (!store.byOriginator.has(originator)) return store;
  const m = new Map(store.byOriginator);
  m.delete(originator);
  return { zone: store.zone, byOriginator: m };
}

/** The store with an originator's RRs set as given (normalised), e.g. from its KV record. */
export function withContribution(store: ContributionStore, originator: Fqdn, rrs: readonly RR[]): ContributionStore {
  const m = new Map(store.byOriginator);
  const norm = normalise(rrs);
  if (norm.length === 0) m.delete(originator);
  else m.set(originator, norm);
  return { zone: store.zone, byOriginator: m };
}

/** The NS targets at the apex among `rrs` (what glue may be for). */
export function nsTargets(zone: Fqdn, rrs: readonly RR[]): Set<Fqdn> {
  return new Set(rrs.filter((rr) => rr.type === RRType.NS && rr.name === zone).map((rr) => decodeRdata('NS', rr.rdata).host));
}

// ---- RR sets as sorted lists ----

/** Same RR in the RFC 2136 sense: owner, type, class and RDATA; the TTL does not count. */
const sameRR = (a: RR, b: RR): boolean => a.name === b.name && a.type === b.type && a.class === b.class && compareRdata(a.rdata, b.rdata) === 0;
const sameSet = (a: RR, name: Fqdn, type: number): boolean => a.name === name && a.type === type;

/** Canonical order, duplicates dropped, one TTL per RRset (the smallest of its RRs). */
function normalise(rrs: readonly RR[]): RR[] {
  const sorted = sortCanonical(rrs);
  const out: RR[] = [];
  for (const rr of sorted) if (!out.some((o) => sameRR(o, rr))) out.push(rr);
  const ttl = new Map<string, number>();
  for (const rr of out) {
    const k = `${rr.name}/${rr.type}`;
    ttl.set(k, Math.min(ttl.get(k) ?? rr.ttl, rr.ttl));
  }
  return out.map((rr) => {
    const t = ttl.get(`${rr.name}/${rr.type}`) ?? rr.ttl;
    return t === rr.ttl ? rr : { ...rr, ttl: t };
  });
}

/** `rrs` with `rr` added; the RRset takes the added RR's TTL (the originator's latest word). */
function addRR(rrs: readonly RR[], rr: RR): RR[] {
  const rest = rrs.filter((o) => !sameRR(o, rr)).map((o) => (sameSet(o, rr.name, rr.type) ? { ...o, ttl: rr.ttl } : o));
  return normalise([...rest, rr]);
}

const sameList = (a: readonly RR[], b: readonly RR[]): boolean => a.length === b.length && a.every((rr, i) => sameRR(rr, b[i] as RR) && rr.ttl === (b[i] as RR).ttl);

// ---- applying one update ----

interface Item {
  readonly index: number;
  readonly operation: OperationKind;
  readonly rrtype: string;
  readonly record: string;
  readonly rr: RR | undefined;
  readonly error: string | undefined;
}

const errorText = (e: unknown): string => {
  if (e instanceof DnsError) return e.message;
  throw e;
};

/** Parses one record of an update as a single IN RR of the zone. */
export function parseRecord(zone: Fqdn, text: string): RR {
  const rrs = parseRecords(`${text}\n`, { origin: zone, file: 'record' });
  if (rrs.length !== 1) throw new DnsError(`${rrs.length} records where one was expected`);
  const rr = rrs[0] as RR;
  if (rr.class !== CLASS_IN) throw new DnsError(`class ${rr.class} is not IN`);
  return rr;
}

function itemsOf(update: ZoneData): Item[] {
  const items: Item[] = [];
  const push = (operation: OperationKind, rrtype: string, record: string): void => {
    let rr: RR | undefined;
    let error: string | undefined;
    try {
      rr = parseRecord(update.zone, record);
      if (rrtype !== '' && typeFromString(rrtype) !== rr.type) error = `record type ${typeToString(rr.type)} does not match the operation's rrtype ${rrtype}`;
    } catch (e) {
      error = `not a resource record (${errorText(e)})`;
      rr = undefined;
    }
    items.push({ index: items.length, operation, rrtype, record, rr, error });
  };
  if (update.operations.length > 0) {
    for (const op of update.operations) for (const r of op.records) push(op.operation, op.rrtype, r);
  } else {
    // Legacy form: every record listed replaces its (owner, type) RRset.
    for (const owner of Object.keys(update.records).sort()) for (const r of update.records[owner] ?? []) push('replace', '', r);
  }
  return items;
}

interface Group {
  readonly operation: OperationKind;
  readonly rrtype: string;
  readonly items: readonly Item[];
}

const glueItem = (it: Item): boolean => it.rr !== undefined && GLUE_TYPES.has(it.rr.type);

/**
 * The update as operations over parsed items, non-glue ones first (glue then sees the NS targets
 * of the same update). The legacy form is one replace of the non-glue and one of the glue records.
 */
function groupsOf(items: readonly Item[], update: ZoneData): Group[] {
  if (update.operations.length === 0) {
    const legacy: Group[] = [
      { operation: 'replace', rrtype: '', items: items.filter((it) => !glueItem(it)) },
      { operation: 'replace', rrtype: '', items: items.filter(glueItem) },
    ];
    return legacy.filter((g) => g.items.length > 0);
  }
  const groups: Group[] = [];
  let at = 0;
  for (const op of update.operations) {
    groups.push({ operation: op.operation, rrtype: op.rrtype, items: items.slice(at, at + op.records.length) });
    at += op.records.length;
  }
  const isGlue = (g: Group): boolean => {
    const t = typeFromString(g.rrtype);
    return t !== undefined && GLUE_TYPES.has(t);
  };
  return [...groups.filter((g) => !isGlue(g)), ...groups.filter(isGlue)];
}

interface Ctx {
  readonly zone: Fqdn;
  readonly originator: Fqdn;
  readonly analysis: HsyncAnalysis;
  readonly options: GateOptions;
  readonly results: (RecordResult | undefined)[];
}

/**
 * Applies one SYNC/UPDATE from `update.originator` to the store, each record through the gates.
 * `add` adds RRs, `delete` removes them, `replace` sets the whole RRset of each (owner, type) it
 * names (with no records: removes every RRset of its type). Idempotent: applying the same update
 * again changes nothing and gives the same results.
 */
export function applyUpdate(store: ContributionStore, update: ZoneData, analysis: HsyncAnalysis, options: GateOptions): ApplyResult {
  const originator = update.originator;
  const before = contributionOf(store, originator);
  const items = itemsOf(update);
  const ctx: Ctx = { zone: store.zone, originator, analysis, options, results: items.map(() => undefined) };
  let rrs: RR[] = [...before];
  for (const g of groupsOf(items, update)) rrs = applyGroup(rrs, g, ctx);
  const results = ctx.results.filter((r): r is RecordResult => r !== undefined);
  const after = normalise(rrs);
  if (sameList(before, after)) return { store, results, changed: [] };
  return { store: withContribution(store, originator, after), results, changed: [originator] };
}

/** The result for an add or replace record, from its gate verdict. */
function verdictResult(it: Item, rrs: readonly RR[], ctx: Ctx): RecordResult {
  const rr = it.rr as RR;
  const v = checkRecord({ analysis: ctx.analysis, originator: ctx.originator, rr, nsTargets: nsTargets(ctx.zone, rrs) }, ctx.options);
  switch (v.verdict) {
    case 'accept':
      return { status: 'applied', record: it.record };
    case 'ignore':
      return { status: 'ignored', record: it.record, reason: v.reason };
    case 'reject':
      return { status: 'rejected', record: it.record, reason: v.reason };
    case 'hold':
      return { status: 'pending', record: it.record, reason: v.reason };
    default: {
      const never: never = v;
      return never;
    }
  }
}

function applyGroup(current: RR[], g: Group, ctx: Ctx): RR[] {
  let rrs = current;
  const kept: RR[] = [];
  const removal = checkRemoval(ctx.analysis, ctx.originator);
  for (const it of g.items) {
    const set = (r: RecordResult): void => {
      ctx.results[it.index] = r;
    };
    const rr = it.rr;
    if (rr === undefined || it.error !== undefined) {
      set({ status: 'rejected', record: it.record, reason: it.error ?? 'unreadable' });
      continue;
    }
    if (!isSubdomain(rr.name, ctx.zone)) {
      set({ status: 'rejected', record: it.record, reason: `zone: ${rr.name} is not in ${ctx.zone}` });
      continue;
    }
    if (g.operation === 'delete') {
      if (removal.verdict !== 'accept') {
        set({ status: 'rejected', record: it.record, reason: 'reason' in removal ? removal.reason : '' });
        continue;
      }
      rrs = rrs.filter((o) => !sameRR(o, rr));
      set({ status: 'removed', record: it.record });
      continue;
    }
    const r = verdictResult(it, g.operation === 'replace' ? [...rrs, ...kept] : rrs, ctx);
    set(r);
    if (r.status !== 'applied' && r.status !== 'ignored') continue;
    if (g.operation === 'add') rrs = addRR(rrs, rr);
    else kept.push(rr);
  }
  if (g.operation !== 'replace' || removal.verdict !== 'accept') return rrs;
  if (g.items.length === 0) {
    const t = typeFromString(g.rrtype);
    return t === undefined ? rrs : rrs.filter((o) => o.type !== t);
  }
  // Each (owner, type) with at least one stored record is set to exactly those records.
  const sets = new Set(kept.map((rr) => `${rr.name}/${rr.type}`));
  return normalise([...rrs.filter((o) => !sets.has(`${o.name}/${o.type}`)), ...kept]);
}

// ---- CONFIRM lists ----

/** The confirm's lists from per-record results (records as the originator wrote them). */
export function confirmLists(results: readonly RecordResult[]): {
  applied: string[];
  removed: string[];
  ignored: string[];
  pending: string[];
  rejected: { record: string; reason: string }[];
} {
  const out = { applied: [] as string[], removed: [] as string[], ignored: [] as string[], pending: [] as string[], rejected: [] as { record: string; reason: string }[] };
  for (const r of results) {
    if (r.status === 'rejected') out.rejected.push({ record: r.record, reason: r.reason });
    else out[r.status].push(r.record);
  }
  return out;
}

// ---- serialisation: one KV record per (zone, originator) ----

const FORMAT = 1;

/**
 * The KV record of one originator's contribution: JSON with fixed key order and its RRs in
 * presentation form, in canonical order. Deterministic: equal contributions give equal text.
 */
export function serialiseContribution(store: ContributionStore, originator: Fqdn): string {
  const records = contributionOf(store, originator).map((rr) => formatRecord(rr));
  return JSON.stringify({ format: FORMAT, zone: store.zone, originator, records });
}

export interface ParsedContribution {
  readonly zone: Fqdn;
  readonly originator: Fqdn;
  readonly rrs: readonly RR[];
}

function nameField(obj: Record<string, unknown>, field: string): Fqdn {
  const v = obj[field];
  if (typeof v !== 'string') throw new MessageError('missing or not a string', field);
  try {
    return parseUserName(v);
  } catch (e) {
    throw new MessageError(`not a domain name (${errorText(e)})`, field, { cause: e });
  }
}

/** Reads a KV record written by serialiseContribution; throws MessageError naming the fault. */
export function parseContribution(text: string): ParsedContribution {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new MessageError(`contribution record is not JSON (${e instanceof Error ? e.message : String(e)})`, undefined, { cause: e });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new MessageError('contribution record is not a JSON object');
  const obj = json as Record<string, unknown>;
  const known = new Set(['format', 'zone', 'originator', 'records']);
  for (const k of Object.keys(obj)) if (!known.has(k)) throw new MessageError('unknown field', k);
  if (obj['format'] !== FORMAT) throw new MessageError(`unsupported format (expected ${FORMAT})`, 'format');
  const zone = nameField(obj, 'zone');
  const originator = nameField(obj, 'originator');
  const list = obj['records'];
  if (!Array.isArray(list)) throw new MessageError('not a list', 'records');
  const rrs = list.map((v: unknown, i) => {
    const field = `records[${i}]`;
    if (typeof v !== 'string') throw new MessageError('not a string', field);
    let rr: RR;
    try {
      rr = parseRecord(zone, v);
    } catch (e) {
      throw new MessageError(`not a resource record (${errorText(e)})`, field, { cause: e });
    }
    if (!isSubdomain(rr.name, zone)) throw new MessageError(`${rr.name} is not in ${zone}`, field);
    return rr;
  });
  return { zone, originator, rrs: normalise(rrs) };
}

/** A store from the KV records of one zone (any order). Throws MessageError on a bad record. */
export function loadStore(zone: Fqdn, records: readonly string[]): ContributionStore {
  let store = emptyStore(zone);
  const seen = new Set<Fqdn>();
  for (const text of records) {
    const c = parseContribution(text);
    if (c.zone !== zone) throw new MessageError(`record of zone ${c.zone} where ${zone} was expected`, 'zone');
    if (seen.has(c.originator)) throw new MessageError(`two records for ${c.originator}`, 'originator');
    seen.add(c.originator);
    store = withContribution(store, c.originator, c.rrs);
  }
  return store;
}

/** The originators of a store in a stable order. */
export function originators(store: ContributionStore): Fqdn[] {
  return [...store.byOriginator.keys()].sort(compareNames);
}
