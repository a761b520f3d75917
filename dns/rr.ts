// The resource-record model. RDATA is kept as its uncompressed wire form: that is what is
// signed, compared in canonical order, transferred and stored, and it makes unknown types
// round-trip byte-exact. Typed views come from dns/rdata (decodeRdata / rdataToText).
import type { Fqdn } from './name.ts';

export interface RR {
  readonly name: Fqdn;
  readonly type: number;
  readonly class: number;
  readonly ttl: number;
  /** Uncompressed RDATA wire bytes. */
  readonly rdata: Uint8Array;
}

export const CLASS_IN = 1;
export const CLASS_CH = 3;
export const CLASS_NONE = 254;
export const CLASS_ANY = 255;
