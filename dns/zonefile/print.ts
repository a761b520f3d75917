// Writes a zone back in presentation form: one RR per line, the SOA first, then canonical order
// (RFC 4034 §6: owner, type, RDATA), absolute names unless `relative` asks for owners relative
// to a leading $ORIGIN. parseZone(printZone(z)) gives the same zone. formatZone streams records
// in the order given as UTF-8 chunks, for other software (private-use types as TYPEnnn).
import { canonicalRdata, compareRdata } from '../canonical.ts';
import { relativeName, type Fqdn } from '../name.ts';
import { fastRdataText } from '../dnssec/present.ts';
import { genericText } from '../rdata/codec.ts';
import type { RR } from '../rr.ts';
import { classToString, typeToString } from '../types.ts';
import type { RRset, Zone } from '../zone.ts';

export interface PrintOptions {
  /** Write `$ORIGIN <origin>` first and owner names relative to it. */
  readonly relative?: boolean;
}

/**
 * Private-use types (RFC 6895: 65280-65534; HSYNC, HSYNCPARAM, CHUNK, JWK) are written in the
 * RFC 3597 form for other software, so that a signed zone loads in BIND, NSD, Knot and ldns,
 * which do not know them.
 */
const privateUse = (type: number): boolean => type >= 0xff00 && type <= 0xfffe;
/** Type names for other software: private-use types as TYPEnnn (RFC 3597). */
const typeNameForOthers = (type: number): string => (privateUse(type) ? `TYPE${type}` : typeToString(type));

/**
 * One record as a zone-file line (no newline), owner absolute unless `origin` is given.
 * `forOthers`: private-use types (and type names inside RDATA) as TYPEnnn with `\#` RDATA.
 */
export function formatRecord(rr: RR, origin?: Fqdn, forOthers = false): string {
  const owner = origin === undefined ? rr.name : relativeName(rr.name, origin);
  const cls = rr.class === 1 ? 'IN' : classToString(rr.class);
  if (forOthers && privateUse(rr.type)) return `${owner}\t${rr.ttl}\t${cls}\tTYPE${rr.type}\t${genericText(rr.rdata)}`;
  return `${owner}\t${rr.ttl}\t${cls}\t${typeToString(rr.type)}\t${fastRdataText(rr.type, rr.rdata, forOthers ? typeNameForOthers : typeToString)}`;
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

/**
 * Zone-file text of RRs in the order given, for other software (formatRecord's `forOthers`), one
 * per line, as UTF-8 in chunks of about `chunk` bytes (`mpdns sign` writes big zones). Lines are
 * written straight into one reused buffer (no per-line or per-chunk strings for the GC), so a
 * yielded chunk is valid only until the next one is asked for.
 */
export function* formatZone(records: Iterable<RR>, chunk = 1 << 20): Generator<Uint8Array> {
  const buf = Buffer.allocUnsafe(chunk);
  let o = 0;
  for (const r of records) {
    const line = `${formatRecord(r, undefined, true)}\n`;
    if (buf.length - o < line.length * 3) {
      if (o > 0) yield buf.subarray(0, o);
      o = 0;
      if (buf.length < line.length * 3) {
        yield Buffer.from(line);
        continue;
      }
    }
    o += buf.write(line, o, 'utf8');
  }
  if (o > 0) yield buf.subarray(0, o);
}
