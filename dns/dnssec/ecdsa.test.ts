import { p256, p384 } from '@noble/curves/nist.js';
import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import { test } from 'node:test';
import { parseName } from '../name.ts';
import { createEcdsaSigner } from './ecdsa.ts';
import { generateKey, privateKeyRaw, publicKeyField, signData, verifyData } from './keys.ts';

const zone = parseName('example.');

for (const [algorithm, curve, hash, size] of [
  [13, p256, 'sha256', 32],
  [14, p384, 'sha384', 48],
] as const) {
  test(`ECDSA alg ${algorithm}: signatures verify with node:crypto and with @noble/curves, nonces never repeat`, { timeout: 60_000 }, () => {
    const key = generateKey(zone, algorithm, 256);
    const signer = createEcdsaSigner(crypto, algorithm, privateKeyRaw(algorithm, key.privateKey));
    const sign = (m: Uint8Array): Uint8Array => signer.sign(m);
    // noble wants the SEC1 point (04 || x || y); DNSSEC allows high-S, so lowS is off.
    const point = new Uint8Array([4, ...publicKeyField(algorithm, key.privateKey)]);
    const pub = crypto.createPublicKey(key.privateKey);
    const seenR = new Set<string>();
    // 600 signatures: more than two full nonce batches (4, 8, ... 256), so refills are covered.
    for (let i = 0; i < 600; i++) {
      const msg = crypto.randomBytes(1 + (i % 300));
      const sig = sign(msg);
      assert.equal(sig.length, size * 2);
      assert.ok(crypto.verify(hash, msg, { key: pub, dsaEncoding: 'ieee-p1363' }, sig), `node:crypto rejects signature ${i}`);
      if (i % 20 === 0) {
        const digest = crypto.createHash(hash).update(msg).digest();
        assert.ok(curve.verify(sig, digest, point, { prehash: false, lowS: false }), `noble rejects signature ${i}`);
      }
      const r = Buffer.from(sig.subarray(0, size)).toString('hex');
      assert.ok(!seenR.has(r), `nonce reused at signature ${i}`);
      seenR.add(r);
      // A changed message does not verify (the test can fail).
      msg[0] = (msg[0] as number) ^ 1;
      assert.equal(crypto.verify(hash, msg, { key: pub, dsaEncoding: 'ieee-p1363' }, sig), false);
    }
    // signData goes through the same signer (made once per key, after a self-test).
    const data = crypto.randomBytes(64);
    assert.ok(verifyData(algorithm, pub, data, signData(algorithm, key.privateKey, data)));
  });
}

test('ECDSA signer refuses a scalar out of range and a non-ECDSA algorithm', () => {
  assert.throws(() => createEcdsaSigner(crypto, 13, new Uint8Array(32)), /out of range/);
  assert.throws(() => createEcdsaSigner(crypto, 13, new Uint8Array(32).fill(0xff)), /out of range/);
  assert.throws(() => createEcdsaSigner(crypto, 15, new Uint8Array(32).fill(1)), /not an ECDSA algorithm/);
});
