// Fast presentation text of the records the signer makes in bulk (RRSIG and NSEC): a signed
// zone of 100,000 names prints hundreds of thousands of them. Output equals dns/rdata's
// rdataToText; other types go through it.
import { rdataToText } from '../rdata/index.ts';
import { typeToString } from '../types.ts';
import { decodeTypeBitmap } from './bitmap.ts';
import { labelToText } from '../name.ts';
import { RRType } from '../types.ts';

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
  for (;;) {
    const len = b[o];
    if (len === undefined || len > 63) throw new RangeError('bad name');
    if (len === 0) return [s === '' ? '.' : s, o + 1];
    const label = b.subarray(o + 1, o + 1 + len);
    let plain = true;
    for (const c of label) {
      if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f)) {
        plain = false;
        break;
      }
    }
    s += (plain ? String.fromCharCode(...label) : labelToText(label)) + '.';
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

function rrsigText(b: Uint8Array): string {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const [signer, o] = signerAt(b);
  const sig = Buffer.from(b.buffer, b.byteOffset + o, b.byteLength - o).toString('base64');
  return `${typeToString(v.getUint16(0))} ${b[2]} ${b[3]} ${v.getUint32(4)} ${sigTimeText(v.getUint32(8))} ${sigTimeText(v.getUint32(12))} ${v.getUint16(16)} ${signer} ${sig}`;
}

function nsecText(b: Uint8Array): string {
  const [next, o] = nameAt(b, 0);
  const types = decodeTypeBitmap(b.subarray(o));
  return types.length === 0 ? next : `${next} ${types.map(typeToString).join(' ')}`;
}

/** Presentation text of RDATA; RRSIG and NSEC take a fast path. */
export function fastRdataText(type: number, rdata: Uint8Array): string {
  try {
    if (type === RRType.RRSIG && rdata.length > 19) return rrsigText(rdata);
    if (type === RRType.NSEC) return nsecText(rdata);
  } catch {
    // fall through to the general printer
  }
  return rdataToText(type, rdata);
}
