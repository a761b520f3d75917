// msgpackr encoding of work messages, KV values and requests. Decoding untrusted bytes throws only
// CodecError, which a consumer treats as poison (termed and dead-lettered once).
import { Packr } from 'msgpackr';
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
  return values[0];
}
