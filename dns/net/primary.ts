// A zone served as a primary: the zone store (dns/zone.ts) answered through dns/zone-lookup.ts,
// plus the IXFR journal. `update` swaps in a re-read zone and journals the difference.
import type { Fqdn } from '../name.ts';
import type { RR } from '../rr.ts';
import { Rcode, RRType } from '../types.ts';
import { rrsetRecords, type RRset, type Zone, type ZoneDiff } from '../zone.ts';
import { lookup, negativeTtl } from '../zone-lookup.ts';
import { diffZones } from '../zone-diff.ts';
import type { SourceAnswer, SourceQueryOptions, ZoneSource } from '../zone-source.ts';
import { Journal, type JournalLimits } from './journal.ts';

function records(sets: readonly RRset[]): RR[] {
  const out: RR[] = [];
  for (const s of sets) for (const r of rrsetRecords(s)) out.push(r);
  return out;
}

/** The SOA of a negative answer, with the TTL RFC 2308 §3 gives it. */
function negativeSoa(soa: RRset): RR[] {
  const ttl = negativeTtl(soa.ttl, soa.rdata[0] as Uint8Array);
  // Field by field: the zone's RRsets are class instances (a spread would lose `rdata`).
  return records([ttl === soa.ttl ? soa : { name: soa.name, type: soa.type, class: soa.class, ttl, rdata: soa.rdata }]);
}

/** RFC 1982: a newer than b. */
function serialGreater(a: number, b: number): boolean {
  return a !== b && ((a > b && a - b < 0x80000000) || (a < b && b - a > 0x80000000));
}

export type UpdateOutcome =
  | { readonly result: 'updated'; readonly fromSerial: number; readonly toSerial: number; readonly removed: number; readonly added: number }
  | { readonly result: 'unchanged'; readonly serial: number }
  | { readonly result: 'serial-not-increased'; readonly serial: number; readonly newSerial: number };

/**
 * Turns a lookup result into the sections of a response (RFC 1034 §4.3.2, RFC 2308). A
 * referral carries the parent's DS only when the query had DO (RFC 4035 §3.1.4).
 */
export function answerFromZone(zone: Zone, qname: Fqdn, qtype: number, dnssecOk = false): SourceAnswer {
  const r = lookup(zone, qname, qtype);
  switch (r.kind) {
    case 'answer':
      return { rcode: Rcode.NOERROR, aa: true, answer: records(r.answer), authority: [], additional: records(r.additional) };
    case 'nodata':
      return { rcode: Rcode.NOERROR, aa: true, answer: records(r.answer), authority: negativeSoa(r.soa), additional: [] };
    case 'nxdomain':
      return { rcode: Rcode.NXDOMAIN, aa: true, answer: records(r.answer), authority: negativeSoa(r.soa), additional: [] };
    case 'yxdomain':
      return { rcode: Rcode.YXDOMAIN, aa: true, answer: records(r.answer), authority: [], additional: [] };
    case 'referral':
      // A CNAME chain that ran into a delegation keeps AA for the part we own (RFC 1034 §4.3.2).
      return {
        rcode: Rcode.NOERROR,
        aa: r.answer.length > 0,
        answer: records(r.answer),
        authority: records(r.ds === undefined || !dnssecOk ? [r.ns] : [r.ns, r.ds]),
        additional: records(r.additional),
      };
    case 'outside':
      return { rcode: Rcode.REFUSED, aa: false, answer: [], authority: [], additional: [] };
    default: {
      const never: never = r;
      return never;
    }
  }
}

export class PrimaryZone implements ZoneSource {
  #zone: Zone;
  readonly journal: Journal;

  constructor(zone: Zone, limits: JournalLimits = {}) {
    this.#zone = zone;
    this.journal = new Journal(limits);
  }

  get origin(): Fqdn {
    return this.#zone.origin;
  }

  get serial(): number {
    return this.#zone.serial;
  }

  /** The zone currently served. */
  get zone(): Zone {
    return this.#zone;
  }

  soa(): RR {
    return this.#zone.soaRR();
  }

  query(qname: Fqdn, qtype: number, opts: SourceQueryOptions): SourceAnswer {
    return answerFromZone(this.#zone, qname, qtype, opts.dnssecOk);
  }

  records(): Iterable<RR> {
    return this.#zone.records();
  }

  diffsSince(serial: number): readonly ZoneDiff[] | undefined {
    return this.journal.since(serial);
  }

  /**
   * Replaces the zone with a re-read version. The difference is journalled when the serial
   * grew; a changed zone whose serial did not grow is not served (secondaries could not see the
   * change) and the outcome says so.
   */
  update(next: Zone): UpdateOutcome {
    const old = this.#zone;
    if (next.serial === old.serial) {
      const d = diffZones(old, next);
      const changed = d.removed.some((r) => r.type !== RRType.SOA) || d.added.some((r) => r.type !== RRType.SOA);
      return changed
        ? { result: 'serial-not-increased', serial: old.serial, newSerial: next.serial }
        : { result: 'unchanged', serial: old.serial };
    }
    if (!serialGreater(next.serial, old.serial)) {
      return { result: 'serial-not-increased', serial: old.serial, newSerial: next.serial };
    }
    const d = diffZones(old, next);
    this.journal.append(d);
    this.#zone = next;
    return { result: 'updated', fromSerial: d.fromSerial, toSerial: d.toSerial, removed: d.removed.length, added: d.added.length };
  }
}
