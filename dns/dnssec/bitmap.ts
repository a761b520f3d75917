// The type bit maps field of NSEC and NSEC3 (RFC 4034 §4.1.2): windows of up to 32 octets.
// The codec is dns/rdata's `bitmap` field; this file adds a fast path for the signer's common
// case (every type below 256: one window, no sorting through a Set) and DNSSEC's error class.
import { WireError } from '../errors.ts';
import { bitmap } from '../rdata/fields.ts';
import { WireReader, WireWriter } from '../rdata/wire.ts';
import { DnssecWireError } from './errors.ts';

const field = bitmap('types');

/** Encodes a set of RR type codes as window blocks. */
export function encodeTypeBitmap(types: Iterable<number>): Uint8Array {
  const list = Array.isArray(types) ? (types as number[]) : Array.from(types);
  let max = -1;
  for (const t of list) if (t > max) max = t;
  if (max >= 0 && max < 256) {
    const len = (max >> 3) + 1;
    const out: Uint8Array = Buffer.alloc(2 + len);
    out[1] = len;
    for (const t of list) out[2 + (t >> 3)] = (out[2 + (t >> 3)] as number) | (0x80 >> (t & 7));
    return out;
  }
  const w = new WireWriter(64);
  field.write(w, list);
  return w.finish();
}

/** Decodes window blocks into type codes, ascending. */
export function decodeTypeBitmap(b: Uint8Array): number[] {
  try {
    return field.read(new WireReader(b, 0, b.length));
  } catch (err) {
    if (err instanceof WireError) throw new DnssecWireError(`malformed type bit map: ${err.message}`, { cause: err });
    throw err;
  }
}
