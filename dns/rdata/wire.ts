// Bounds-checked byte reader and growable byte writer for RDATA, and name wire helpers.
// Every read checks its bounds and throws WireError; nothing here allocates per byte.
import { WireError } from '../errors.ts';
import { labelToText, MAX_LABEL, MAX_NAME_WIRE, nameToWire, type Fqdn } from '../name.ts';

export class WireReader {
  constructor(
    readonly buf: Uint8Array,
    public off: number,
    readonly end: number,
  ) {}

  get remaining(): number {
    return this.end - this.off;
  }

  need(n: number, what: string): void {
    if (this.off + n > this.end) throw new WireError(`truncated ${what}`, this.off);
  }

  u8(what = 'u8'): number {
    this.need(1, what);
    return this.buf[this.off++] as number;
  }

  u16(what = 'u16'): number {
    this.need(2, what);
    const b = this.buf;
    const v = ((b[this.off] as number) << 8) | (b[this.off + 1] as number);
    this.off += 2;
    return v;
  }

  u32(what = 'u32'): number {
    this.need(4, what);
    const b = this.buf;
    const o = this.off;
    const v = (b[o] as number) * 0x1000000 + (((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number));
    this.off += 4;
    return v;
  }

  bytes(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    const v = this.buf.slice(this.off, this.off + n);
    this.off += n;
    return v;
  }

  rest(): Uint8Array {
    return this.bytes(this.end - this.off);
  }

  /** An uncompressed name inside RDATA (compression pointers are an error here). */
  name(what = 'name'): Fqdn {
    const { name, next } = readNameAt(this.buf, this.off, this.end, false, what);
    this.off = next;
    return name;
  }
}

/**
 * Reads a (possibly compressed) name at `off`. Pointers must point strictly backwards, which
 * makes loops impossible; label and name lengths are checked. Returns the Fqdn and the offset
 * after the name in the original position.
 */
export function readNameAt(
  buf: Uint8Array,
  off: number,
  end: number,
  allowPointers: boolean,
  what = 'name',
): { name: Fqdn; next: number } {
  let out = '';
  let wireLen = 1;
  let p = off;
  let next = -1;
  let limit = end;
  for (;;) {
    if (p >= limit) throw new WireError(`truncated ${what}`, p);
    const len = buf[p] as number;
    if (len === 0) {
      if (next < 0) next = p + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (!allowPointers) throw new WireError(`compression pointer in ${what}`, p);
      if (p + 1 >= limit) throw new WireError(`truncated pointer in ${what}`, p);
      const target = ((len & 0x3f) << 8) | (buf[p + 1] as number);
      if (next < 0) next = p + 2;
      if (target >= p) throw new WireError(`forward compression pointer in ${what}`, p);
      // Everything after a pointer lies before it: bound the rest of the walk there.
      limit = p;
      p = target;
      continue;
    }
    if ((len & 0xc0) !== 0) throw new WireError(`bad label type in ${what}`, p);
    if (p + 1 + len > limit) throw new WireError(`truncated label in ${what}`, p);
    wireLen += len + 1;
    if (wireLen > MAX_NAME_WIRE) throw new WireError(`${what} longer than ${MAX_NAME_WIRE} octets`, p);
    out += labelText(buf, p + 1, len) + '.';
    p += len + 1;
  }
  return { name: (out === '' ? '.' : out) as Fqdn, next };
}

/** Presentation text of one label from wire bytes; fast path for plain lower-case labels. */
function labelText(buf: Uint8Array, start: number, len: number): string {
  let plain = true;
  for (let i = start; i < start + len; i++) {
    const c = buf[i] as number;
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f)) {
      plain = false;
      break;
    }
  }
  if (plain) {
    let s = '';
    for (let i = start; i < start + len; i++) s += String.fromCharCode(buf[i] as number);
    return s;
  }
  return labelToText(buf.subarray(start, start + len));
}

/** Skips an uncompressed name in RDATA, checking limits; returns the offset after it. */
export function skipName(buf: Uint8Array, off: number, end: number, what = 'name'): number {
  let p = off;
  let wireLen = 1;
  for (;;) {
    if (p >= end) throw new WireError(`truncated ${what}`, p);
    const len = buf[p] as number;
    if (len === 0) return p + 1;
    if (len > MAX_LABEL) throw new WireError(`bad label in ${what}`, p);
    wireLen += len + 1;
    if (wireLen > MAX_NAME_WIRE) throw new WireError(`${what} longer than ${MAX_NAME_WIRE} octets`, p);
    if (p + 1 + len > end) throw new WireError(`truncated label in ${what}`, p);
    p += len + 1;
  }
}

/** A growable output buffer. */
export class WireWriter {
  buf: Uint8Array;
  off = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
  }

  ensure(n: number): void {
    if (this.off + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.off + n) size *= 2;
    const nb = new Uint8Array(size);
    nb.set(this.buf.subarray(0, this.off));
    this.buf = nb;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.off++] = v & 0xff;
  }

  u16(v: number): void {
    this.ensure(2);
    this.buf[this.off++] = (v >>> 8) & 0xff;
    this.buf[this.off++] = v & 0xff;
  }

  u32(v: number): void {
    this.ensure(4);
    this.buf[this.off++] = (v >>> 24) & 0xff;
    this.buf[this.off++] = (v >>> 16) & 0xff;
    this.buf[this.off++] = (v >>> 8) & 0xff;
    this.buf[this.off++] = v & 0xff;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.off);
    this.off += b.length;
  }

  name(n: Fqdn): void {
    if (n.includes('\\')) {
      this.bytes(nameToWire(n));
      return;
    }
    // Plain names: write labels straight from the text.
    this.ensure(n.length + 1);
    const b = this.buf;
    if (n !== '.') {
      let lenAt = this.off++;
      let len = 0;
      for (let i = 0; i < n.length; i++) {
        const c = n.charCodeAt(i);
        if (c === 0x2e) {
          b[lenAt] = len;
          lenAt = this.off++;
          len = 0;
        } else {
          b[this.off++] = c;
          len++;
        }
      }
      b[lenAt] = 0;
    } else {
      b[this.off++] = 0;
    }
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.off);
  }
}
