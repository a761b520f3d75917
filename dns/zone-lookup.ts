// RFC 1034 §4.3.2 lookup in one zone, with RFC 4592 wildcards: what the server turns into a
// response. Pure: the result lists RRsets; the server picks flags, rcode and sections:
//   answer   -> NOERROR, AA, answer section (+ additional)
//   nodata   -> NOERROR, AA, SOA in authority
//   nxdomain -> NXDOMAIN, AA, SOA in authority
//   referral -> NOERROR, no AA, NS (+ DS when DNSSEC) in authority, glue in additional
//   yxdomain -> YXDOMAIN, AA: a DNAME substitution would make a name over 255 octets
//   outside  -> the name is not in this zone (REFUSED or another zone)
// Every variant but `outside` carries `answer`: a CNAME chain followed inside the zone comes
// first, and the variant says how the chain ended (RFC 6604: the rcode is the last step's).
// A DNAME above the name (RFC 6672) puts the DNAME and a CNAME synthesised from it into that
// chain.
import { isSubdomain, nameToWire, replaceSuffix, type Fqdn } from './name.ts';
import { readNameAt } from './rdata/wire.ts';
import { soaMinimum } from './rdata/soa.ts';
import { RRType } from './types.ts';
import type { RRset, Zone } from './zone.ts';

/** One wildcard expansion (RFC 4592): what a DNSSEC server must prove. */
export interface WildcardInfo {
  /** The name that was asked for (the owner of the synthesised records). */
  readonly qname: Fqdn;
  /** The wildcard owner `*.<closestEncloser>` the records came from. */
  readonly source: Fqdn;
  readonly closestEncloser: Fqdn;
}

interface Common {
  /** CNAME RRsets followed before the final step, in order (owners rewritten for wildcards). */
  readonly answer: readonly RRset[];
  /** Wildcard expansions used along the way, in order. */
  readonly wildcards: readonly WildcardInfo[];
  /** The name the final step was about (qname, or the last CNAME target). */
  readonly target: Fqdn;
}

export type LookupResult =
  | (Common & { readonly kind: 'answer'; readonly additional: readonly RRset[] })
  | (Common & { readonly kind: 'nodata'; readonly soa: RRset })
  | (Common & { readonly kind: 'nxdomain'; readonly soa: RRset; readonly closestEncloser: Fqdn })
  | (Common & { readonly kind: 'yxdomain' })
  | (Common & {
      readonly kind: 'referral';
      readonly cut: Fqdn;
      readonly ns: RRset;
      /** The DS RRset at the cut, when the parent side has one. */
      readonly ds?: RRset;
      /** A/AAAA RRsets of NS targets found in this zone. */
      readonly additional: readonly RRset[];
    })
  | { readonly kind: 'outside' };

/** Longest CNAME chain followed inside one zone. */
export const MAX_CNAME_CHAIN = 16;

/** RDATA offset of the target name in types whose target gets additional-section processing. */
const TARGET_OFFSET = new Map<number, number>([
  [RRType.NS, 0],
  [RRType.MX, 2],
  [RRType.SRV, 6],
  [RRType.KX, 2],
]);

/** The name an NS, MX, SRV or KX record points at (its additional-section target), if any. */
export function additionalTarget(type: number, rdata: Uint8Array): Fqdn | undefined {
  const off = TARGET_OFFSET.get(type);
  if (off === undefined) return undefined;
  try {
    return readNameAt(rdata, off, rdata.length, false).name;
  } catch {
    return undefined;
  }
}

/** TTL of the SOA in a negative answer: min(SOA TTL, SOA MINIMUM) (RFC 2308 §3). */
export function negativeTtl(soaTtl: number, soaRdata: Uint8Array): number {
  return Math.min(soaTtl, soaMinimum(soaRdata));
}

/**
 * DNAME substitution (RFC 6672 §2.2): the new name for `name` below the DNAME's owner, and the
 * RDATA of the CNAME synthesised to it; undefined when the new name would exceed 255 octets.
 */
export function synthesizeCname(dname: { readonly name: Fqdn; readonly rdata: Uint8Array }, name: Fqdn): { target: Fqdn; rdata: Uint8Array } | undefined {
  let target: Fqdn;
  try {
    target = readNameAt(dname.rdata, 0, dname.rdata.length, false).name;
  } catch {
    return undefined;
  }
  const next = replaceSuffix(name, dname.name, target);
  return next === undefined ? undefined : { target: next, rdata: nameToWire(next) };
}

function withOwner(set: RRset, owner: Fqdn): RRset {
  return set.name === owner ? set : { name: owner, type: set.type, class: set.class, ttl: set.ttl, rdata: set.rdata };
}

/** A/AAAA RRsets in the zone for the names the given RRsets point at (NS, MX, SRV, KX). */
export function additionalFor(zone: Zone, sets: readonly RRset[]): RRset[] {
  const out: RRset[] = [];
  const seen = new Set<Fqdn>();
  for (const set of sets) {
    if (!TARGET_OFFSET.has(set.type)) continue;
    for (const rdata of set.rdata) {
      const target = additionalTarget(set.type, rdata);
      if (target === undefined || seen.has(target) || !isSubdomain(target, zone.origin)) continue;
      seen.add(target);
      const a = zone.get(target, RRType.A);
      const aaaa = zone.get(target, RRType.AAAA);
      if (a !== undefined) out.push(a);
      if (aaaa !== undefined) out.push(aaaa);
    }
  }
  return out;
}

/** The closest existing ancestor of an absent name (RFC 4592 closest encloser). */
function closestEncloser(zone: Zone, name: Fqdn): Fqdn {
  let n = name;
  while (n !== zone.origin) {
    const dot = parentOf(n);
    n = dot;
    if (zone.has(n)) return n;
  }
  return zone.origin;
}

function parentOf(name: Fqdn): Fqdn {
  // Names here are below the origin, so there is always a parent; escaped dots are skipped.
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x5c) {
      const d = name.charCodeAt(i + 1);
      i += d >= 0x30 && d <= 0x39 ? 3 : 1;
    } else if (c === 0x2e) {
      const rest = name.slice(i + 1);
      return (rest === '' ? '.' : rest) as Fqdn;
    }
  }
  return '.' as Fqdn;
}

/**
 * Looks `qname`/`qtype` up in `zone` (RFC 1034 §4.3.2 step 3, RFC 4592 wildcards). QTYPE ANY
 * returns every RRset at the name; DS at a zone cut is answered from the parent side.
 */
export function lookup(zone: Zone, qname: Fqdn, qtype: number): LookupResult {
  if (!isSubdomain(qname, zone.origin)) return { kind: 'outside' };
  const answer: RRset[] = [];
  const wildcards: WildcardInfo[] = [];
  const visited = new Set<Fqdn>();
  let name = qname;
  for (;;) {
    visited.add(name);
    // 1. A DNAME above the name (RFC 6672): the DNAME, the CNAME it makes, and on to its target.
    const cut = zone.cutAt(name);
    const dnameOwner = zone.dnameAbove(name);
    // (A DNAME at a delegation point is parent-side data, not ours: the referral wins.)
    if (dnameOwner !== undefined && (cut === undefined || (cut !== dnameOwner && isSubdomain(cut, dnameOwner)))) {
      const dname = zone.get(dnameOwner, RRType.DNAME) as RRset;
      answer.push(dname);
      const synth = synthesizeCname({ name: dname.name, rdata: dname.rdata[0] as Uint8Array }, name);
      if (synth === undefined) return { kind: 'yxdomain', answer, wildcards, target: name };
      answer.push({ name, type: RRType.CNAME, class: dname.class, ttl: dname.ttl, rdata: [synth.rdata] });
      // A query for the CNAME itself is answered by it (RFC 6672 §3.2's chain is for other types).
      if (qtype === RRType.CNAME) return { kind: 'answer', answer, wildcards, target: name, additional: [] };
      if (!isSubdomain(synth.target, zone.origin) || visited.has(synth.target) || answer.length >= MAX_CNAME_CHAIN) {
        return { kind: 'answer', answer, wildcards, target: name, additional: [] };
      }
      name = synth.target;
      continue;
    }
    // 2. A zone cut at or above the name: referral (DS at the cut itself is parent-side data).
    if (cut !== undefined && !(cut === name && qtype === RRType.DS)) {
      const ns = zone.get(cut, RRType.NS) as RRset;
      const ds = zone.get(cut, RRType.DS);
      const base = { kind: 'referral' as const, answer, wildcards, target: name, cut, ns, additional: additionalFor(zone, [ns]) };
      return ds === undefined ? base : { ...base, ds };
    }
    // 3. The name itself, or a wildcard at its closest encloser.
    let sets: readonly RRset[];
    if (zone.has(name)) {
      sets = zone.rrsets(name);
    } else {
      const ce = closestEncloser(zone, name);
      const source = (ce === '.' ? '*.' : `*.${ce}`) as Fqdn;
      if (!zone.has(source)) {
        return { kind: 'nxdomain', answer, wildcards, target: name, soa: zone.soa, closestEncloser: ce };
      }
      wildcards.push({ qname: name, source, closestEncloser: ce });
      sets = zone.rrsets(source).map((s) => withOwner(s, name));
    }
    if (qtype === RRType.ANY) {
      if (sets.length === 0) return { kind: 'nodata', answer, wildcards, target: name, soa: zone.soa };
      return { kind: 'answer', answer: [...answer, ...sets], wildcards, target: name, additional: additionalFor(zone, sets) };
    }
    const exact = sets.find((s) => s.type === qtype);
    if (exact !== undefined) {
      return { kind: 'answer', answer: [...answer, exact], wildcards, target: name, additional: additionalFor(zone, [exact]) };
    }
    const cname = sets.find((s) => s.type === RRType.CNAME);
    if (cname === undefined) return { kind: 'nodata', answer, wildcards, target: name, soa: zone.soa };
    answer.push(cname);
    const rdata = cname.rdata[0] as Uint8Array;
    const next = readNameAt(rdata, 0, rdata.length, false).name;
    // The chain leaves the zone, loops or is too long: answer with what we have.
    if (!isSubdomain(next, zone.origin) || visited.has(next) || answer.length >= MAX_CNAME_CHAIN) {
      return { kind: 'answer', answer, wildcards, target: name, additional: [] };
    }
    name = next;
  }
}
