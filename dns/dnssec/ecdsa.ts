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
// A nonce (k⁻¹, r) does not depend on the message or the key, so nonces are made ahead in
// batches, with one modular inversion per batch (Montgomery's trick), and each is used exactly
// once. The batch grows from 4 to 256 as signing goes on, so a signer that makes two signatures
// per zone change does not precompute hundreds. With worker threads (dns/net/sign-pool.ts) the
// workers make the nonces and this thread only finishes signatures: `nonceSource`.
//
// `makeNonces` is self-contained (node:crypto and the curve are passed in, nothing outside the
// function is referenced), because dns/net/sign-pool.ts sends its source text to worker
// threads. docs/decisions.md says why this is done and what it costs.
import type * as NodeCrypto from 'node:crypto';

/** What makeNonces needs of a curve. */
export interface EcdsaCurve {
  /** OpenSSL curve name for createECDH. */
  readonly ossl: string;
  readonly hash: 'sha256' | 'sha384';
  /** Octets of a scalar or coordinate. */
  readonly size: number;
  /** Group order. */
  readonly n: bigint;
}

export const ECDSA_CURVES: Readonly<Record<number, EcdsaCurve>> = {
  13: { ossl: 'prime256v1', hash: 'sha256', size: 32, n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n },
  14: {
    ossl: 'secp384r1',
    hash: 'sha384',
    size: 48,
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  },
};

/** `count` one-time nonces: k⁻¹ mod n and r = x(k·G) mod n, r also as fixed-width hex. */
export function makeNonces(
  crypto: typeof NodeCrypto,
  curve: EcdsaCurve,
  count: number,
): { kInv: bigint[]; r: bigint[]; rHex: string[] } {
  const { n, size } = curve;
  const ecdh = crypto.createECDH(curve.ossl);
  const ks: bigint[] = [];
  const rs: bigint[] = [];
  const rh: string[] = [];
  while (ks.length < count) {
    // OpenSSL picks k uniformly in [1, n-1] and computes k·G (uncompressed: 04 || x || y).
    const point = ecdh.generateKeys();
    const priv = ecdh.getPrivateKey();
    const k = BigInt('0x' + priv.toString('hex'));
    priv.fill(0);
    const xHex = point.toString('hex', 1, 1 + size);
    let r = BigInt('0x' + xHex);
    const reduced = r >= n;
    if (reduced) r -= n; // x < p < 2n
    if (r === 0n) continue;
    ks.push(k);
    rs.push(r);
    rh.push(reduced ? r.toString(16).padStart(size * 2, '0') : xHex);
  }
  // Montgomery's trick: one inversion (Fermat: k^(n-2), n is prime) for the whole batch.
  const prefix: bigint[] = new Array<bigint>(count);
  let acc = 1n;
  for (let i = 0; i < count; i++) {
    prefix[i] = acc;
    acc = (acc * (ks[i] as bigint)) % n;
  }
  let inv = 1n;
  let b = acc;
  for (let e = n - 2n; e > 0n; e >>= 1n) {
    if (e & 1n) inv = (inv * b) % n;
    b = (b * b) % n;
  }
  const kInv: bigint[] = new Array<bigint>(count);
  for (let i = count - 1; i >= 0; i--) {
    kInv[i] = (inv * (prefix[i] as bigint)) % n;
    inv = (inv * (ks[i] as bigint)) % n;
  }
  return { kInv, r: rs, rHex: rh };
}

/** One precomputed nonce. */
export interface Nonce {
  readonly kInv: bigint;
  readonly r: bigint;
  readonly rHex: string;
}

/** Nonces made elsewhere (worker threads); undefined when none is ready. Each is handed out once. */
export type NonceSource = () => Nonce | undefined;

export interface EcdsaSigner {
  /** Signs `data` (the whole signature input; hashed here) and returns r||s. */
  sign(data: Uint8Array): Uint8Array;
  /** sign() as hex (r||s), for a caller that writes it into a buffer of its own. */
  signHex(data: Uint8Array): string;
  /** Where nonces come from first; when it has none, this signer makes its own. */
  nonceSource: NonceSource | undefined;
}

export function createEcdsaSigner(crypto: typeof NodeCrypto, algorithm: number, scalar: Uint8Array): EcdsaSigner {
  const curve = ECDSA_CURVES[algorithm];
  if (curve === undefined) throw new RangeError(`not an ECDSA algorithm: ${algorithm}`);
  const { n, size, hash } = curve;
  const d = BigInt('0x' + Buffer.from(scalar.buffer, scalar.byteOffset, scalar.byteLength).toString('hex'));
  if (d <= 0n || d >= n) throw new RangeError('ECDSA private scalar out of range');
  // This signer's own nonces, used from the end.
  let own = { kInv: [] as bigint[], r: [] as bigint[], rHex: [] as string[] };
  let batch = 4;
  const signer: EcdsaSigner = {
    nonceSource: undefined,
    signHex(data: Uint8Array): string {
      const e = BigInt('0x' + crypto.hash(hash, data, 'hex'));
      for (;;) {
        let kInv: bigint;
        let r: bigint;
        let rHex: string;
        const nonce = signer.nonceSource?.();
        if (nonce !== undefined) ({ kInv, r, rHex } = nonce);
        else {
          if (own.kInv.length === 0) {
            own = makeNonces(crypto, curve, batch);
            batch = Math.min(256, batch * 2);
          }
          kInv = own.kInv.pop() as bigint;
          r = own.r.pop() as bigint;
          rHex = own.rHex.pop() as string;
        }
        const s = (kInv * (e + r * d)) % n;
        if (s === 0n) continue;
        return rHex + s.toString(16).padStart(size * 2, '0');
      }
    },
    sign(data: Uint8Array): Uint8Array {
      return Buffer.from(signer.signHex(data), 'hex');
    },
  };
  return signer;
}
