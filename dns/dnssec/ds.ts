// DS and CDS records from a DNSKEY (RFC 4034 §5, RFC 4509, RFC 6605) and the RFC 8078 delete signals.
import { createHash } from 'node:crypto';
import { nameToWire, type Fqdn } from '../name.ts';
import { encodeRdata, type RdataOf } from '../rdata/index.ts';
import { AlgorithmError, decodeDnssecRdata } from './errors.ts';
import { keyTag } from './keytag.ts';

export const DigestType = { SHA1: 1, SHA256: 2, SHA384: 4 } as const;

const hashes: Record<number, string> = { 1: 'sha1', 2: 'sha256', 4: 'sha384' };

/** The fields of DS (and CDS) RDATA, as dns/rdata's descriptor table defines them. */
export type DsFields = RdataOf<'DS'>;

/** DS RDATA from its fields (dns/rdata's codec). */
export function encodeDs(f: DsFields): Uint8Array {
  return encodeRdata('DS', f);
}

/** The fields of DS RDATA (dns/rdata's codec); throws DnssecWireError on malformed RDATA. */
export function decodeDs(rdata: Uint8Array): DsFields {
  return decodeDnssecRdata('DS', rdata);
}

/** DS RDATA for the DNSKEY RDATA `dnskey` owned by `owner` (digest type 2 SHA-256 by default). */
export function dsFromDnskey(owner: Fqdn, dnskey: Uint8Array, digestType: number = 2): Uint8Array {
  const hash = hashes[digestType];
  if (hash === undefined) throw new AlgorithmError(`unsupported DS digest type ${digestType}`, digestType);
  const digest = createHash(hash).update(nameToWire(owner)).update(dnskey).digest();
  return encodeDs({ keyTag: keyTag(dnskey), algorithm: dnskey[3] ?? 0, digestType, digest });
}

/** True when DS RDATA `ds` matches DNSKEY RDATA `dnskey` at `owner`. */
export function dsMatches(owner: Fqdn, ds: Uint8Array, dnskey: Uint8Array): boolean {
  const f = decodeDs(ds);
  if (hashes[f.digestType] === undefined) return false;
  const want = dsFromDnskey(owner, dnskey, f.digestType);
  return Buffer.from(want).equals(Buffer.from(ds));
}

/** RFC 8078 §4: `CDS 0 0 0 00`, the request to remove every DS. */
export const CDS_DELETE: Uint8Array = Uint8Array.from([0, 0, 0, 0, 0]);
/** RFC 8078 §4: `CDNSKEY 0 3 0 AA==`, the request to remove every DS. */
export const CDNSKEY_DELETE: Uint8Array = Uint8Array.from([0, 0, 3, 0, 0]);
