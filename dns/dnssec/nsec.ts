// NSEC RDATA (RFC 4034 §4): next owner name and the types present at the owner.
import { nameFromLabelBytes, type Fqdn } from '../name.ts';
import { ownerWire } from './namekeys.ts';
import { decodeTypeBitmap, encodeTypeBitmap } from './bitmap.ts';
import { DnssecWireError } from './errors.ts';

export function encodeNsec(next: Fqdn, types: Iterable<number>): Uint8Array {
  const n = ownerWire(next);
  const bm = encodeTypeBitmap(types);
  const out: Uint8Array = Buffer.allocUnsafe(n.length + bm.length);
  out.set(n, 0);
  out.set(bm, n.length);
  return out;
}

export function decodeNsec(rdata: Uint8Array): { next: Fqdn; types: number[] } {
  const labels: Uint8Array[] = [];
  let o = 0;
  for (;;) {
    const len = rdata[o];
    if (len === undefined || len > 63) throw new DnssecWireError('NSEC next name malformed');
    if (len === 0) break;
    labels.push(rdata.subarray(o + 1, o + 1 + len));
    o += 1 + len;
  }
  let next: Fqdn;
  try {
    next = nameFromLabelBytes(labels);
  } catch (err) {
    throw new DnssecWireError('NSEC next name invalid', { cause: err });
  }
  return { next, types: decodeTypeBitmap(rdata.subarray(o + 1)) };
}
