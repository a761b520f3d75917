// RRSIG RDATA (RFC 4034 §3.1): fields, encoding and decoding.
import { nameFromLabelBytes, nameToWire, type Fqdn } from '../name.ts';
import { DnssecWireError } from './errors.ts';

export interface RrsigFields {
  readonly typeCovered: number;
  readonly algorithm: number;
  readonly labels: number;
  readonly originalTtl: number;
  /** Seconds since the epoch modulo 2^32 (RFC 4034 §3.1.5 serial arithmetic). */
  readonly expiration: number;
  readonly inception: number;
  readonly keyTag: number;
  readonly signerName: Fqdn;
  readonly signature: Uint8Array;
}

/** RRSIG RDATA without the signature: the first part of the signature input (§3.1.8.1). */
export function encodeRrsigHeader(f: Omit<RrsigFields, 'signature'>, signerWire?: Uint8Array): Uint8Array {
  const signer = signerWire ?? nameToWire(f.signerName);
  const out = new Uint8Array(18 + signer.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, f.typeCovered);
  out[2] = f.algorithm;
  out[3] = f.labels;
  v.setUint32(4, f.originalTtl >>> 0);
  v.setUint32(8, f.expiration >>> 0);
  v.setUint32(12, f.inception >>> 0);
  v.setUint16(16, f.keyTag);
  out.set(signer, 18);
  return out;
}

/** Decodes RRSIG RDATA; throws DnssecWireError on malformed input. */
export function decodeRrsig(rdata: Uint8Array): RrsigFields {
  if (rdata.length < 19) throw new DnssecWireError(`RRSIG RDATA too short (${rdata.length} octets)`);
  const v = new DataView(rdata.buffer, rdata.byteOffset, rdata.byteLength);
  const labels: Uint8Array[] = [];
  let o = 18;
  for (;;) {
    const len = rdata[o];
    if (len === undefined) throw new DnssecWireError('RRSIG signer name runs past the RDATA');
    if (len === 0) break;
    if (len > 63) throw new DnssecWireError('RRSIG signer name is compressed or malformed');
    if (o + 1 + len > rdata.length) throw new DnssecWireError('RRSIG signer name runs past the RDATA');
    labels.push(rdata.subarray(o + 1, o + 1 + len));
    o += 1 + len;
  }
  let signerName: Fqdn;
  try {
    signerName = nameFromLabelBytes(labels);
  } catch (err) {
    throw new DnssecWireError('RRSIG signer name invalid', { cause: err });
  }
  return {
    typeCovered: v.getUint16(0),
    algorithm: rdata[2] as number,
    labels: rdata[3] as number,
    originalTtl: v.getUint32(4),
    expiration: v.getUint32(8),
    inception: v.getUint32(12),
    keyTag: v.getUint16(16),
    signerName,
    signature: rdata.subarray(o + 1),
  };
}

/** Type covered of RRSIG RDATA without a full decode. */
export function rrsigTypeCovered(rdata: Uint8Array): number {
  return (((rdata[0] ?? 0) << 8) | (rdata[1] ?? 0)) >>> 0;
}
