// RDATA codecs driven by the descriptor table: presentation tokens → wire, wire → text,
// wire → typed object and back, wire validation, and RFC 3597 generic RDATA for any type.
// Field codecs throw DnsErrors (FieldError, WireError, NameError, ParseError) on bad input;
// the catches here give them a position and let anything else (a bug) through unchanged.
import { DnsError, inputError, RdataError, WireError } from '../errors.ts';
import type { Fqdn } from '../name.ts';
import { tokenize, type Token } from '../presentation/tokenizer.ts';
import { descriptorOf, DESCRIPTORS, type Descriptor, type RdataOf, type TypedName } from './descriptors.ts';
import { TokenCursor } from './fields.ts';
import { formatHex, parseHex, parseUint } from './text.ts';
import { WireReader, WireWriter } from './wire.ts';

/** A decoded RDATA: field name → value. Unknown types give `{ data }` (the raw bytes). */
export type RdataObject = Record<string, unknown>;

/** RFC 3597 `\# len hex...` starting at tokens[start]. */
function parseGeneric(tokens: readonly Token[], start: number): Uint8Array {
  const lenTok = tokens[start + 1];
  if (lenTok === undefined) throw new RdataError('\\# needs a length', start);
  let len: number;
  try {
    len = parseUint(lenTok.text, 0xffff, 'RDATA length');
  } catch (err) {
    throw new RdataError(inputError(err).message, start + 1, { cause: err });
  }
  let data: Uint8Array;
  try {
    data = parseHex(
      tokens
        .slice(start + 2)
        .map((t) => t.text)
        .join(''),
    );
  } catch (err) {
    throw new RdataError(`\\# data: ${inputError(err).message}`, start + 2, { cause: err });
  }
  if (data.length !== len) throw new RdataError(`\\# length ${len} but ${data.length} octets of data`, start + 1);
  return data;
}

/** True when the tokens (from `start`) are RFC 3597 generic RDATA. */
export function isGenericRdata(tokens: readonly Token[], start = 0): boolean {
  const t = tokens[start];
  return t !== undefined && !t.quoted && t.text === '\\#';
}

/**
 * Parses RDATA presentation tokens of `type` into uncompressed wire bytes. Relative names are
 * completed with `origin`. With `start`, the RDATA begins at tokens[start] (no slicing needed
 * for a whole zone-file line). Throws RdataError whose tokenIndex indexes `tokens`.
 */
export function parseRdata(type: number, tokens: readonly Token[], origin?: Fqdn, start = 0): Uint8Array {
  const desc = descriptorOf(type);
  if (isGenericRdata(tokens, start)) {
    const data = parseGeneric(tokens, start);
    if (desc !== undefined) {
      try {
        validateRdata(type, data);
      } catch (err) {
        throw new RdataError(`\\# data is not valid RDATA for this type: ${inputError(err).message}`, start + 2, { cause: err });
      }
    }
    return data;
  }
  if (desc === undefined) throw new RdataError('unknown type: RDATA must use the \\# generic form', start);
  const c = new TokenCursor(tokens, origin);
  c.i = start;
  c.at = start;
  if (desc.fast) {
    // Every field parses straight to wire bytes, in wire order.
    const w = new WireWriter(64);
    try {
      for (const f of desc.fields) (f.parseTo as (c: TokenCursor, w: WireWriter) => void)(c, w);
    } catch (err) {
      throw new RdataError(inputError(err).message, c.at, { cause: err });
    }
    if (!c.done) throw new RdataError('trailing data after RDATA', c.i);
    return w.finish();
  }
  const values: unknown[] = new Array<unknown>(desc.fields.length);
  const order = desc.textOrder ?? desc.fields.map((_, i) => i);
  let present = desc.fields.length;
  try {
    for (const idx of order) {
      const f = desc.fields[idx];
      if (f === undefined) continue;
      if (f.optional && c.done) {
        present = Math.min(present, idx);
        continue;
      }
      values[idx] = f.parse(c);
    }
  } catch (err) {
    throw new RdataError(`${inputError(err).message}`, c.at, { cause: err });
  }
  if (!c.done) throw new RdataError('trailing data after RDATA', c.i);
  const w = new WireWriter(64);
  try {
    for (let i = 0; i < present; i++) {
      const f = desc.fields[i];
      if (f === undefined) continue;
      f.write(w, values[i]);
    }
  } catch (err) {
    throw new RdataError(inputError(err).message, Math.max(start, tokens.length - 1), { cause: err });
  }
  if (w.off > 0xffff) throw new RdataError('RDATA longer than 65535 octets', start);
  return w.finish();
}

/** Parses RDATA text such as `10 mail.example.`; `origin` completes relative names. */
export function rdataFromText(type: number, text: string, origin?: Fqdn): Uint8Array {
  return parseRdata(type, tokenize(text), origin);
}

function readFields(desc: Descriptor, rdata: Uint8Array): { values: unknown[]; present: number } {
  const r = new WireReader(rdata, 0, rdata.length);
  const values: unknown[] = [];
  let present = 0;
  for (const f of desc.fields) {
    if (f.optional && r.remaining === 0) break;
    try {
      values.push(f.read(r));
    } catch (err) {
      const e = inputError(err);
      if (e instanceof WireError) throw e;
      throw new WireError(`${f.name}: ${e.message}`, r.off, { cause: e });
    }
    present++;
  }
  if (r.remaining !== 0) throw new WireError('trailing octets in RDATA', r.off);
  return { values, present };
}

/** RFC 3597 generic presentation: `\# len hex`. */
export function genericText(rdata: Uint8Array): string {
  return rdata.length === 0 ? '\\# 0' : `\\# ${rdata.length} ${formatHex(rdata)}`;
}

/** Presentation text of RDATA (absolute names); unknown types and invalid RDATA as `\# len hex`. */
export function rdataToText(type: number, rdata: Uint8Array): string {
  const desc = descriptorOf(type);
  if (desc === undefined) return genericText(rdata);
  let parts: string[];
  try {
    const { values, present } = readFields(desc, rdata);
    const order = desc.textOrder ?? desc.fields.map((_, i) => i);
    parts = [];
    for (const idx of order) {
      if (idx >= present) continue;
      const f = desc.fields[idx];
      if (f === undefined) continue;
      const s = f.format(values[idx]);
      if (s !== '') parts.push(s);
    }
  } catch (err) {
    inputError(err);
    return genericText(rdata);
  }
  return parts.join(' ');
}

/** Checks RDATA bytes from the wire against the type's layout; throws WireError. */
export function validateRdata(type: number, rdata: Uint8Array): void {
  if (rdata.length > 0xffff) throw new WireError('RDATA longer than 65535 octets', 0);
  const desc = descriptorOf(type);
  if (desc === undefined) return;
  readFields(desc, rdata);
}

/** Typed view of RDATA (throws WireError when the bytes do not fit the type). */
export function decodeRdata<K extends TypedName>(type: K, rdata: Uint8Array): RdataOf<K>;
export function decodeRdata(type: number, rdata: Uint8Array): RdataObject;
export function decodeRdata(type: number | TypedName, rdata: Uint8Array): RdataObject {
  const code = typeof type === 'number' ? type : DESCRIPTORS[type].type;
  const desc = descriptorOf(code);
  if (desc === undefined) return { data: rdata.slice() };
  const { values, present } = readFields(desc, rdata);
  const out: RdataObject = {};
  for (let i = 0; i < present; i++) {
    const f = desc.fields[i];
    if (f !== undefined) out[f.name] = values[i];
  }
  return out;
}

/** Wire RDATA from a typed view; throws DnsError on a missing or ill-typed field. */
export function encodeRdata<K extends TypedName>(type: K, obj: RdataOf<K>): Uint8Array;
export function encodeRdata(type: number, obj: RdataObject): Uint8Array;
export function encodeRdata(type: number | TypedName, obj: object): Uint8Array {
  const code = typeof type === 'number' ? type : DESCRIPTORS[type].type;
  const rec = obj as RdataObject;
  const desc = descriptorOf(code);
  if (desc === undefined) {
    const data = rec['data'];
    if (!(data instanceof Uint8Array)) throw new DnsError(`TYPE${code}: expected { data: Uint8Array }`);
    return data.slice();
  }
  const w = new WireWriter(64);
  let absent = false;
  for (const f of desc.fields) {
    const v = rec[f.name];
    if (v === undefined && f.optional) {
      absent = true;
      continue;
    }
    if (absent) throw new DnsError(`field ${f.name} present after an absent optional field`);
    if (!f.accepts(v)) throw new DnsError(`field ${f.name}: bad or missing value`);
    try {
      f.write(w, v);
    } catch (err) {
      throw new DnsError(`field ${f.name}: ${inputError(err).message}`, { cause: err });
    }
  }
  return w.finish();
}
