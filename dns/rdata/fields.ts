// Field codecs: one object per RDATA field kind, each knowing its wire form (read/write),
// its presentation form (parse/format) and its wire shape (for the message decompressor).
// Record descriptors (descriptors.ts) are lists of these.
import { tryParseName, type Fqdn } from '../name.ts';
import { parseNameFast } from '../presentation/names.ts';
import type { Token } from '../presentation/tokenizer.ts';
import { parseType, typeToString } from '../types.ts';
import { FieldError, WireError } from '../errors.ts';
import {
  binaryToBytes,
  bytesToBinary,
  formatBase32Hex,
  formatBase64,
  formatHex,
  formatIpv4,
  formatIpv6,
  formatSigTime,
  parseBase32Hex,
  parseBase64,
  parseCharString,
  parseHex,
  parseIpv4,
  parseIpv6,
  parseSigTime,
  parseTtl,
  parseUint,
  quoteBytes,
  unescapeBytes,
} from './text.ts';
import type { WireReader, WireWriter } from './wire.ts';

/** Walks the RDATA tokens; `at` is the index of the token being parsed (for errors). */
export class TokenCursor {
  i = 0;
  at = 0;
  constructor(
    readonly tokens: readonly Token[],
    readonly origin: Fqdn | undefined,
  ) {}

  get done(): boolean {
    return this.i >= this.tokens.length;
  }

  next(what: string): Token {
    this.at = this.i;
    const t = this.tokens[this.i];
    if (t === undefined) throw new FieldError(`missing ${what}`);
    this.i++;
    return t;
  }

  /** Every remaining token (at least one), consumed. */
  rest(what: string): Token[] {
    this.at = this.i;
    if (this.done) throw new FieldError(`missing ${what}`);
    const out = this.tokens.slice(this.i);
    this.i = this.tokens.length;
    return out;
  }

  /** Remaining token texts concatenated (base64/hex may be split by spaces). */
  restJoined(what: string): string {
    return this.rest(what)
      .map((t) => t.text)
      .join('');
  }
}

export type Shape = number | 'name' | 'cstr' | 'other';

export interface Field<N extends string = string, V = unknown> {
  readonly name: N;
  readonly kind: string;
  /** An optional trailing field may be absent from the wire (and then from the text). */
  readonly optional: boolean;
  readonly shape: Shape;
  read(r: WireReader): V;
  write(w: WireWriter, v: V): void;
  parse(c: TokenCursor): V;
  /** Optional fast path: parse straight into wire bytes (parseRdata uses it when present). */
  readonly parseTo?: (c: TokenCursor, w: WireWriter) => void;
  format(v: V): string;
  /** True when `v` is a plausible value for this field (encodeRdata's input check). */
  accepts(v: unknown): v is V;
}

type Spec<V> = Omit<Field<string, V>, 'name' | 'optional'>;

function field<N extends string, V>(name: N, spec: Spec<V>, optional = false): Field<N, V> {
  return { ...spec, name, optional };
}

const isInt = (max: number) => (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;
const isString = (v: unknown): v is string => typeof v === 'string';

/** Writes a u8 length and the bytes (character-string, salt, hash). */
function putLen8(w: WireWriter, b: Uint8Array, what: string): void {
  if (b.length > 255) throw new FieldError(`${what} longer than 255 octets`);
  w.u8(b.length);
  w.bytes(b);
}

/** Writes a u16 length and the bytes. */
function putLen16(w: WireWriter, b: Uint8Array, what: string): void {
  if (b.length > 0xffff) throw new FieldError(`${what} too long`);
  w.u16(b.length);
  w.bytes(b);
}

export function u8<N extends string>(name: N, mnemonics?: { print: boolean; names: Record<string, number> }): Field<N, number> {
  const byName = new Map(Object.entries(mnemonics?.names ?? {}).map(([k, v]) => [k.toUpperCase(), v]));
  const byValue = new Map<number, string>();
  for (const [k, v] of Object.entries(mnemonics?.names ?? {})) if (!byValue.has(v)) byValue.set(v, k);
  return field(name, {
    kind: 'u8',
    shape: 1,
    read: (r) => r.u8(name),
    write: (w, v) => w.u8(v),
    parse: (c) => {
      const t = c.next(name).text;
      const m = byName.get(t.toUpperCase());
      return m ?? parseUint(t, 0xff, name);
    },
    format: (v) => (mnemonics?.print === true ? (byValue.get(v) ?? String(v)) : String(v)),
    accepts: isInt(0xff),
  });
}

export function u16<N extends string>(name: N): Field<N, number> {
  return field(name, {
    kind: 'u16',
    shape: 2,
    read: (r) => r.u16(name),
    write: (w, v) => w.u16(v),
    parse: (c) => parseUint(c.next(name).text, 0xffff, name),
    parseTo: (c, w) => w.u16(parseUint(c.next(name).text, 0xffff, name)),
    format: (v: number) => String(v),
    accepts: isInt(0xffff),
  });
}

export function u32<N extends string>(name: N, units = false): Field<N, number> {
  return field(name, {
    kind: 'u32',
    shape: 4,
    read: (r) => r.u32(name),
    write: (w, v) => w.u32(v),
    parse: (c) => (units ? parseTtl(c.next(name).text, name) : parseUint(c.next(name).text, 0xffffffff, name)),
    format: (v: number) => String(v),
    accepts: isInt(0xffffffff),
  });
}

/** 48-bit unsigned (TSIG time signed). */
export function u48<N extends string>(name: N): Field<N, number> {
  return field(name, {
    kind: 'u48',
    shape: 6,
    read: (r) => r.u16(name) * 0x100000000 + r.u32(name),
    write: (w, v) => {
      w.u16(Math.floor(v / 0x100000000));
      w.u32(v % 0x100000000);
    },
    parse: (c) => {
      const t = c.next(name).text;
      if (!/^[0-9]{1,15}$/.test(t) || Number(t) > 0xffffffffffff) throw new FieldError(`bad ${name} "${t}"`);
      return Number(t);
    },
    format: (v: number) => String(v),
    accepts: isInt(0xffffffffffff),
  });
}

/** RRSIG/SIG expiration and inception: YYYYMMDDHHmmSS. */
export function time<N extends string>(name: N): Field<N, number> {
  return field(name, {
    kind: 'time',
    shape: 4,
    read: (r) => r.u32(name),
    write: (w, v) => w.u32(v),
    parse: (c) => parseSigTime(c.next(name).text),
    format: formatSigTime,
    accepts: isInt(0xffffffff),
  });
}

/** A u16 RR type code written as its mnemonic. */
export function rrtype<N extends string>(name: N): Field<N, number> {
  return field(name, {
    kind: 'type',
    shape: 2,
    read: (r) => r.u16(name),
    write: (w, v) => w.u16(v),
    parse: (c) => parseType(c.next(name).text),
    format: typeToString,
    accepts: isInt(0xffff),
  });
}

export function ipv4<N extends string>(name: N): Field<N, string> {
  return field(name, {
    kind: 'ipv4',
    shape: 4,
    read: (r) => formatIpv4(r.bytes(4, name)),
    write: (w, v) => w.bytes(parseIpv4(v)),
    parse: (c) => formatIpv4(parseIpv4(c.next(name).text)),
    parseTo: (c, w) => w.bytes(parseIpv4(c.next(name).text)),
    format: (v) => v,
    accepts: (v: unknown): v is string => typeof v === 'string' && /^[0-9.]+$/.test(v),
  });
}

export function ipv6<N extends string>(name: N): Field<N, string> {
  return field(name, {
    kind: 'ipv6',
    shape: 16,
    read: (r) => formatIpv6(r.bytes(16, name)),
    write: (w, v) => w.bytes(parseIpv6(v)),
    parse: (c) => formatIpv6(parseIpv6(c.next(name).text)),
    parseTo: (c, w) => w.bytes(parseIpv6(c.next(name).text)),
    format: (v) => v,
    accepts: (v: unknown): v is string => typeof v === 'string' && v.includes(':'),
  });
}

export function name<N extends string>(fieldName: N): Field<N, Fqdn> {
  return field(fieldName, {
    kind: 'name',
    shape: 'name',
    read: (r) => r.name(fieldName),
    write: (w, v) => w.name(v),
    parse: (c) => parseNameFast(c.next(fieldName).text, c.origin),
    parseTo: (c, w) => w.name(parseNameFast(c.next(fieldName).text, c.origin)),
    format: (v) => v,
    accepts: (v: unknown): v is Fqdn => typeof v === 'string' && tryParseName(v) === v,
  });
}

const BARE = /^[\x21\x23-\x27\x2a-\x3a\x3c-\x5b\x5d-\x7e]+$/;

/**
 * One character-string; the value is a Latin-1 "binary" string (one char per octet). With
 * `bare`, values without special characters print unquoted (HSYNC labels: `ON alpha ...`).
 */
export function cstr<N extends string>(name: N, bare = false): Field<N, string> {
  return field(
    name,
    {
      kind: 'cstr',
      shape: 'cstr',
      read: (r) => bytesToBinary(r.bytes(r.u8(name), name)),
      write: (w, v) => putLen8(w, binaryToBytes(v), name),
      parse: (c) => bytesToBinary(parseCharString(c.next(name).text)),
      parseTo: (c, w) => putLen8(w, parseCharString(c.next(name).text), name),
      format: (v) => (bare && BARE.test(v) ? v : quoteBytes(binaryToBytes(v))),
      accepts: isString,
    },
  );
}

/** One or more character-strings up to the end of RDATA (TXT, SPF). */
export function cstrs<N extends string>(name: N): Field<N, string[]> {
  return field(name, {
    kind: 'cstrs',
    shape: 'other',
    read: (r) => {
      const out: string[] = [];
      do out.push(bytesToBinary(r.bytes(r.u8(name), name)));
      while (r.remaining > 0);
      return out;
    },
    write: (w, v) => {
      if (v.length === 0) throw new FieldError(`${name} needs at least one string`);
      for (const s of v) putLen8(w, binaryToBytes(s), `${name} string`);
    },
    parse: (c) => c.rest(name).map((t) => bytesToBinary(parseCharString(t.text))),
    parseTo: (c, w) => {
      for (const t of c.rest(name)) putLen8(w, parseCharString(t.text), `${name} string`);
    },
    format: (v) => v.map((s) => quoteBytes(binaryToBytes(s))).join(' '),
    accepts: (v: unknown): v is string[] => Array.isArray(v) && v.every(isString),
  });
}

/** The rest of RDATA as a string (CAA value, URI target); printed quoted. */
export function restString<N extends string>(name: N): Field<N, string> {
  return field(name, {
    kind: 'restString',
    shape: 'other',
    read: (r) => bytesToBinary(r.rest()),
    write: (w, v) => w.bytes(binaryToBytes(v)),
    parse: (c) => bytesToBinary(unescapeBytes(c.next(name).text)),
    format: (v) => quoteBytes(binaryToBytes(v)),
    accepts: isString,
  });
}

/** u8-length tag printed without quotes (CAA tag). */
export function tag<N extends string>(name: N): Field<N, string> {
  return field(name, {
    kind: 'tag',
    shape: 'cstr',
    read: (r) => {
      const v = bytesToBinary(r.bytes(r.u8(name), name));
      if (!/^[A-Za-z0-9]{1,255}$/.test(v)) throw new WireError(`bad ${name}`, r.off);
      return v;
    },
    write: (w, v) => {
      if (!/^[A-Za-z0-9]{1,255}$/.test(v)) throw new FieldError(`bad ${name} "${v}"`);
      w.u8(v.length);
      w.bytes(binaryToBytes(v));
    },
    parse: (c) => {
      const t = c.next(name).text;
      if (!/^[A-Za-z0-9]{1,255}$/.test(t)) throw new FieldError(`bad ${name} "${t}"`);
      return t;
    },
    format: (v) => v,
    accepts: isString,
  });
}

/** The rest of RDATA as bytes, written in text by `parse`/`format` (possibly split into several tokens). */
function restBytes<N extends string>(
  name: N,
  kind: string,
  allowEmpty: boolean,
  parse: (text: string) => Uint8Array,
  format: (v: Uint8Array) => string,
): Field<N, Uint8Array> {
  return field(name, {
    kind,
    shape: 'other',
    read: (r) => {
      if (!allowEmpty && r.remaining === 0) throw new WireError(`empty ${name}`, r.off);
      return r.rest();
    },
    write: (w, v) => w.bytes(v),
    parse: (c) => (allowEmpty && c.done ? new Uint8Array(0) : parse(c.restJoined(name))),
    format,
    accepts: isBytes,
  });
}

/** The rest of RDATA in base64 (possibly split into several tokens). */
export function base64<N extends string>(name: N, allowEmpty = false): Field<N, Uint8Array> {
  return restBytes(name, 'base64', allowEmpty, parseBase64, (v) => (v.length === 0 ? '' : formatBase64(v)));
}

/** The rest of RDATA in hex (possibly split into several tokens). */
export function hex<N extends string>(name: N, allowEmpty = false): Field<N, Uint8Array> {
  return restBytes(name, 'hex', allowEmpty, parseHex, formatHex);
}

/** u8 length + bytes in hex, '-' when empty (NSEC3 salt). */
export function salt<N extends string>(name: N): Field<N, Uint8Array> {
  return field(name, {
    kind: 'salt',
    shape: 'cstr',
    read: (r) => r.bytes(r.u8(name), name),
    write: (w, v) => putLen8(w, v, name),
    parse: (c) => {
      const t = c.next(name).text;
      const b = t === '-' ? new Uint8Array(0) : parseHex(t);
      if (b.length > 255) throw new FieldError(`${name} longer than 255 octets`);
      return b;
    },
    format: (v) => (v.length === 0 ? '-' : formatHex(v)),
    accepts: isBytes,
  });
}

/** u8 length + bytes in base32hex (NSEC3 next hashed owner name). */
export function base32hex<N extends string>(name: N): Field<N, Uint8Array> {
  return field(name, {
    kind: 'base32hex',
    shape: 'cstr',
    // An empty hash has no presentation form (RFC 5155 §3.3: a base32hex string, no '-').
    read: (r) => {
      const len = r.u8(name);
      if (len === 0) throw new WireError(`empty ${name}`, r.off);
      return r.bytes(len, name);
    },
    write: (w, v) => putLen8(w, v, name),
    parse: (c) => parseBase32Hex(c.next(name).text),
    format: formatBase32Hex,
    accepts: isBytes,
  });
}

/** u16 length + bytes, hex in text ('""' or '-' when empty). */
export function u16hex<N extends string>(name: N): Field<N, Uint8Array> {
  return field(name, {
    kind: 'u16hex',
    shape: 'other',
    read: (r) => r.bytes(r.u16(name), name),
    write: (w, v) => putLen16(w, v, name),
    parse: (c) => {
      const t = c.next(name);
      return t.text === '' || t.text === '-' ? new Uint8Array(0) : parseHex(t.text);
    },
    format: (v) => (v.length === 0 ? '""' : formatHex(v)),
    accepts: isBytes,
  });
}

/** u16 length + bytes, base64 in text; a seq-0 JSON token is taken verbatim (TDNS CHUNK manifests). */
export function u16base64<N extends string>(name: N): Field<N, Uint8Array> {
  return field(name, {
    kind: 'u16base64',
    shape: 'other',
    read: (r) => r.bytes(r.u16(name), name),
    write: (w, v) => putLen16(w, v, name),
    parse: (c) => {
      const t = c.next(name);
      if (t.text.startsWith('{') || t.text.startsWith('[')) return unescapeBytes(t.text);
      return t.text === '' ? new Uint8Array(0) : parseBase64(t.text);
    },
    format: (v) => (v.length === 0 ? '""' : formatBase64(v)),
    accepts: isBytes,
  });
}

/** u16 length + ASCII text (JWK: base64url of the JSON JWK). */
export function u16ascii<N extends string>(name: N, check: (s: string) => boolean): Field<N, string> {
  return field(name, {
    kind: 'u16ascii',
    shape: 'other',
    read: (r) => {
      const s = bytesToBinary(r.bytes(r.u16(name), name));
      if (!check(s)) throw new WireError(`bad ${name}`, r.off);
      return s;
    },
    write: (w, v) => {
      if (!check(v)) throw new FieldError(`bad ${name}`);
      w.u16(v.length);
      w.bytes(binaryToBytes(v));
    },
    parse: (c) => {
      const t = c.next(name).text;
      if (!check(t)) throw new FieldError(`bad ${name} "${t.slice(0, 40)}"`);
      return t;
    },
    format: (v) => v,
    accepts: isString,
  });
}

/** RFC 4034 §4.1.2 type bitmap, the rest of RDATA; text is the list of type mnemonics. */
export function bitmap<N extends string>(name: N): Field<N, number[]> {
  return field(name, {
    kind: 'bitmap',
    shape: 'other',
    read: (r) => readBitmap(r, name),
    write: (w, v) => writeBitmap(w, v),
    parse: (c) => {
      const out: number[] = [];
      while (!c.done) out.push(parseType(c.next(name).text));
      return [...new Set(out)].sort((a, b) => a - b);
    },
    format: (v) => v.map(typeToString).join(' '),
    accepts: (v: unknown): v is number[] => Array.isArray(v) && v.every(isInt(0xffff)),
  });
}

function readBitmap(r: WireReader, what: string): number[] {
  const out: number[] = [];
  let lastWindow = -1;
  while (r.remaining > 0) {
    const win = r.u8(what);
    const len = r.u8(what);
    if (win <= lastWindow) throw new WireError(`${what}: windows out of order`, r.off);
    if (len === 0 || len > 32) throw new WireError(`${what}: bad window length ${len}`, r.off);
    r.need(len, what);
    for (let i = 0; i < len; i++) {
      const b = r.buf[r.off + i] as number;
      for (let bit = 0; bit < 8; bit++) if (b & (0x80 >> bit)) out.push(win * 256 + i * 8 + bit);
    }
    if (r.buf[r.off + len - 1] === 0) throw new WireError(`${what}: trailing zero octet`, r.off);
    r.off += len;
    lastWindow = win;
  }
  return out;
}

function writeBitmap(w: WireWriter, types: readonly number[]): void {
  const sorted = [...new Set(types)].sort((a, b) => a - b);
  let i = 0;
  while (i < sorted.length) {
    const win = (sorted[i] as number) >> 8;
    const bits = new Uint8Array(32);
    let max = 0;
    while (i < sorted.length && (sorted[i] as number) >> 8 === win) {
      const low = (sorted[i] as number) & 0xff;
      bits[low >> 3] = (bits[low >> 3] as number) | (0x80 >> (low & 7));
      max = Math.max(max, (low >> 3) + 1);
      i++;
    }
    w.u8(win);
    w.u8(max);
    w.bytes(bits.subarray(0, max));
  }
}

/** A custom field (SVCB params, HSYNCPARAM, ...) given as a full spec. */
export function custom<N extends string, V>(name: N, spec: Spec<V>): Field<N, V> {
  return field(name, spec);
}

/** The same field, allowed to be absent at the end of RDATA (TDNS omits trailing HSYNC fields). */
export function optional<N extends string, V>(f: Field<N, V>): Field<N, V> & { readonly optional: true } {
  return { ...f, optional: true };
}
