// The type bit maps field of NSEC and NSEC3 (RFC 4034 §4.1.2): windows of up to 32 octets.
import { DnssecWireError } from './errors.ts';

/** Encodes a set of RR type codes as window blocks. */
export function encodeTypeBitmap(types: Iterable<number>): Uint8Array {
  const sorted = Array.from(new Set(types)).sort((a, b) => a - b);
  // Common case: every type below 256 (one window).
  const last = sorted[sorted.length - 1];
  if (last !== undefined && last < 256) {
    const len = (last >> 3) + 1;
    const out: Uint8Array = Buffer.alloc(2 + len);
    out[1] = len;
    for (const t of sorted) out[2 + (t >> 3)] = (out[2 + (t >> 3)] as number) | (0x80 >> (t & 7));
    return out;
  }
  const out: number[] = [];
  let i = 0;
  while (i < sorted.length) {
    const window = (sorted[i] as number) >> 8;
    const bits = new Uint8Array(32);
    let maxOctet = 0;
    while (i < sorted.length && (sorted[i] as number) >> 8 === window) {
      const low = (sorted[i] as number) & 0xff;
      const octet = low >> 3;
      bits[octet] = (bits[octet] as number) | (0x80 >> (low & 7));
      if (octet > maxOctet) maxOctet = octet;
      i++;
    }
    out.push(window, maxOctet + 1, ...bits.subarray(0, maxOctet + 1));
  }
  return Uint8Array.from(out);
}

/** Decodes window blocks into type codes, ascending. */
export function decodeTypeBitmap(b: Uint8Array): number[] {
  const types: number[] = [];
  let o = 0;
  let lastWindow = -1;
  while (o < b.length) {
    const window = b[o] as number;
    const len = b[o + 1];
    if (len === undefined || len < 1 || len > 32 || o + 2 + len > b.length || window <= lastWindow) {
      throw new DnssecWireError('malformed type bit map');
    }
    for (let k = 0; k < len; k++) {
      const octet = b[o + 2 + k] as number;
      for (let bit = 0; bit < 8; bit++) {
        if ((octet & (0x80 >> bit)) !== 0) types.push((window << 8) | (k * 8 + bit));
      }
    }
    lastWindow = window;
    o += 2 + len;
  }
  return types;
}
