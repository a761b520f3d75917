// Writes a zone back in presentation form: one RR per line, the SOA first, then canonical order
// (RFC 4034 §6: owner, type, RDATA), absolute names unless `relative` asks for owners relative
// to a leading $ORIGIN. parseZone(printZone(z)) gives the same zone.
import { canonicalRdata, compareRdata } from '../canonical.ts';
import { relativeName, type Fqdn } from '../name.ts';
import { rdataToText } from '../rdata/codec.ts';
import type { RR } from '../rr.ts';
import { classToString, typeToString } from '../types.ts';
import type { RRset, Zone } from '../zone.ts';

export interface PrintOptions {
  /** Write `$ORIGIN <origin>` first and owner names relative to it. */
  readonly relative?: boolean;
}

/** One record as a zone-file line (no newline), owner absolute unless `origin` is given. */
export function formatRecord(rr: RR, origin?: Fqdn): string {
  const owner = origin === undefined ? rr.name : relativeName(rr.name, origin);
  return `${owner}\t${rr.ttl}\t${classToString(rr.class)}\t${typeToString(rr.type)}\t${rdataToText(rr.type, rr.rdata)}`;
}

function orderedRdata(set: RRset): Uint8Array[] {
  if (set.rdata.length < 2) return [...set.rdata];
  return set.rdata
    .map((r) => ({ r, c: canonicalRdata(set.type, r) }))
    .sort((a, b) => compareRdata(a.c, b.c))
    .map((e) => e.r);
}

/** Lines of the zone, in order (no trailing newlines): for streaming large zones. */
export function* zoneLines(zone: Zone, opts: PrintOptions = {}): IterableIterator<string> {
  const origin = opts.relative === true ? zone.origin : undefined;
  if (origin !== undefined) yield `$ORIGIN ${origin}`;
  for (const set of zone.rrsetsInOrder()) {
    for (const rdata of orderedRdata(set)) {
      yield formatRecord({ name: set.name, type: set.type, class: set.class, ttl: set.ttl, rdata }, origin);
    }
  }
}

/** The whole zone as zone-file text. */
export function printZone(zone: Zone, opts: PrintOptions = {}): string {
  let out = '';
  for (const line of zoneLines(zone, opts)) out += line + '\n';
  return out;
}
