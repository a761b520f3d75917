// RRSIG verification (RFC 4035 §5.3) for algorithms 8, 10, 13, 14, 15.
import { labelCount, nameLabels, nameToWire, parseName, type Fqdn } from '../name.ts';
import type { RR } from '../rr.ts';
import { VERIFY_ALGORITHMS } from './algorithms.ts';
import { decodeDnskey, publicKeyObject, verifyData } from './keys.ts';
import { keyTag } from './keytag.ts';
import { decodeRrsig, encodeRrsigHeader } from './rrsig.ts';
import { signatureInput } from './sign.ts';

export type VerifyResult = { readonly ok: true; readonly keyTag: number } | { readonly ok: false; readonly reason: string };

/** True when a is before b in RFC 1982 serial arithmetic (32 bits). */
function serialLt(a: number, b: number): boolean {
  return a !== b && ((b - a) >>> 0) < 0x80000000;
}

/**
 * Verifies one RRSIG over an RRset whose RDATA is canonical. `dnskeys` are DNSKEY RDATA of the
 * signer zone. `now` (seconds) checks the validity window unless it is undefined.
 */
export function verifyRrsig(
  rrset: readonly RR[],
  rrsig: RR,
  dnskeys: readonly Uint8Array[],
  now?: number,
): VerifyResult {
  const first = rrset[0];
  if (first === undefined) return { ok: false, reason: 'empty RRset' };
  const sig = decodeRrsig(rrsig.rdata);
  if (sig.typeCovered !== first.type) return { ok: false, reason: 'type covered differs' };
  if (!VERIFY_ALGORITHMS.includes(sig.algorithm)) {
    return { ok: false, reason: `unsupported algorithm ${sig.algorithm}` };
  }
  const ownerLabels = labelCount(first.name);
  if (sig.labels > ownerLabels) return { ok: false, reason: 'labels field larger than the owner' };
  if (now !== undefined) {
    const t = now >>> 0;
    if (serialLt(sig.expiration, t)) return { ok: false, reason: 'signature expired' };
    if (serialLt(t, sig.inception)) return { ok: false, reason: 'signature not yet valid' };
  }
  let owner: Fqdn = first.name;
  if (sig.labels < ownerLabels) {
    const labels = nameLabels(first.name).slice(ownerLabels - sig.labels);
    owner = parseName(['*', ...labels].join('.') + '.');
  }
  const header = encodeRrsigHeader(sig);
  const input = signatureInput(
    header,
    nameToWire(owner),
    first.type,
    first.class,
    sig.originalTtl,
    rrset.map((r) => r.rdata),
  );
  let lastReason = `no DNSKEY with tag ${sig.keyTag} and algorithm ${sig.algorithm}`;
  for (const dk of dnskeys) {
    const f = decodeDnskey(dk);
    if (f.algorithm !== sig.algorithm || keyTag(dk) !== sig.keyTag) continue;
    if ((f.flags & 0x0100) === 0) {
      lastReason = 'key is not a zone key';
      continue;
    }
    const pub = publicKeyObject(f.algorithm, f.publicKey);
    if (verifyData(sig.algorithm, pub, input, sig.signature)) return { ok: true, keyTag: sig.keyTag };
    lastReason = `bad signature by key ${sig.keyTag}`;
  }
  return { ok: false, reason: lastReason };
}
