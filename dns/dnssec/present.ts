// Fast presentation text of the records the signer makes in bulk (RRSIG, NSEC, NSEC3): a signed
// zone of 100,000 names prints hundreds of thousands of them. Output equals dns/rdata's
// rdataToText; other types go through it. `typeName` names the types inside the RDATA (type
// covered, bit maps), so a caller can write private-use types as TYPEnnn for other software.
import { formatBase32Hex } from '../rdata/text.ts';
import { rdataToText } from '../rdata/index.ts';
import { decodeTypeBitmap } from './bitmap.ts';
import { labelToText } from '../name.ts';
import { RRType, typeToString } from '../types.ts';

const dayCache = new Map<number, string>();
const two = (n: number): string => (n < 10 ? '0' : '') + String(n);

/** RRSIG time field: YYYYMMDDHHmmSS (UTC). */
export function sigTimeText(t: number): string {
  const day = Math.floor(t / 86400);
  let d = dayCache.get(day);
  if (d === undefined) {
    d = new Date(day * 86400_000).toISOString().slice(0, 10).replace(/-/g, '');
    dayCache.set(day, d);
  }
  const s = t - day * 86400;
  return d + two(Math.floor(s / 3600)) + two(Math.floor(s / 60) % 60) + two(s % 60);
}

/** Reads an uncompressed name at `o`; returns its text and the offset after it. */
function nameAt(b: Uint8Array, o: number): [string, number] {
  let s = '';
  const start = o;
  for (;;) {
    const len = b[o];
    if (len === undefined || len > 63 || o + 1 + len > b.length || o + 1 + len - start > 255) throw new RangeError('bad name');
    if (len === 0) return [s === '' ? '.' : s, o + 1];
    let plain = true;
    for (let i = o + 1; i <= o + len; i++) {
      const c = b[i] as number;
      if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f)) {
        plain = false;
        break;
      }
    }
    s += (plain ? Buffer.from(b.buffer, b.byteOffset + o + 1, len).toString('latin1') : labelToText(b.subarray(o + 1, o + 1 + len))) + '.';
    o += 1 + len;
  }
}

let lastSignerWire: Uint8Array = new Uint8Array(0);
let lastSigner: [string, number] = ['.', 0];

/** The signer name of RRSIG RDATA; consecutive RRSIGs of one zone share it, so it is cached. */
function signerAt(b: Uint8Array): [string, number] {
  const n = lastSignerWire.length;
  if (n > 0 && b.length > 18 + n) {
    let same = true;
    for (let i = 0; i < n; i++) {
      if (b[18 + i] !== lastSignerWire[i]) {
        same = false;
        break;
      }
    }
    if (same) return lastSigner;
  }
  const r = nameAt(b, 18);
  lastSignerWire = b.slice(18, r[1]);
  lastSigner = r;
  return r;
}

function rrsigText(b: Uint8Array, typeName: (type: number) => string): string {
  const [signer, o] = signerAt(b);
  if (o >= b.length) throw new RangeError('RRSIG without a signature');
  const sig = Buffer.from(b.buffer, b.byteOffset + o, b.byteLength - o).toString('base64');
  const u32 = (i: number): number => (((b[i] as number) << 24) | ((b[i + 1] as number) << 16) | ((b[i + 2] as number) << 8) | (b[i + 3] as number)) >>> 0;
  return `${typeName(((b[0] as number) << 8) | (b[1] as number))} ${b[2]} ${b[3]} ${u32(4)} ${sigTimeText(u32(8))} ${sigTimeText(u32(12))} ${((b[16] as number) << 8) | (b[17] as number)} ${signer} ${sig}`;
}

// Bit map text by bit map octets (and namer): a signed zone has few distinct type sets.
const bitmapTexts = new WeakMap<(type: number) => string, Map<string, string>>();

/** " A NS SOA ..." for a type bit map (empty for an empty one), with a leading space. */
function bitmapText(b: Uint8Array, o: number, typeName: (type: number) => string): string {
  let cache = bitmapTexts.get(typeName);
  if (cache === undefined) {
    cache = new Map();
    bitmapTexts.set(typeName, cache);
  }
  // Only short bit maps (types below 512, the signer's case) are cached, and at most 10,000.
  const cacheable = b.byteLength - o <= 68;
  const key = cacheable ? Buffer.from(b.buffer, b.byteOffset + o, b.byteLength - o).toString('latin1') : '';
  let text = cacheable ? cache.get(key) : undefined;
  if (text === undefined) {
    text = decodeTypeBitmap(b.subarray(o)).map((t) => ` ${typeName(t)}`).join('');
    if (cacheable && cache.size < 10_000) cache.set(key, text);
  }
  return text;
}

function nsecText(b: Uint8Array, typeName: (type: number) => string): string {
  const [next, o] = nameAt(b, 0);
  return next + bitmapText(b, o, typeName);
}

function nsec3Text(b: Uint8Array, typeName: (type: number) => string): string {
  const saltLen = b[4] as number;
  const hashAt = 5 + saltLen;
  const hashLen = b[hashAt];
  if (hashLen === undefined || hashLen === 0 || hashAt + 1 + hashLen > b.length) throw new RangeError('bad NSEC3');
  const salt = saltLen === 0 ? '-' : Buffer.from(b.buffer, b.byteOffset + 5, saltLen).toString('hex').toUpperCase();
  const next = formatBase32Hex(b.subarray(hashAt + 1, hashAt + 1 + hashLen));
  return `${b[0]} ${b[1]} ${((b[2] as number) << 8) | (b[3] as number)} ${salt} ${next}${bitmapText(b, hashAt + 1 + hashLen, typeName)}`;
}

/** Presentation text of RDATA; RRSIG, NSEC and NSEC3 take a fast path. */
export function fastRdataText(type: number, rdata: Uint8Array, typeName: (type: number) => string = typeToString): string {
  try {
    if (type === RRType.RRSIG && rdata.length > 19) return rrsigText(rdata, typeName);
    if (type === RRType.NSEC) return nsecText(rdata, typeName);
    if (type === RRType.NSEC3 && rdata.length >= 6) return nsec3Text(rdata, typeName);
  } catch {
    // fall through to the general printer
  }
  return rdataToText(type, rdata);
}
