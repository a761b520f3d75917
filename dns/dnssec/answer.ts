// DNSSEC-aware answers from a signed zone (RFC 4035 §3.1, RFC 5155 §7.2): the RFC 1034 lookup
// over the SignedZone index, plus RRSIGs and NSEC/NSEC3 proofs when the query has DO. Pure: the
// server (dns/net) wraps it as a ZoneSource.
import { isSubdomain, nameLabels, parentName, type Fqdn } from '../name.ts';
import type { RR } from '../rr.ts';
import { Rcode, RRType } from '../types.ts';
import { decodeRdata } from '../rdata/index.ts';
import { additionalTarget, negativeTtl, synthesizeCname } from '../zone-lookup.ts';
import type { SourceAnswer } from '../zone-source.ts';
import type { SignedZone } from './signer.ts';

const MAX_CNAME_CHAIN = 8;
const ADDRESS_TYPES = [RRType.A, RRType.AAAA] as const;

class Builder {
  readonly answer: RR[] = [];
  readonly authority: RR[] = [];
  readonly additional: RR[] = [];
  private readonly seen = new Set<string>();

  constructor(
    private readonly z: SignedZone,
    readonly dnssecOk: boolean,
  ) {}

  /** Adds an RRset (and, with DO, its RRSIGs) to a section once. */
  add(section: RR[], rrs: readonly RR[], sigs?: readonly RR[]): void {
    const first = rrs[0];
    if (first === undefined) return;
    const key = `${section === this.answer ? 'an' : section === this.authority ? 'au' : 'ad'}|${first.name}|${first.type}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    section.push(...rrs);
    if (this.dnssecOk) section.push(...(sigs ?? this.z.rrsigs(first.name, first.type)));
  }

  /** Adds an NSEC or NSEC3 record with its signatures (DO only). */
  proof(rr: RR | undefined): void {
    if (rr === undefined || !this.dnssecOk) return;
    this.add(this.authority, [rr]);
  }

  /** The SOA of a negative answer, and its RRSIGs, with the TTL of RFC 2308 §3. */
  soa(): void {
    const soa = this.z.rrset(this.z.origin, RRType.SOA);
    const first = soa[0];
    if (first === undefined) return;
    const ttl = negativeTtl(first.ttl, first.rdata);
    if (first.ttl <= ttl) {
      this.add(this.authority, soa);
      return;
    }
    const capped = (rrs: readonly RR[]): RR[] => rrs.map((r) => (r.ttl > ttl ? { ...r, ttl } : r));
    this.add(this.authority, capped(soa), this.dnssecOk ? capped(this.z.rrsigs(this.z.origin, RRType.SOA)) : []);
  }

  /** A/AAAA (with RRSIGs under DO) of the in-zone names NS, MX, SRV and KX records point at. */
  additionalFor(rrs: readonly RR[]): void {
    for (const rr of rrs) {
      const target = additionalTarget(rr.type, rr.rdata);
      if (target === undefined || !isSubdomain(target, this.z.origin)) continue;
      for (const t of ADDRESS_TYPES) this.add(this.additional, this.z.rrset(target, t));
    }
  }

  done(rcode: number, aa: boolean): SourceAnswer {
    return { rcode, aa, answer: this.answer, authority: this.authority, additional: this.additional };
  }
}

/** The names from just below the origin down to `qname`, top first. */
function pathFrom(origin: Fqdn, qname: Fqdn): Fqdn[] {
  const out: Fqdn[] = [];
  let n: Fqdn | undefined = qname;
  while (n !== undefined && n !== origin) {
    out.push(n);
    n = parentName(n);
  }
  return out.reverse();
}

function targetOf(rr: RR): Fqdn | undefined {
  try {
    if (rr.type === RRType.NS) return decodeRdata(RRType.NS, rr.rdata)['host'] as Fqdn;
    if (rr.type === RRType.CNAME) return decodeRdata(RRType.CNAME, rr.rdata)['target'] as Fqdn;
  } catch {
    return undefined;
  }
  return undefined;
}

function withOwner(rrs: readonly RR[], owner: Fqdn): RR[] {
  return rrs.map((r) => ({ ...r, name: owner }));
}

/**
 * Answers `qname`/`qtype` (qname at or below the zone's origin). With `dnssecOk` the answer
 * carries RRSIGs and the NSEC/NSEC3 records that prove a denial, a wildcard expansion or the
 * absence of a DS at an unsigned delegation.
 */
export function answerQuery(z: SignedZone, qname: Fqdn, qtype: number, dnssecOk: boolean): SourceAnswer {
  const b = new Builder(z, dnssecOk);
  let name = qname;
  for (let hops = 0; hops <= MAX_CNAME_CHAIN; hops++) {
    const step = lookupOne(z, b, name, qtype, hops > 0);
    if (step.kind === 'done') return b.done(step.rcode, step.aa);
    if (!isSubdomain(step.target, z.origin)) return b.done(Rcode.NOERROR, true);
    name = step.target;
  }
  return b.done(Rcode.NOERROR, true);
}

type Step = { kind: 'done'; rcode: number; aa: boolean } | { kind: 'cname'; target: Fqdn };

function lookupOne(z: SignedZone, b: Builder, qname: Fqdn, qtype: number, inChain: boolean): Step {
  // Down from the apex: a DNAME above the name (RFC 6672) or a zone cut (a referral, except
  // for DS at the cut itself, which is parent-side data), whichever comes first.
  const apexDname = qname !== z.origin && z.hasType(z.origin, RRType.DNAME);
  for (const n of apexDname ? [z.origin] : pathFrom(z.origin, qname)) {
    if (n !== qname && z.hasType(n, RRType.DNAME) && z.statusOf(n) === 'auth') {
      const dname = z.rrset(n, RRType.DNAME);
      b.add(b.answer, dname);
      const synth = dname[0] === undefined ? undefined : synthesizeCname(dname[0], qname);
      if (synth === undefined || dname[0] === undefined) return { kind: 'done', rcode: Rcode.YXDOMAIN, aa: true };
      // The synthesised CNAME is not signed: validators derive it from the signed DNAME.
      b.answer.push({ name: qname, type: RRType.CNAME, class: dname[0].class, ttl: dname[0].ttl, rdata: synth.rdata });
      // A query for the CNAME itself is answered by it (RFC 6672 §3.2's chain is for other types).
      return qtype === RRType.CNAME ? { kind: 'done', rcode: Rcode.NOERROR, aa: true } : { kind: 'cname', target: synth.target };
    }
    if (z.statusOf(n) !== 'cut') continue;
    if (n === qname && qtype === RRType.DS) break;
    // A CNAME chain that runs into a delegation ends in a referral; the CNAMEs stay ours (AA).
    referral(z, b, n);
    return { kind: 'done', rcode: Rcode.NOERROR, aa: inChain };
  }
  const types = z.typesAt(qname);
  if (types !== undefined) {
    if (qtype === RRType.ANY && types.length > 0) {
      for (const t of types) b.add(b.answer, z.rrset(qname, t));
      for (const t of types) b.additionalFor(z.rrset(qname, t));
      return { kind: 'done', rcode: Rcode.NOERROR, aa: true };
    }
    if (types.includes(qtype)) {
      const rrs = z.rrset(qname, qtype);
      b.add(b.answer, rrs);
      b.additionalFor(rrs);
      return { kind: 'done', rcode: Rcode.NOERROR, aa: true };
    }
    // The chain's own records, kept apart from the name's data: an NSEC (NSEC zones) and the
    // RRSIGs (RFC 4035 §3.1.5 leaves an RRSIG query's answer to the server: all of them).
    const nsec = qtype === RRType.NSEC ? z.nsecAt(qname) : undefined;
    if (nsec !== undefined) {
      b.add(b.answer, [nsec]);
      return { kind: 'done', rcode: Rcode.NOERROR, aa: true };
    }
    if (qtype === RRType.RRSIG && types.length > 0) {
      for (const t of [...types, RRType.NSEC]) b.answer.push(...z.rrsigs(qname, t));
      if (b.answer.length > 0) return { kind: 'done', rcode: Rcode.NOERROR, aa: true };
    }
    if (types.includes(RRType.CNAME)) {
      const cname = z.rrset(qname, RRType.CNAME);
      b.add(b.answer, cname);
      const target = cname[0] === undefined ? undefined : targetOf(cname[0]);
      return target === undefined ? { kind: 'done', rcode: Rcode.NOERROR, aa: true } : { kind: 'cname', target };
    }
    // NODATA (RFC 4035 §3.1.3.1): the NSEC at the name, or for an ENT the one covering it.
    b.soa();
    nodataProof(z, b, qname);
    return { kind: 'done', rcode: Rcode.NOERROR, aa: true };
  }
  // The name does not exist: closest encloser, then a wildcard below it (RFC 4592).
  const ce = closestEncloser(z, qname);
  const wildcard = `*.${ce === '.' ? '' : ce}` as Fqdn;
  const wtypes = z.typesAt(wildcard);
  if (wtypes !== undefined && z.statusOf(wildcard) === 'auth') {
    const t = wtypes.includes(qtype) ? qtype : wtypes.includes(RRType.CNAME) ? RRType.CNAME : undefined;
    if (t !== undefined) {
      const rrs = withOwner(z.rrset(wildcard, t), qname);
      b.add(b.answer, rrs, withOwner(z.rrsigs(wildcard, t), qname));
      b.additionalFor(rrs);
      // Proof that the exact name does not exist (RFC 4035 §3.1.3.3, RFC 5155 §7.2.6).
      if (z.denial.kind === 'nsec') b.proof(z.nsecCovering(qname));
      else b.proof(z.nsec3For(nextCloser(qname, ce))?.rr);
      if (t === RRType.CNAME) {
        const target = rrs[0] === undefined ? undefined : targetOf(rrs[0]);
        if (target !== undefined && qtype !== RRType.CNAME) return { kind: 'cname', target };
      }
      return { kind: 'done', rcode: Rcode.NOERROR, aa: true };
    }
    // Wildcard NODATA (RFC 4035 §3.1.3.4, RFC 5155 §7.2.5).
    b.soa();
    if (z.denial.kind === 'nsec') {
      b.proof(z.nsecCovering(qname));
      b.proof(z.nsecAt(wildcard));
    } else {
      b.proof(z.nsec3For(ce)?.rr);
      b.proof(z.nsec3For(nextCloser(qname, ce))?.rr);
      b.proof(z.nsec3For(wildcard)?.rr);
    }
    return { kind: 'done', rcode: Rcode.NOERROR, aa: true };
  }
  // NXDOMAIN (RFC 4035 §3.1.3.2, RFC 5155 §7.2.2).
  b.soa();
  if (z.denial.kind === 'nsec') {
    b.proof(z.nsecCovering(qname));
    b.proof(z.nsecCovering(wildcard));
  } else {
    b.proof(z.nsec3For(ce)?.rr);
    b.proof(z.nsec3For(nextCloser(qname, ce))?.rr);
    b.proof(z.nsec3For(wildcard)?.rr);
  }
  return { kind: 'done', rcode: Rcode.NXDOMAIN, aa: true };
}

function nodataProof(z: SignedZone, b: Builder, qname: Fqdn): void {
  if (z.denial.kind === 'nsec') {
    b.proof(z.nsecAt(qname) ?? z.nsecCovering(qname));
    return;
  }
  const m = z.nsec3For(qname);
  if (m?.match === true) {
    b.proof(m.rr);
    return;
  }
  // Opt-out: no NSEC3 for this name (an unsigned delegation's DS query); prove the closest
  // provable encloser and cover the next closer name (RFC 5155 §7.2.4).
  const ce = closestEncloser(z, qname, true);
  b.proof(z.nsec3For(ce)?.rr);
  b.proof(z.nsec3For(nextCloser(qname, ce))?.rr);
}

function referral(z: SignedZone, b: Builder, cut: Fqdn): void {
  const ns = z.rrset(cut, RRType.NS);
  b.authority.push(...ns);
  // The DS, or the proof there is none, only for DO queries (RFC 4035 §3.1.4).
  const ds = z.rrset(cut, RRType.DS);
  if (b.dnssecOk) {
    if (ds.length > 0) b.add(b.authority, ds);
    else if (z.denial.kind === 'nsec') b.proof(z.nsecAt(cut));
    else nodataProof(z, b, cut);
  }
  // Glue has no RRSIGs; an address the zone holds itself comes with them under DO (§3.1.1).
  b.additionalFor(ns);
}

/**
 * The longest existing ancestor of `qname` (an ENT counts). With `inChain`, only names that
 * have an NSEC3 record count (the closest provable encloser under opt-out).
 */
function closestEncloser(z: SignedZone, qname: Fqdn, inChain = false): Fqdn {
  let n = parentName(qname);
  while (n !== undefined && n !== z.origin) {
    if (z.typesAt(n) !== undefined && (!inChain || z.nsec3For(n)?.match === true)) return n;
    n = parentName(n);
  }
  return z.origin;
}

/** The ancestor of `qname` one label longer than `ce`. */
function nextCloser(qname: Fqdn, ce: Fqdn): Fqdn {
  const want = nameLabels(ce).length + 1;
  let n: Fqdn = qname;
  while (nameLabels(n).length > want) n = parentName(n) as Fqdn;
  return n;
}
