// msgpackr encoding of work messages, KV values and requests. Decoding untrusted bytes throws only
// CodecError, which a consumer treats as poison (termed and dead-lettered once).
import { C1, Packr } from 'msgpackr';
import { CodecError } from './errors.ts';

// Plain maps/arrays only (no record extension), so other msgpack readers can decode our messages.
const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true });

export function encode(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Decodes exactly one msgpack value filling all of `bytes`; throws CodecError otherwise. */
export function decode(bytes: Uint8Array): unknown {
  if (bytes.length === 0) throw new CodecError('empty message');
  let values: unknown[];
  try {
    values = packr.unpackMultiple(bytes) as unknown[];
  } catch (err) {
    throw new CodecError(`undecodable msgpack (${bytes.length} bytes)`, { cause: err });
  }
  if (values.length !== 1) {
    throw new CodecError(`expected one msgpack value, found ${values.length}`);
  }
  if (containsC1(values[0], 0)) throw new CodecError('msgpack value uses the reserved byte 0xc1');
  return values[0];
}

/** msgpackr decodes the never-used byte 0xc1 to a marker object instead of failing. */
function containsC1(v: unknown, depth: number): boolean {
  if (v === C1) return true;
  if (typeof v !== 'object' || v === null || depth > 64) return depth > 64;
  if (ArrayBuffer.isView(v)) return false;
  if (v instanceof Map) {
    for (const [k, x] of v) if (containsC1(k, depth + 1) || containsC1(x, depth + 1)) return true;
    return false;
  }
  for (const x of Array.isArray(v) ? v : Object.values(v)) if (containsC1(x, depth + 1)) return true;
  return false;
}
