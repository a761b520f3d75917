// RFC 4034 §6 canonical form and order: canonical RDATA (names lower-cased in the types RFC
// 4034 §6.2 lists, as amended by RFC 6840 §5.1: not NSEC), RDATA and RR comparison, sorting,
// and the key that identifies an RRset.
import { WireError } from './errors.ts';
import { compareNames, type Fqdn } from './name.ts';
import { descriptorOf } from './rdata/descriptors.ts';
import type { RR } from './rr.ts';

/** Canonical RDATA: a copy with ASCII upper-case letters of embedded names lower-cased where required. */
export function canonicalRdata(type: number, rdata: Uint8Array): Uint8Array {
  const desc = descriptorOf(type);
  if (desc === undefined || !desc.canonical) return rdata;
  let out: Uint8Array | undefined;
  let p = 0;
  for (const f of desc.fields) {
    const shape = f.shape;
    if (p >= rdata.length && f.optional) break;
    if (typeof shape === 'number') {
      p += shape;
    } else if (shape === 'cstr') {
      if (p >= rdata.length) throw new WireError(`truncated ${f.name}`, p);
      p += 1 + (rdata[p] as number);
    } else if (shape === 'name') {
      for (;;) {
        if (p >= rdata.length) throw new WireError(`truncated ${f.name}`, p);
        const l = rdata[p] as number;
        if (l === 0) {
          p++;
          break;
        }
        if (l > 63) throw new WireError(`bad label in ${f.name}`, p);
        if (p + 1 + l > rdata.length) throw new WireError(`truncated ${f.name}`, p);
        for (let i = p + 1; i <= p + l; i++) {
          const c = rdata[i] as number;
          if (c >= 0x41 && c <= 0x5a) {
            out ??= rdata.slice();
            out[i] = c + 32;
          }
        }
        p += 1 + l;
      }
    } else {
      break;
    }
    if (p > rdata.length) throw new WireError(`truncated ${f.name}`, p);
  }
  return out ?? rdata;
}

/** Compares RDATA as left-justified unsigned octet sequences (RFC 4034 §6.3). */
export function compareRdata(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** Canonical RR order: owner name (RFC 4034 §6.1), then type, class, canonical RDATA. */
export function compareRRs(a: RR, b: RR): number {
  const n = compareNames(a.name, b.name);
  if (n !== 0) return n;
  if (a.type !== b.type) return a.type - b.type;
  if (a.class !== b.class) return a.class - b.class;
  return compareRdata(canonicalRdata(a.type, a.rdata), canonicalRdata(b.type, b.rdata));
}

/** A sorted copy in canonical order (canonical RDATA computed once per RR). */
export function sortCanonical(rrs: readonly RR[]): RR[] {
  const keyed = rrs.map((rr) => ({ rr, c: canonicalRdata(rr.type, rr.rdata) }));
  keyed.sort((x, y) => {
    const n = compareNames(x.rr.name, y.rr.name);
    if (n !== 0) return n;
    if (x.rr.type !== y.rr.type) return x.rr.type - y.rr.type;
    if (x.rr.class !== y.rr.class) return x.rr.class - y.rr.class;
    return compareRdata(x.c, y.c);
  });
  return keyed.map((k) => k.rr);
}

/** The identity of an RRset: owner, class and type (names are canonical, so equal names give equal keys). */
export function rrsetKey(rr: { readonly name: Fqdn; readonly type: number; readonly class: number }): string {
  return `${rr.name}/${rr.class}/${rr.type}`;
}
