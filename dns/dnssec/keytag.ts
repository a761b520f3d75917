// Key tag of a DNSKEY (RFC 4034 Appendix B), computed over the DNSKEY RDATA wire form.

/** The 16-bit key tag of DNSKEY RDATA (flags, protocol, algorithm, public key). */
export function keyTag(dnskeyRdata: Uint8Array): number {
  if (dnskeyRdata[3] === 1) {
    // Algorithm 1 (RSA/MD5): the tag is the third-to-last and second-to-last octets of the key.
    const n = dnskeyRdata.length;
    return (((dnskeyRdata[n - 3] ?? 0) << 8) | (dnskeyRdata[n - 2] ?? 0)) & 0xffff;
  }
  let ac = 0;
  for (let i = 0; i < dnskeyRdata.length; i++) {
    const b = dnskeyRdata[i] as number;
    ac += (i & 1) === 1 ? b : b << 8;
  }
  ac += (ac >>> 16) & 0xffff;
  return ac & 0xffff;
}
