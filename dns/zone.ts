// The in-memory zone: RRsets by (owner, type), the set of names (with empty non-terminals),
// zone cuts and the SOA. Built once by ZoneBuilder (the zone-file parser and the transfer
// client feed it record by record, then finish() validates the whole); changed afterwards only
// through applyDiff, which validates, bumps the serial and returns the journal entry.
//
// Rules (see docs/decisions.md, "Zone files and the zone store"):
// - Every record is at or below the origin and of the zone's class.
// - Exactly one SOA, at the apex; at least one NS at the apex.
// - CNAME is a singleton and shares its name only with RRSIG and NSEC (RFC 2181 §10.1, 4035).
// - An RRset has one TTL (RFC 2181 §5.2). Loading keeps the first TTL seen and reports the
//   others as warnings (BIND does the same); a diff that adds a record with another TTL moves
//   the whole RRset to the new TTL, and the journal entry says so.
// - Identical records (owner, type, class, RDATA) are kept once (RFC 2181 §5).
import { ZoneError } from './errors.ts';
import { compareNames, isSubdomain, nameLabelBytes, parentName, type Fqdn } from './name.ts';
import { soaRdataWithSerial, soaSerial } from './rdata/soa.ts';
import type { RR } from './rr.ts';
import { serialAdd, serialGt } from './serial.ts';
import { CLASS_IN } from './rr.ts';
import { classToString, RRType, typeToString } from './types.ts';

/** All records of one (owner, type) with their shared TTL. `rdata` is in insertion order. */
export interface RRset {
  readonly name: Fqdn;
  readonly type: number;
  readonly class: number;
  readonly ttl: number;
  readonly rdata: readonly Uint8Array[];
}

/** One change of a zone, from one serial to the next: what IXFR sends and the journal keeps. */
export interface ZoneDiff {
  readonly fromSerial: number;
  readonly toSerial: number;
  /** Records removed; the old SOA first. */
  readonly removed: readonly RR[];
  /** Records added; the new SOA first. */
  readonly added: readonly RR[];
}

/** Where a name stands in the zone. */
export type NameStatus =
  | 'outside' // not at or below the origin
  | 'absent' // in the zone's namespace but no such name
  | 'auth' // authoritative data (the apex included)
  | 'ent' // empty non-terminal: no data, but names below it
  | 'cut' // delegation point: NS below the apex
  | 'occluded'; // below a cut (glue and anything else there)

/** What ZoneBuilder.add did with one record. */
export type AddOutcome = 'added' | 'duplicate' | 'ttl-unified';

/**
 * An RRset as the zone stores it. A single record (most RRsets) is kept without an array:
 * on million-record zones every object saved per record is garbage-collector time saved.
 */
class StoredRRset implements RRset {
  readonly name: Fqdn;
  readonly type: number;
  readonly class: number;
  ttl: number;
  one: Uint8Array | undefined;
  many: Uint8Array[] | undefined;
  constructor(name: Fqdn, type: number, klass: number, ttl: number, first: Uint8Array) {
    this.name = name;
    this.type = type;
    this.class = klass;
    this.ttl = ttl;
    this.one = first;
    this.many = undefined;
  }

  get rdata(): readonly Uint8Array[] {
    return this.many ?? (this.one === undefined ? [] : [this.one]);
  }

  get count(): number {
    return this.many !== undefined ? this.many.length : this.one === undefined ? 0 : 1;
  }

  has(rdata: Uint8Array): boolean {
    if (this.many !== undefined) return indexOfRdata(this.many, rdata) >= 0;
    return this.one !== undefined && sameBytes(this.one, rdata);
  }

  push(rdata: Uint8Array): void {
    if (this.many !== undefined) this.many.push(rdata);
    else if (this.one === undefined) this.one = rdata;
    else {
      this.many = [this.one, rdata];
      this.one = undefined;
    }
  }

  /** Removes one record's RDATA; false when it is not there. */
  remove(rdata: Uint8Array): boolean {
    if (this.many !== undefined) {
      const i = indexOfRdata(this.many, rdata);
      if (i < 0) return false;
      this.many.splice(i, 1);
      if (this.many.length === 1) {
        this.one = this.many[0];
        this.many = undefined;
      }
      return true;
    }
    if (this.one === undefined || !sameBytes(this.one, rdata)) return false;
    this.one = undefined;
    return true;
  }
}

/** A name's RRsets: one RRset alone (the common case), or an array (empty: empty non-terminal). */
type Node = StoredRRset | StoredRRset[];

function setsOf(node: Node): readonly StoredRRset[] {
  return node instanceof StoredRRset ? [node] : node;
}

function findSet(node: Node, type: number): StoredRRset | undefined {
  if (node instanceof StoredRRset) return node.type === type ? node : undefined;
  for (const s of node) if (s.type === type) return s;
  return undefined;
}

/** Types that may share a name with a CNAME (RFC 4035 §2.5, RFC 2181 §10.1). */
const CNAME_COMPANIONS = new Set<number>([RRType.RRSIG, RRType.NSEC, RRType.CNAME]);

export function rrText(rr: { name: Fqdn; type: number; class: number; ttl: number }): string {
  return `${rr.name} ${rr.ttl} ${classToString(rr.class)} ${typeToString(rr.type)}`;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function indexOfRdata(list: readonly Uint8Array[], rdata: Uint8Array): number {
  for (let i = 0; i < list.length; i++) if (sameBytes(list[i] as Uint8Array, rdata)) return i;
  return -1;
}

/**
 * Sort key with the same order as compareNames (RFC 4034 §6.1): labels from the right, each
 * label's octets as characters, a 0x00 after each label (so a shorter label sorts first).
 * Octets 0 and 1 are written as 0x01 0x01 and 0x01 0x02 to keep 0x00 a pure separator.
 */
function canonicalKey(name: Fqdn): string {
  if (!name.includes('\\')) {
    if (name === '.') return '';
    const labels = name.slice(0, -1).split('.');
    let k = '';
    for (let i = labels.length - 1; i >= 0; i--) k += (labels[i] as string) + '\x00';
    return k;
  }
  const labels = nameLabelBytes(name);
  let k = '';
  for (let i = labels.length - 1; i >= 0; i--) {
    for (const b of labels[i] as Uint8Array) {
      k += b === 0 ? '\x01\x01' : b === 1 ? '\x01\x02' : String.fromCharCode(b);
    }
    k += '\x00';
  }
  return k;
}

/** The name without its leftmost label (fast for names without escapes); undefined for the root. */
function parentOf(name: Fqdn): Fqdn | undefined {
  if (name === '.') return undefined;
  if (name.includes('\\')) return parentName(name);
  const rest = name.slice(name.indexOf('.') + 1);
  return (rest === '' ? '.' : rest) as Fqdn;
}

/** Sorts names into canonical order (fast: one key per name, plain string comparison). */
export function sortNamesCanonical(names: Iterable<Fqdn>): Fqdn[] {
  const keyed: { k: string; n: Fqdn }[] = [];
  for (const n of names) keyed.push({ k: canonicalKey(n), n });
  keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  return keyed.map((e) => e.n);
}

/** Binary search in a canonically sorted name list: index of `name`, or -(insertion point)-1. */
function searchNames(sorted: readonly Fqdn[], name: Fqdn): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareNames(sorted[mid] as Fqdn, name);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -lo - 1;
}

export class Zone {
  readonly origin: Fqdn;
  readonly class: number;
  readonly #nodes = new Map<Fqdn, Node>();
  /**
   * How many names sit directly below a name (absent: none). Only removals need it, so it is
   * built on the first removal and maintained from then on; loading does not pay for it.
   */
  #children: Map<Fqdn, number> | undefined;
  /** The last name inserted and its node: zone files list a name's records together. */
  #lastName: Fqdn | undefined;
  #lastNode: Node | undefined;
  readonly #cuts = new Set<Fqdn>();
  readonly #dnames = new Set<Fqdn>();
  #sorted: Fqdn[] | undefined;
  #size = 0;
  #soa: StoredRRset | undefined;

  /** Use ZoneBuilder (or the zone-file parser); a bare Zone is empty and not valid. */
  constructor(origin: Fqdn, klass: number = CLASS_IN) {
    this.origin = origin;
    this.class = klass;
    this.#nodes.set(origin, []);
  }

  // ---- reading ---------------------------------------------------------------------------

  /** Number of records. */
  get size(): number {
    return this.#size;
  }

  /** The apex SOA RRset (one record). */
  get soa(): RRset {
    if (this.#soa === undefined) throw new ZoneError('zone has no SOA', this.origin);
    return this.#soa;
  }

  /** The apex SOA as an RR. */
  soaRR(): RR {
    const s = this.soa;
    return { name: s.name, type: s.type, class: s.class, ttl: s.ttl, rdata: s.rdata[0] as Uint8Array };
  }

  get serial(): number {
    return soaSerial(this.soa.rdata[0] as Uint8Array);
  }

  /** The RRset at (name, type), or undefined. */
  get(name: Fqdn, type: number): RRset | undefined {
    const node = this.#nodes.get(name);
    return node === undefined ? undefined : findSet(node, type);
  }

  /** All RRsets at a name ([] for empty non-terminals and absent names). */
  rrsets(name: Fqdn): readonly RRset[] {
    const node = this.#nodes.get(name);
    return node === undefined ? [] : setsOf(node);
  }

  /** True when the name exists: it has data or is an empty non-terminal. */
  has(name: Fqdn): boolean {
    return this.#nodes.has(name);
  }

  /** Number of names, empty non-terminals included. */
  get nameCount(): number {
    return this.#nodes.size;
  }

  /** The delegation points (names below the apex that own NS). */
  get cuts(): ReadonlySet<Fqdn> {
    return this.#cuts;
  }

  /** The highest zone cut at or above `name` (strictly below the apex), if any. */
  cutAt(name: Fqdn): Fqdn | undefined {
    if (this.#cuts.size === 0 || name === this.origin) return undefined;
    let found: Fqdn | undefined;
    for (let n: Fqdn | undefined = name; n !== undefined && n !== this.origin; n = parentOf(n)) {
      if (this.#cuts.has(n)) found = n;
    }
    return found;
  }

  /** The owners of DNAME RRsets. */
  get dnames(): ReadonlySet<Fqdn> {
    return this.#dnames;
  }

  /** The highest owner of a DNAME strictly above `name`, the apex included (RFC 6672), if any. */
  dnameAbove(name: Fqdn): Fqdn | undefined {
    if (this.#dnames.size === 0 || name === this.origin) return undefined;
    let found: Fqdn | undefined;
    for (let n = parentOf(name); n !== undefined; n = parentOf(n)) {
      if (this.#dnames.has(n)) found = n;
      if (n === this.origin) break;
    }
    return found;
  }

  status(name: Fqdn): NameStatus {
    if (!isSubdomain(name, this.origin)) return 'outside';
    const cut = this.cutAt(name);
    if (cut !== undefined) {
      if (cut !== name) return 'occluded';
      return 'cut';
    }
    const node = this.#nodes.get(name);
    if (node === undefined) return 'absent';
    return node instanceof StoredRRset || node.length > 0 ? 'auth' : 'ent';
  }

  /** Every name (empty non-terminals included) in canonical order. Sorted once, then kept sorted. */
  names(): readonly Fqdn[] {
    this.#sorted ??= sortNamesCanonical(this.#nodes.keys());
    return this.#sorted;
  }

  /** Every name (empty non-terminals included) in no particular order. */
  namesUnordered(): IterableIterator<Fqdn> {
    return this.#nodes.keys();
  }

  /** Every RRset, the SOA first, then in canonical order of owner and type. */
  *rrsetsInOrder(): IterableIterator<RRset> {
    yield this.soa;
    for (const name of this.names()) {
      const node = this.#nodes.get(name);
      const sets = node === undefined ? [] : setsOf(node);
      const ordered = sets.length > 1 ? [...sets].sort((a, b) => a.type - b.type) : sets;
      for (const s of ordered) if (s !== this.#soa) yield s;
    }
  }

  /** Every record for AXFR: the SOA first, the rest in no particular order (cheap). */
  *records(): IterableIterator<RR> {
    yield this.soaRR();
    for (const node of this.#nodes.values()) {
      for (const s of setsOf(node)) {
        if (s === this.#soa) continue;
        if (s.one !== undefined) yield { name: s.name, type: s.type, class: s.class, ttl: s.ttl, rdata: s.one };
        else for (const rdata of s.many ?? []) yield { name: s.name, type: s.type, class: s.class, ttl: s.ttl, rdata };
      }
    }
  }

  // ---- changing (ZoneBuilder and applyDiff only) -------------------------------------------

  /** Adds one record, checking the per-record rules. Internal: use ZoneBuilder or applyDiff. */
  _insert(rr: RR, ttlRule: 'keep-first' | 'take-new', stored: Uint8Array = rr.rdata): AddOutcome {
    if (rr.class !== this.class) {
      throw new ZoneError(`class ${classToString(rr.class)} differs from the zone's ${classToString(this.class)}`, rrText(rr));
    }
    if (!isSubdomain(rr.name, this.origin)) throw new ZoneError(`record outside the zone origin ${this.origin}`, rrText(rr));
    if (rr.type === RRType.SOA && rr.name !== this.origin) throw new ZoneError('SOA not at the zone apex', rrText(rr));
    const node = rr.name === this.#lastName ? this.#lastNode : this.#nodes.get(rr.name);
    let set: StoredRRset | undefined;
    if (node !== undefined) {
      set = findSet(node, rr.type);
      if (set === undefined) {
        const sets = setsOf(node);
        if (rr.type === RRType.CNAME && sets.some((s) => !CNAME_COMPANIONS.has(s.type))) {
          throw new ZoneError('CNAME and other data at the same name', rrText(rr));
        }
        if (!CNAME_COMPANIONS.has(rr.type) && sets.some((s) => s.type === RRType.CNAME)) {
          throw new ZoneError('CNAME and other data at the same name', rrText(rr));
        }
      }
    }
    if (set !== undefined) {
      if (set.has(rr.rdata)) return 'duplicate';
      if (rr.type === RRType.SOA) throw new ZoneError('more than one SOA record', rrText(rr));
      if (rr.type === RRType.CNAME) throw new ZoneError('more than one CNAME record at a name', rrText(rr));
      set.push(stored);
      this.#size++;
      if (set.ttl !== rr.ttl) {
        if (ttlRule === 'take-new') set.ttl = rr.ttl;
        return 'ttl-unified';
      }
      return 'added';
    }
    const fresh = new StoredRRset(rr.name, rr.type, rr.class, rr.ttl, stored);
    let slot: Node;
    if (node === undefined) {
      slot = fresh;
      this.#createNode(rr.name, fresh);
    } else if (node instanceof StoredRRset) {
      slot = [node, fresh];
      this.#nodes.set(rr.name, slot);
    } else {
      node.push(fresh);
      slot = node;
    }
    this.#lastName = rr.name;
    this.#lastNode = slot;
    this.#size++;
    if (rr.type === RRType.SOA) this.#soa = fresh;
    if (rr.type === RRType.NS && rr.name !== this.origin) this.#cuts.add(rr.name);
    if (rr.type === RRType.DNAME) this.#dnames.add(rr.name);
    return 'added';
  }

  /** Removes one record; false when it was not there. Internal: use applyDiff. */
  _remove(rr: RR): boolean {
    const node = this.#nodes.get(rr.name);
    if (node === undefined) return false;
    const set = findSet(node, rr.type);
    if (set === undefined || set.class !== rr.class || !set.remove(rr.rdata)) return false;
    this.#size--;
    this.#lastName = undefined;
    this.#lastNode = undefined;
    if (set.count === 0) {
      const rest = setsOf(node).filter((s) => s !== set);
      const slot: Node = rest.length === 1 ? (rest[0] as StoredRRset) : rest;
      this.#nodes.set(rr.name, slot);
      if (set === this.#soa) this.#soa = undefined;
      if (rr.type === RRType.NS) this.#cuts.delete(rr.name);
      if (rr.type === RRType.DNAME) this.#dnames.delete(rr.name);
      this.#pruneNode(rr.name, slot);
    }
    return true;
  }

  /** Sets an RRset's TTL (used when a diff moves a whole RRset to a new TTL). */
  _setTtl(name: Fqdn, type: number, ttl: number): void {
    const node = this.#nodes.get(name);
    const set = node === undefined ? undefined : findSet(node, type);
    if (set !== undefined) set.ttl = ttl;
  }

  /** Whole-zone rules, checked after loading and after every diff. Throws ZoneError. */
  _checkComplete(): void {
    if (this.#soa === undefined) throw new ZoneError(`zone ${this.origin} has no SOA record`);
    const ns = this.get(this.origin, RRType.NS);
    if (ns === undefined || ns.rdata.length === 0) throw new ZoneError(`zone ${this.origin} has no NS records at the apex`);
  }

  #createNode(name: Fqdn, node: Node): void {
    this.#nodes.set(name, node);
    if (this.#sorted !== undefined) {
      const i = searchNames(this.#sorted, name);
      if (i < 0) this.#sorted.splice(-i - 1, 0, name);
    }
    // Link to the parent, creating empty non-terminals up to the first existing ancestor.
    let child = name;
    const children = this.#children;
    for (;;) {
      const up = parentOf(child);
      if (up === undefined) break;
      if (children !== undefined) children.set(up, (children.get(up) ?? 0) + 1);
      if (up === this.origin || this.#nodes.has(up)) break;
      this.#nodes.set(up, []);
      if (this.#sorted !== undefined) {
        const i = searchNames(this.#sorted, up);
        if (i < 0) this.#sorted.splice(-i - 1, 0, up);
      }
      child = up;
    }
  }

  #childCounts(): Map<Fqdn, number> {
    if (this.#children === undefined) {
      const children = new Map<Fqdn, number>();
      for (const name of this.#nodes.keys()) {
        if (name === this.origin) continue;
        const up = parentOf(name) as Fqdn;
        children.set(up, (children.get(up) ?? 0) + 1);
      }
      this.#children = children;
    }
    return this.#children;
  }

  /** Drops a name that has neither data nor children, and empty non-terminals it leaves behind. */
  #pruneNode(name: Fqdn, node: Node): void {
    this.#lastName = undefined;
    this.#lastNode = undefined;
    const children = this.#childCounts();
    let n: Fqdn = name;
    let cur: Node = node;
    while (n !== this.origin && !(cur instanceof StoredRRset) && cur.length === 0 && (children.get(n) ?? 0) === 0) {
      this.#nodes.delete(n);
      children.delete(n);
      if (this.#sorted !== undefined) {
        const i = searchNames(this.#sorted, n);
        if (i >= 0) this.#sorted.splice(i, 1);
      }
      const up = parentOf(n);
      if (up === undefined) break;
      const parent = this.#nodes.get(up);
      if (parent === undefined) break;
      const left = (children.get(up) ?? 1) - 1;
      if (left > 0) children.set(up, left);
      else children.delete(up);
      n = up;
      cur = parent;
    }
  }
}

const SLAB_SIZE = 1 << 20;
const SLAB_MAX_RDATA = 4096;

/**
 * Builds a zone record by record and validates it as a whole at the end, so a caller never
 * holds a half-loaded zone. `add` throws ZoneError for a record that breaks a rule.
 */
export class ZoneBuilder {
  readonly #zone: Zone;
  #done = false;
  // RDATA is copied into shared slabs: one ArrayBuffer per MiB instead of one per record keeps
  // the garbage collector's work (and memory) small on million-record zones.
  #slab = new Uint8Array(0);
  #slabOff = 0;

  constructor(origin: Fqdn, klass: number = CLASS_IN) {
    this.#zone = new Zone(origin, klass);
  }

  get origin(): Fqdn {
    return this.#zone.origin;
  }

  add(rr: RR): AddOutcome {
    if (this.#done) throw new ZoneError('ZoneBuilder already finished');
    const n = rr.rdata.length;
    if (n > SLAB_MAX_RDATA) return this.#zone._insert(rr, 'keep-first');
    if (this.#slabOff + n > this.#slab.length) {
      this.#slab = new Uint8Array(SLAB_SIZE);
      this.#slabOff = 0;
    }
    const stored = this.#slab.subarray(this.#slabOff, this.#slabOff + n);
    stored.set(rr.rdata);
    const outcome = this.#zone._insert(rr, 'keep-first', stored);
    if (outcome !== 'duplicate') this.#slabOff += n;
    return outcome;
  }

  /** TTL of the existing RRset at (name, type): what a record with another TTL was unified to. */
  ttlOf(name: Fqdn, type: number): number | undefined {
    return this.#zone.get(name, type)?.ttl;
  }

  /** Checks the whole-zone rules and returns the zone. */
  finish(): Zone {
    this.#zone._checkComplete();
    this.#done = true;
    return this.#zone;
  }
}

/** Builds and validates a zone from records. Throws ZoneError. */
export function zoneFromRecords(origin: Fqdn, rrs: Iterable<RR>, klass: number = CLASS_IN): Zone {
  const b = new ZoneBuilder(origin, klass);
  for (const rr of rrs) b.add(rr);
  return b.finish();
}

/** Every record of an RRset as RRs. */
export function rrsetRecords(set: RRset): RR[] {
  return set.rdata.map((rdata) => ({ name: set.name, type: set.type, class: set.class, ttl: set.ttl, rdata }));
}

/**
 * Applies a change to the zone in place and returns the journal entry (old SOA removed and new
 * SOA added first). A diff that carries a new SOA must raise the serial (RFC 1982); a diff
 * without one gets the old serial + 1. Removing a record that is not there and adding one that
 * is are ignored (and left out of the entry). All or nothing: on an error the zone is unchanged.
 */
export function applyDiff(zone: Zone, change: { readonly removed: readonly RR[]; readonly added: readonly RR[] }): ZoneDiff {
  const oldSoa = zone.soaRR();
  const fromSerial = soaSerial(oldSoa.rdata);
  const newSoaIn = change.added.find((r) => r.type === RRType.SOA);
  let newSoa: RR;
  if (newSoaIn !== undefined) {
    if (change.added.filter((r) => r.type === RRType.SOA).length > 1) {
      throw new ZoneError('diff adds more than one SOA record', rrText(newSoaIn));
    }
    const s = soaSerial(newSoaIn.rdata);
    if (!serialGt(s, fromSerial)) {
      throw new ZoneError(`diff does not raise the serial (${fromSerial} to ${s})`, rrText(newSoaIn));
    }
    newSoa = newSoaIn;
  } else {
    newSoa = { ...oldSoa, rdata: soaRdataWithSerial(oldSoa.rdata, serialAdd(fromSerial, 1)) };
  }
  const undo: (() => void)[] = [];
  const removed: RR[] = [oldSoa];
  const added: RR[] = [newSoa];
  try {
    zone._remove(oldSoa);
    undo.push(() => zone._insert(oldSoa, 'take-new'));
    for (const rr of change.removed) {
      if (rr.type === RRType.SOA) continue;
      if (zone._remove(rr)) {
        removed.push(rr);
        undo.push(() => zone._insert(rr, 'take-new'));
      }
    }
    zone._insert(newSoa, 'take-new');
    undo.push(() => zone._remove(newSoa));
    for (const rr of change.added) {
      if (rr.type === RRType.SOA) continue;
      const before = zone.get(rr.name, rr.type);
      const oldTtl = before?.ttl;
      const oldRdata = before === undefined ? [] : [...before.rdata];
      const outcome = zone._insert(rr, 'take-new');
      if (outcome === 'duplicate') {
        if (oldTtl === undefined || oldTtl === rr.ttl) continue;
        zone._setTtl(rr.name, rr.type, rr.ttl);
      }
      if (oldTtl !== undefined && oldTtl !== rr.ttl) {
        // The whole RRset moved to the new TTL: the journal re-lists its other records.
        for (const rdata of oldRdata) {
          removed.push({ name: rr.name, type: rr.type, class: rr.class, ttl: oldTtl, rdata });
          if (!(outcome === 'duplicate' && sameBytes(rdata, rr.rdata))) {
            added.push({ name: rr.name, type: rr.type, class: rr.class, ttl: rr.ttl, rdata });
          }
        }
        undo.push(() => zone._setTtl(rr.name, rr.type, oldTtl));
      }
      if (outcome !== 'duplicate') {
        added.push(rr);
        undo.push(() => zone._remove(rr));
      } else {
        added.push(rr);
      }
    }
    zone._checkComplete();
  } catch (err) {
    for (let i = undo.length - 1; i >= 0; i--) (undo[i] as () => void)();
    throw err;
  }
  return { fromSerial, toSerial: soaSerial(newSoa.rdata), removed, added };
}
