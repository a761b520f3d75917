// Named errors of the DNSSEC engine. All extend DnsError so callers can catch the dns/ family.
import { DnsError } from '../errors.ts';
import { decodeRdata, type RdataOf, type TypedName } from '../rdata/index.ts';

/** Base class of every DNSSEC engine error. */
export class DnssecError extends DnsError {
  override name = 'DnssecError';
}

/** A key that cannot be generated, parsed, loaded or used (names the file or key when known). */
export class KeyError extends DnssecError {
  override name = 'KeyError';
  constructor(
    message: string,
    readonly file?: string,
    options?: { cause?: unknown },
  ) {
    super(file !== undefined ? `${file}: ${message}` : message, options);
  }
}

/** An algorithm number or name this engine does not support for the requested operation. */
export class AlgorithmError extends DnssecError {
  override name = 'AlgorithmError';
  constructor(
    message: string,
    readonly algorithm: number | string,
  ) {
    super(message);
  }
}

/** A zone that cannot be signed as given (no SOA, records outside the zone, mixed algorithms). */
export class SignError extends DnssecError {
  override name = 'SignError';
}

/** RDATA of a DNSSEC type (DNSKEY, RRSIG, DS, NSEC, NSEC3) that does not decode. */
export class DnssecWireError extends DnssecError {
  override name = 'DnssecWireError';
}

/** dns/rdata's typed view of DNSSEC RDATA; its WireError becomes a DnssecWireError naming the type. */
export function decodeDnssecRdata<K extends TypedName>(type: K, rdata: Uint8Array): RdataOf<K> {
  try {
    return decodeRdata(type, rdata);
  } catch (err) {
    throw new DnssecWireError(`${type} RDATA: ${(err as Error).message}`, { cause: err });
  }
}
