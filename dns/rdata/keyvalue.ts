// SVCB-style key=value parameter lists (RFC 9460 §2.2 wire form), shared by SVCB/HTTPS
// SvcParams and HSYNCPARAM. Each list kind is one table of key definitions, so another
// profile (another numbering) is a new table, not new code.
import { FieldError, inputError, WireError } from '../errors.ts';
import type { Field, TokenCursor } from './fields.ts';
import { custom } from './fields.ts';
import { bytesToBinary, parseUint, quoteBytes, unescapeBytes } from './text.ts';
import type { WireReader, WireWriter } from './wire.ts';

/** One parameter as it is on the wire. */
export interface KeyValue {
  readonly key: number;
  readonly value: Uint8Array;
}

export interface KeyDef {
  readonly key: number;
  readonly name: string;
  /** Text value (undefined for a bare key) to wire bytes; throws on bad input. */
  parse(text: string | undefined): Uint8Array;
  /** Wire bytes to text, or undefined to print the key bare (flags). Throws on bad bytes. */
  format(value: Uint8Array): string | undefined;
}

export interface KeyTable {
  readonly what: string;
  /** Whole-list rule checked after parsing and reading (e.g. SVCB mandatory keys present). */
  readonly check?: (list: readonly KeyValue[]) => void;
  readonly byKey: ReadonlyMap<number, KeyDef>;
  readonly byName: ReadonlyMap<string, KeyDef>;
}

export function keyTable(what: string, defs: readonly KeyDef[], check?: (list: readonly KeyValue[]) => void): KeyTable {
  const t = { what, byKey: new Map(defs.map((d) => [d.key, d])), byName: new Map(defs.map((d) => [d.name, d])) };
  return check === undefined ? t : { ...t, check };
}

/** The key code of a mnemonic or keyNNNNN; throws for unknown names and key65535. */
/** A key that is a flag: present or absent, never with a value (SVCB no-default-alpn, HSYNCPARAM pubcds). */
export function flagKey(key: number, name: string): KeyDef {
  return {
    key,
    name,
    parse: (t) => {
      if (t !== undefined && t !== '') throw new FieldError(`${name} takes no value`);
      return new Uint8Array(0);
    },
    format: (v) => {
      if (v.length !== 0) throw new FieldError(`${name} has a value`);
      return undefined;
    },
  };
}

export function keyCode(table: KeyTable, name: string): number {
  const known = table.byName.get(name.toLowerCase());
  if (known !== undefined) return known.key;
  const m = /^key([0-9]{1,5})$/.exec(name.toLowerCase());
  if (m === null) throw new FieldError(`unknown ${table.what} key "${name}"`);
  const v = parseUint(m[1] ?? '', 0xffff, `${table.what} key`);
  if (v === 65535) throw new FieldError(`${table.what} key 65535 is invalid`);
  return v;
}

export function keyName(table: KeyTable, key: number): string {
  return table.byKey.get(key)?.name ?? `key${key}`;
}

/** A generic key's value: the unescaped character-string text. */
export function rawValue(text: string | undefined): Uint8Array {
  return text === undefined ? new Uint8Array(0) : unescapeBytes(text);
}

/** Tokens of `key=value`, `key="quoted value"` and bare `key`, in order. */
function parsePairs(c: TokenCursor, table: KeyTable): KeyValue[] {
  const out: KeyValue[] = [];
  while (!c.done) {
    const t = c.next(`${table.what} parameter`);
    let key: string;
    let value: string | undefined;
    const eq = t.quoted ? -1 : t.text.indexOf('=');
    if (eq < 0) {
      key = t.text;
    } else {
      key = t.text.slice(0, eq);
      value = t.text.slice(eq + 1);
      // key="quoted" arrives as 'key=' followed by a quoted token.
      const nxt = c.tokens[c.i];
      if (value === '' && nxt?.quoted === true && nxt.line === t.line && nxt.col === t.col + t.text.length) {
        value = nxt.text;
        c.i++;
      }
    }
    if (key === '') throw new FieldError(`empty ${table.what} key`);
    const code = keyCode(table, key);
    const def = table.byKey.get(code);
    out.push({ key: code, value: def !== undefined ? def.parse(value) : rawValue(value) });
  }
  const sorted = sortUnique(out, table.what);
  table.check?.(sorted);
  return sorted;
}

/** Sorts by key and rejects duplicates (keys strictly increasing on the wire). */
export function sortUnique(list: readonly KeyValue[], what: string): KeyValue[] {
  const sorted = [...list].sort((a, b) => a.key - b.key);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]?.key === sorted[i - 1]?.key) throw new FieldError(`duplicate ${what} key ${sorted[i]?.key}`);
  }
  for (const kv of sorted) {
    if (kv.key === 65535) throw new FieldError(`${what} key 65535 is invalid`);
    if (kv.value.length > 0xffff) throw new FieldError(`${what} value too long`);
  }
  return sorted;
}

function readPairs(r: WireReader, table: KeyTable): KeyValue[] {
  const out: KeyValue[] = [];
  let last = -1;
  while (r.remaining > 0) {
    const at = r.off;
    const key = r.u16(`${table.what} key`);
    const len = r.u16(`${table.what} length`);
    if (key <= last) throw new WireError(`${table.what} keys not strictly increasing`, at);
    if (key === 65535) throw new WireError(`${table.what} key 65535 is invalid`, at);
    const value = r.bytes(len, `${table.what} value`);
    const def = table.byKey.get(key);
    if (def !== undefined) {
      try {
        def.format(value);
      } catch (err) {
        throw new WireError(`${table.what} ${def.name}: ${inputError(err).message}`, at, { cause: err });
      }
    }
    out.push({ key, value });
    last = key;
  }
  if (table.check !== undefined) {
    try {
      table.check(out);
    } catch (err) {
      throw new WireError(`${table.what}: ${inputError(err).message}`, r.off, { cause: err });
    }
  }
  return out;
}

function formatPairs(list: readonly KeyValue[], table: KeyTable): string {
  return list
    .map((kv) => {
      const def = table.byKey.get(kv.key);
      const name = keyName(table, kv.key);
      if (def === undefined) return kv.value.length === 0 ? name : `${name}=${quoteBytes(kv.value)}`;
      const v = def.format(kv.value);
      return v === undefined ? name : `${name}=${v}`;
    })
    .join(' ');
}

export function keyValueField<N extends string>(name: N, table: KeyTable): Field<N, KeyValue[]> {
  return custom(name, {
    kind: 'keyvalue',
    shape: 'other',
    read: (r) => readPairs(r, table),
    write: (w: WireWriter, v) => {
      for (const kv of sortUnique(v, table.what)) {
        w.u16(kv.key);
        w.u16(kv.value.length);
        w.bytes(kv.value);
      }
    },
    parse: (c) => parsePairs(c, table),
    format: (v) => formatPairs(v, table),
    accepts: (v: unknown): v is KeyValue[] =>
      Array.isArray(v) && v.every((x: unknown) => typeof x === 'object' && x !== null && 'key' in x && 'value' in x),
  });
}

/** Splits a comma-separated list; '\,' escapes a comma (RFC 9460 value-list). */
export function splitCommaList(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text.charAt(i);
    if (ch === '\\' && i + 1 < text.length) {
      cur += ch + text.charAt(i + 1);
      i++;
    } else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  out.push(cur);
  return out;
}

/** Text of bytes for a value printed without quotes when safe, quoted otherwise. */
export function valueText(b: Uint8Array): string {
  const s = bytesToBinary(b);
  return /^[\x21\x23-\x27\x2a-\x3a\x3c-\x5b\x5d-\x7e]+$/.test(s) ? s : quoteBytes(b);
}
