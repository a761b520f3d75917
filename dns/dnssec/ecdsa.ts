// ECDSA signing for DNSSEC (algorithm 13, P-256/SHA-256; 14, P-384/SHA-384), faster than
// node:crypto's one-shot sign. On this machine's OpenSSL 3.0, crypto.sign spends about half of
// each call setting up the operation (EVP_DigestSignInit: provider fetch, context and key
// setup); the curve work itself is the smaller part. Here OpenSSL still does every
// point multiplication, and only the scalar equation of the signature is done in BigInt:
//
//   k    random in [1, n-1], R = k·G       ECDH generateKeys (OpenSSL's key generation:
//                                           its CSPRNG, constant-time multiplication)
//   r    = x(R) mod n
//   s    = k⁻¹ (e + r·d) mod n              BigInt; e = the message hash
//
// Nonces are made ahead in batches (one modular inversion for a whole batch, Montgomery's
// trick); each is used exactly once. The batch grows from 4 to 256 as signing goes on, so a
// signer that makes two signatures per zone change does not precompute hundreds.
//
// `createEcdsaSigner` is self-contained (node:crypto is passed in and nothing outside the
// function is referenced), because dns/net/sign-pool.ts sends its source text to worker
// threads. docs/decisions.md says why this is done and what it costs.
import type * as NodeCrypto from 'node:crypto';

/** Signs `data` (the whole signature input; hashed here) and returns r||s. */
export type EcdsaSign = (data: Uint8Array) => Uint8Array;

export function createEcdsaSigner(crypto: typeof NodeCrypto, algorithm: number, scalar: Uint8Array): EcdsaSign {
  const curve =
    algorithm === 13
      ? { ossl: 'prime256v1', hash: 'sha256', size: 32, n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n }
      : algorithm === 14
        ? {
            ossl: 'secp384r1',
            hash: 'sha384',
            size: 48,
            n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
          }
        : undefined;
  if (curve === undefined) throw new RangeError(`not an ECDSA algorithm: ${algorithm}`);
  const { n, size, hash } = curve;
  const hexLen = size * 2;
  const toBig = (b: Uint8Array): bigint => BigInt('0x' + Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex'));
  const d = toBig(scalar);
  if (d <= 0n || d >= n) throw new RangeError('ECDSA private scalar out of range');
  const ecdh = crypto.createECDH(curve.ossl);

  const modPow = (base: bigint, exp: bigint): bigint => {
    let result = 1n;
    let b = base % n;
    let e = exp;
    while (e > 0n) {
      if (e & 1n) result = (result * b) % n;
      b = (b * b) % n;
      e >>= 1n;
    }
    return result;
  };

  // Precomputed nonces, used from the end and never reused: k⁻¹, k⁻¹·r·d mod n, and r in hex.
  let kInv: bigint[] = [];
  let kInvRd: bigint[] = [];
  let rHex: string[] = [];
  let batch = 4;
  const refill = (): void => {
    const count = batch;
    batch = Math.min(256, batch * 2);
    const ks: bigint[] = [];
    const rs: bigint[] = [];
    const rh: string[] = [];
    while (ks.length < count) {
      // OpenSSL picks k uniformly in [1, n-1] and computes k·G (uncompressed: 04 || x || y).
      const point = ecdh.generateKeys();
      const priv = ecdh.getPrivateKey();
      const k = toBig(priv);
      priv.fill(0);
      const xHex = point.toString('hex', 1, 1 + size);
      let r = BigInt('0x' + xHex);
      const reduced = r >= n;
      if (reduced) r -= n; // x < p < 2n
      if (r === 0n) continue;
      ks.push(k);
      rs.push(r);
      rh.push(reduced ? r.toString(16).padStart(hexLen, '0') : xHex);
    }
    // Montgomery's trick: one inversion (Fermat, n is prime) for the whole batch.
    const prefix: bigint[] = new Array<bigint>(count);
    let acc = 1n;
    for (let i = 0; i < count; i++) {
      prefix[i] = acc;
      acc = (acc * (ks[i] as bigint)) % n;
    }
    let inv = modPow(acc, n - 2n);
    const inverses: bigint[] = new Array<bigint>(count);
    const rd: bigint[] = new Array<bigint>(count);
    for (let i = count - 1; i >= 0; i--) {
      const ki = (inv * (prefix[i] as bigint)) % n;
      inverses[i] = ki;
      rd[i] = (((ki * (rs[i] as bigint)) % n) * d) % n;
      inv = (inv * (ks[i] as bigint)) % n;
    }
    kInv = inverses;
    kInvRd = rd;
    rHex = rh;
  };

  return (data: Uint8Array): Uint8Array => {
    const e = BigInt('0x' + crypto.hash(hash, data, 'hex'));
    for (;;) {
      if (kInv.length === 0) refill();
      const ki = kInv.pop() as bigint;
      const krd = kInvRd.pop() as bigint;
      const r = rHex.pop() as string;
      // s = k⁻¹(e + r·d) = k⁻¹·e + k⁻¹·r·d (mod n)
      const s = (ki * e + krd) % n;
      if (s === 0n) continue;
      return Buffer.from(r + s.toString(16).padStart(hexLen, '0'), 'hex');
    }
  };
}
