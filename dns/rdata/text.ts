// Presentation-text primitives for RDATA fields: character-strings with escapes, numbers,
// base64, base64url, hex, base32hex, RRSIG times, TTL units. Parsers throw FieldError with
// a reason; codec.ts turns it into RdataError with the token index.
import { FieldError } from '../errors.ts';

/** Decodes a token's text (escapes '\X' and '\DDD') into bytes. */
export function unescapeBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x5c) {
      if (c > 0xff) {
        // Non-Latin-1 input: encode as UTF-8.
        const enc = new TextEncoder().encode(text.slice(i, i + (c >= 0xd800 && c <= 0xdbff ? 2 : 1)));
        const grown = new Uint8Array(out.length + enc.length);
        grown.set(out.subarray(0, o));
        grown.set(enc, o);
        return concatRest(grown, o + enc.length, text.slice(i + (c >= 0xd800 && c <= 0xdbff ? 2 : 1)));
      }
      out[o++] = c;
      continue;
    }
    const d = text.charCodeAt(i + 1);
    if (Number.isNaN(d)) throw new FieldError('dangling backslash');
    if (d >= 0x30 && d <= 0x39) {
      const d2 = text.charCodeAt(i + 2) - 0x30;
      const d3 = text.charCodeAt(i + 3) - 0x30;
      if (!(d2 >= 0 && d2 <= 9 && d3 >= 0 && d3 <= 9)) throw new FieldError(`bad escape in "${text}"`);
      const v = (d - 0x30) * 100 + d2 * 10 + d3;
      if (v > 255) throw new FieldError(`escape \\${v} out of range`);
      out[o++] = v;
      i += 3;
    } else {
      out[o++] = d;
      i += 1;
    }
  }
  return out.slice(0, o);
}

function concatRest(head: Uint8Array, len: number, rest: string): Uint8Array {
  const tail = unescapeBytes(rest);
  const out = new Uint8Array(len + tail.length);
  out.set(head.subarray(0, len));
  out.set(tail, len);
  return out;
}

/** A character-string (RFC 1035 §3.3) from a token: at most 255 octets. */
export function parseCharString(text: string): Uint8Array {
  const b = unescapeBytes(text);
  if (b.length > 255) throw new FieldError(`character-string longer than 255 octets (${b.length})`);
  return b;
}

/** Quoted presentation of bytes: '"' and '\' escaped, non-printables as \DDD. */
export function quoteBytes(b: Uint8Array): string {
  let s = '"';
  for (const c of b) {
    if (c === 0x22 || c === 0x5c) s += '\\' + String.fromCharCode(c);
    else if (c < 0x20 || c >= 0x7f) s += '\\' + String(c).padStart(3, '0');
    else s += String.fromCharCode(c);
  }
  return s + '"';
}

/** Latin-1 string of bytes (one char per byte): lossless for character-strings. */
export function bytesToBinary(b: Uint8Array): string {
  let s = '';
  for (const c of b) s += String.fromCharCode(c);
  return s;
}

export function binaryToBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new FieldError('character-string value has a character above U+00FF');
    out[i] = c;
  }
  return out;
}

export function parseUint(text: string, max: number, what: string): number {
  if (text.length === 0 || text.length > 10) throw new FieldError(`bad ${what} "${text}"`);
  let v = 0;
  for (let i = 0; i < text.length; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) throw new FieldError(`bad ${what} "${text}"`);
    v = v * 10 + d;
  }
  if (v > max) throw new FieldError(`${what} ${text} out of range (max ${max})`);
  return v;
}

const TTL_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** A 32-bit time value: plain seconds or BIND units (1h30m, 2w). */
export function parseTtl(text: string, what = 'TTL'): number {
  if (/^[0-9]+$/.test(text)) return parseUint(text, 0xffffffff, what);
  const re = /([0-9]+)([smhdw])/giy;
  let total = 0;
  let pos = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    total += Number(m[1]) * (TTL_UNITS[(m[2] ?? 's').toLowerCase()] ?? 1);
    pos = re.lastIndex;
  }
  if (pos !== text.length || text.length === 0) throw new FieldError(`bad ${what} "${text}"`);
  if (total > 0xffffffff) throw new FieldError(`${what} ${text} out of range`);
  return total;
}

const B64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

export function parseBase64(text: string): Uint8Array {
  if (text.length % 4 !== 0 || !B64_RE.test(text)) throw new FieldError('bad base64');
  return new Uint8Array(Buffer.from(text, 'base64'));
}

export function formatBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('base64');
}

const B64URL_RE = /^[A-Za-z0-9_-]*$/;

export function isBase64Url(text: string): boolean {
  return B64URL_RE.test(text) && text.length % 4 !== 1;
}

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

export function parseHex(text: string): Uint8Array {
  if (!HEX_RE.test(text)) throw new FieldError('bad hex');
  return new Uint8Array(Buffer.from(text, 'hex'));
}

export function formatHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex').toUpperCase();
}

const B32HEX = '0123456789ABCDEFGHIJKLMNOPQRSTUV';

/** RFC 4648 base32hex without padding (NSEC3 next hashed owner name). */
export function formatBase32Hex(b: Uint8Array): string {
  let s = '';
  let bits = 0;
  let acc = 0;
  for (const c of b) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 5) {
      s += B32HEX[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) s += B32HEX[(acc << (5 - bits)) & 31];
  return s;
}

export function parseBase32Hex(text: string): Uint8Array {
  const t = text.toUpperCase().replace(/=+$/, '');
  const out: number[] = [];
  let bits = 0;
  let acc = 0;
  for (let i = 0; i < t.length; i++) {
    const v = B32HEX.indexOf(t.charAt(i));
    if (v < 0) throw new FieldError('bad base32hex');
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((acc >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
    acc &= (1 << bits) - 1;
  }
  if (acc !== 0) throw new FieldError('bad base32hex (non-zero trailing bits)');
  return Uint8Array.from(out);
}

/** RRSIG time: YYYYMMDDHHmmSS (UTC) or a plain number of seconds; stored mod 2^32. */
export function parseSigTime(text: string): number {
  if (text.length === 14 && /^[0-9]{14}$/.test(text)) {
    const ms = Date.UTC(
      Number(text.slice(0, 4)),
      Number(text.slice(4, 6)) - 1,
      Number(text.slice(6, 8)),
      Number(text.slice(8, 10)),
      Number(text.slice(10, 12)),
      Number(text.slice(12, 14)),
    );
    return (ms / 1000) % 0x100000000 >>> 0;
  }
  return parseUint(text, 0xffffffff, 'time');
}

export function formatSigTime(v: number): string {
  const d = new Date(v * 1000);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

export function parseIpv4(text: string): Uint8Array {
  const parts = text.split('.');
  if (parts.length !== 4) throw new FieldError(`bad IPv4 address "${text}"`);
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] ?? '';
    if (p.length === 0 || p.length > 3 || (p.length > 1 && p[0] === '0')) throw new FieldError(`bad IPv4 address "${text}"`);
    out[i] = parseUint(p, 255, 'IPv4 octet');
  }
  return out;
}

export function formatIpv4(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

export function parseIpv6(text: string): Uint8Array {
  const bad = (): never => {
    throw new FieldError(`bad IPv6 address "${text}"`);
  };
  let t = text;
  const lastColon = t.lastIndexOf(':');
  if (lastColon < 0) bad();
  if (t.includes('.', lastColon)) {
    const v4 = parseIpv4(t.slice(lastColon + 1));
    const g1 = (((v4[0] as number) << 8) | (v4[1] as number)).toString(16);
    const g2 = (((v4[2] as number) << 8) | (v4[3] as number)).toString(16);
    t = `${t.slice(0, lastColon + 1)}${g1}:${g2}`;
  }
  const dbl = t.indexOf('::');
  if (dbl !== t.lastIndexOf('::')) bad();
  const parseGroups = (s: string): number[] =>
    s === '' ? [] : s.split(':').map((g) => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : bad()));
  let words: number[];
  if (dbl >= 0) {
    const head = parseGroups(t.slice(0, dbl));
    const rest = parseGroups(t.slice(dbl + 2));
    const fill = 8 - head.length - rest.length;
    if (fill < 1) bad();
    words = [...head, ...new Array<number>(fill).fill(0), ...rest];
  } else {
    words = parseGroups(t);
    if (words.length !== 8) bad();
  }
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/** RFC 5952 text form (lower-case, longest zero run compressed). */
export function formatIpv6(b: Uint8Array): string {
  const w: number[] = [];
  for (let i = 0; i < 16; i += 2) w.push(((b[i] as number) << 8) | (b[i + 1] as number));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(w);
  return `${hex(w.slice(0, bestStart))}::${hex(w.slice(bestStart + bestLen))}`;
}
