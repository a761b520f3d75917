// DNSSEC keys: generation with node:crypto, DNSKEY RDATA <-> public key, raw private key import,
// and the signing/verification primitives used by sign.ts and verify.ts.
import * as nodeCrypto from 'node:crypto';
import {
  createECDH,
  createPrivateKey,
  createPublicKey,
  randomBytes,
  sign as cryptoSign,
  verify as cryptoVerify,
  type KeyObject,
} from 'node:crypto';
import type { Fqdn } from '../name.ts';
import { encodeRdata, type RdataOf } from '../rdata/index.ts';
import { algorithmName, SIGNING_ALGORITHMS } from './algorithms.ts';
import { createEcdsaSigner, ECDSA_CURVES, type EcdsaCurve, type EcdsaSigner } from './ecdsa.ts';
import { AlgorithmError, decodeDnssecRdata, KeyError } from './errors.ts';
import { keyTag } from './keytag.ts';

export const FLAG_ZONE = 0x0100;
export const FLAG_SEP = 0x0001;
export const FLAG_REVOKE = 0x0080;
export const KSK_FLAGS = 257;
export const ZSK_FLAGS = 256;

/** The fields of DNSKEY (and CDNSKEY) RDATA, as dns/rdata's descriptor table defines them. */
export type DnskeyFields = RdataOf<'DNSKEY'>;

/** A key of this signer: public half as DNSKEY RDATA, private half as a node:crypto KeyObject. */
export interface SigningKey {
  readonly zone: Fqdn;
  readonly flags: number;
  readonly algorithm: number;
  readonly keyTag: number;
  /** DNSKEY RDATA wire form. */
  readonly dnskey: Uint8Array;
  readonly privateKey: KeyObject;
  /** Creation time, seconds since the epoch (BIND's `Created:`). */
  readonly created: number;
}

/** DNSKEY RDATA from its fields (dns/rdata's codec). */
export function encodeDnskey(f: DnskeyFields): Uint8Array {
  return encodeRdata('DNSKEY', f);
}

/** The fields of DNSKEY RDATA (dns/rdata's codec); throws DnssecWireError on malformed RDATA. */
export function decodeDnskey(rdata: Uint8Array): DnskeyFields {
  return decodeDnssecRdata('DNSKEY', rdata);
}

function b64u(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
}

function fromB64u(s: string | undefined, size?: number): Uint8Array {
  const raw = new Uint8Array(Buffer.from(s ?? '', 'base64url'));
  if (size === undefined || raw.length === size) return raw;
  // JWK coordinates are fixed size; pad on the left if an encoder dropped leading zeros.
  const out = new Uint8Array(size);
  out.set(raw.subarray(Math.max(0, raw.length - size)), Math.max(0, size - raw.length));
  return out;
}

interface Jwk {
  kty?: string;
  crv?: string;
  x?: string;
  y?: string;
  d?: string;
  n?: string;
  e?: string;
}

/** ecdsa.ts's curves (OpenSSL name, hash, size) with their JWK names. */
const ecCurves: Record<number, EcdsaCurve & { crv: string }> = {
  13: { ...(ECDSA_CURVES[13] as EcdsaCurve), crv: 'P-256' },
  14: { ...(ECDSA_CURVES[14] as EcdsaCurve), crv: 'P-384' },
};

/** DNSKEY public key field of a node:crypto public (or private) key. */
export function publicKeyField(algorithm: number, key: KeyObject): Uint8Array {
  const jwk = key.export({ format: 'jwk' }) as Jwk;
  if (algorithm === 15) return fromB64u(jwk.x, 32);
  const ec = ecCurves[algorithm];
  if (ec !== undefined) {
    const out = new Uint8Array(ec.size * 2);
    out.set(fromB64u(jwk.x, ec.size), 0);
    out.set(fromB64u(jwk.y, ec.size), ec.size);
    return out;
  }
  throw new AlgorithmError(`cannot export a public key for algorithm ${algorithmName(algorithm)}`, algorithm);
}

/** node:crypto public key of a DNSKEY's public key field (algorithms 8, 10, 13, 14, 15). */
export function publicKeyObject(algorithm: number, pub: Uint8Array): KeyObject {
  try {
    if (algorithm === 15) {
      if (pub.length !== 32) throw new KeyError(`Ed25519 public key of ${pub.length} octets`);
      return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64u(pub) }, format: 'jwk' });
    }
    const ec = ecCurves[algorithm];
    if (ec !== undefined) {
      if (pub.length !== ec.size * 2) throw new KeyError(`${ec.crv} public key of ${pub.length} octets`);
      const x = b64u(pub.subarray(0, ec.size));
      const y = b64u(pub.subarray(ec.size));
      return createPublicKey({ key: { kty: 'EC', crv: ec.crv, x, y }, format: 'jwk' });
    }
    if (algorithm === 8 || algorithm === 10) {
      // RFC 3110: exponent length (1 octet, or 0 then 2 octets), exponent, modulus.
      let o = 1;
      let elen = pub[0] ?? 0;
      if (elen === 0) {
        elen = ((pub[1] ?? 0) << 8) | (pub[2] ?? 0);
        o = 3;
      }
      if (pub.length < o + elen + 1) throw new KeyError('RSA public key too short');
      const e = b64u(pub.subarray(o, o + elen));
      const n = b64u(pub.subarray(o + elen));
      return createPublicKey({ key: { kty: 'RSA', n, e }, format: 'jwk' });
    }
  } catch (err) {
    if (err instanceof KeyError) throw err;
    throw new KeyError(`invalid ${algorithmName(algorithm)} public key`, undefined, { cause: err });
  }
  throw new AlgorithmError(`unsupported algorithm ${algorithm} for verification`, algorithm);
}

const ED25519_PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

/** node:crypto private key from the raw private key (Ed25519 seed, or ECDSA scalar). */
export function privateKeyFromRaw(algorithm: number, raw: Uint8Array): KeyObject {
  if (algorithm === 15) {
    if (raw.length !== 32) throw new KeyError(`Ed25519 private key of ${raw.length} octets (want 32)`);
    const der = Buffer.concat([ED25519_PKCS8_PREFIX, raw]);
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  }
  const ec = ecCurves[algorithm];
  if (ec !== undefined) {
    if (raw.length === 0 || raw.length > ec.size) {
      throw new KeyError(`${ec.crv} private key of ${raw.length} octets (want ${ec.size})`);
    }
    // The scalar is an integer: BIND (OpenSSL's BN_bn2bin) writes it without leading zero
    // octets, so about one key in 256 is shorter than the curve size. Left-pad it.
    if (raw.length < ec.size) {
      const padded = new Uint8Array(ec.size);
      padded.set(raw, ec.size - raw.length);
      raw = padded;
    }
    try {
      const ecdh = createECDH(ec.ossl);
      ecdh.setPrivateKey(raw);
      const pub = ecdh.getPublicKey();
      const x = b64u(pub.subarray(1, 1 + ec.size));
      const y = b64u(pub.subarray(1 + ec.size));
      return createPrivateKey({ key: { kty: 'EC', crv: ec.crv, d: b64u(raw), x, y }, format: 'jwk' });
    } catch (err) {
      throw new KeyError(`invalid ${ec.crv} private key`, undefined, { cause: err });
    }
  }
  throw new AlgorithmError(`unsupported signing algorithm ${algorithmName(algorithm)}`, algorithm);
}

/** Raw private key (Ed25519 seed or ECDSA scalar), as BIND's `PrivateKey:` field holds it. */
export function privateKeyRaw(algorithm: number, key: KeyObject): Uint8Array {
  const jwk = key.export({ format: 'jwk' }) as Jwk;
  const size = algorithm === 15 ? 32 : ecCurves[algorithm]?.size;
  if (size === undefined) throw new AlgorithmError(`unsupported algorithm ${algorithm}`, algorithm);
  return fromB64u(jwk.d, size);
}

/** A SigningKey from a private KeyObject; the public half is derived from it. */
export function signingKeyFromPrivate(
  zone: Fqdn,
  algorithm: number,
  flags: number,
  privateKey: KeyObject,
  created: number = Math.floor(Date.now() / 1000),
): SigningKey {
  if (!SIGNING_ALGORITHMS.includes(algorithm)) {
    throw new AlgorithmError(`unsupported signing algorithm ${algorithmName(algorithm)}`, algorithm);
  }
  const publicKey = publicKeyField(algorithm, privateKey);
  const dnskey = encodeDnskey({ flags, protocol: 3, algorithm, publicKey });
  return { zone, flags, algorithm, keyTag: keyTag(dnskey), dnskey, privateKey, created };
}

/**
 * Generates a new key (flags 257 for a KSK or CSK, 256 for a ZSK). The private key is made from
 * fresh raw key material (an Ed25519 seed, or a scalar from OpenSSL's EC key generation), not
 * with generateKeyPairSync: on Node 20, exporting a JWK of a key from generateKeyPairSync
 * deadlocks the process when a garbage collection during the export finalizes the key's
 * generation job (docs/decisions.md), and publicKeyField exports a JWK.
 */
export function generateKey(zone: Fqdn, algorithm: number, flags: number): SigningKey {
  let raw: Uint8Array;
  if (algorithm === 15) raw = randomBytes(32);
  else if (ecCurves[algorithm] !== undefined) {
    const ecdh = createECDH(ecCurves[algorithm].ossl);
    ecdh.generateKeys();
    raw = ecdh.getPrivateKey();
  } else {
    throw new AlgorithmError(`unsupported signing algorithm ${algorithmName(algorithm)}`, algorithm);
  }
  return signingKeyFromPrivate(zone, algorithm, flags, privateKeyFromRaw(algorithm, raw));
}

const ecdsaSigners = new WeakMap<KeyObject, EcdsaSigner>();

/**
 * The ECDSA signer of a private key (ecdsa.ts), made once per key. Its first signature is
 * checked with node:crypto's verify, so a key that does not convert cleanly fails here, once.
 */
export function ecdsaSignerFor(algorithm: number, key: KeyObject): EcdsaSigner {
  let signer = ecdsaSigners.get(key);
  if (signer !== undefined) return signer;
  const ec = ecCurves[algorithm];
  if (ec === undefined) throw new AlgorithmError(`cannot sign with algorithm ${algorithm}`, algorithm);
  signer = createEcdsaSigner(nodeCrypto, algorithm, privateKeyRaw(algorithm, key));
  const probe = Buffer.from('mpdns ecdsa self-test');
  if (!cryptoVerify(ec.hash, probe, { key: createPublicKey(key), dsaEncoding: 'ieee-p1363' }, signer.sign(probe))) {
    throw new KeyError(`${ec.crv} private key failed the signing self-test`);
  }
  ecdsaSigners.set(key, signer);
  return signer;
}

/** Signs `data` as DNSSEC wants it: Ed25519 raw, ECDSA as r||s (IEEE P1363). */
export function signData(algorithm: number, key: KeyObject, data: Uint8Array): Uint8Array {
  if (algorithm === 15) return cryptoSign(null, data, key);
  return ecdsaSignerFor(algorithm, key).sign(data);
}

/** Verifies a DNSSEC signature; ECDSA signatures are r||s and high-S is accepted. */
export function verifyData(
  algorithm: number,
  key: KeyObject,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  switch (algorithm) {
    case 15:
      return cryptoVerify(null, data, key, signature);
    case 13:
    case 14: {
      const ec = ecCurves[algorithm];
      if (ec === undefined || signature.length !== ec.size * 2) return false;
      return cryptoVerify(ec.hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
    }
    case 8:
      return cryptoVerify('sha256', data, key, signature);
    case 10:
      return cryptoVerify('sha512', data, key, signature);
    default:
      throw new AlgorithmError(`unsupported algorithm ${algorithm} for verification`, algorithm);
  }
}

/** True for a key with the SEP bit (a KSK or CSK by convention). */
export function isKsk(flags: number): boolean {
  return (flags & FLAG_SEP) !== 0;
}
