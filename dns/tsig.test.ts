import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  findTsig,
  parseTsigKey,
  signMessage,
  TsigStreamSigner,
  TsigStreamVerifier,
  unsignedError,
  verifyMessage,
} from './tsig.ts';
import { ParseError } from './errors.ts';
import { Rcode } from './types.ts';

const key = parseTsigKey('xfr.example:hmac-sha256:c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ==');
const other = parseTsigKey('xfr.example:hmac-sha256:b3RoZXItb3RoZXItb3RoZXItb3RoZXIhIQ==');

// A query for example. SOA, id 0x1234, written out byte by byte.
const query = Uint8Array.from([
  0x12, 0x34, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  7, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0, 0x00, 0x06, 0x00, 0x01,
]);

test('parseTsigKey accepts NAME:ALG:SECRET and rejects bad input', { timeout: 5000 }, () => {
  assert.equal(key.name, 'xfr.example.');
  assert.equal(key.algorithm, 'hmac-sha256');
  assert.equal(key.secret.length, 28);
  assert.equal(parseTsigKey('k.:HMAC-SHA512.:AAAA').algorithm, 'hmac-sha512');
  for (const bad of ['k:hmac-sha256', 'k:hmac-md4:AAAA', 'k:hmac-sha256:no*base64', 'a..b:hmac-sha1:AAAA']) {
    assert.throws(() => parseTsigKey(bad), ParseError, bad);
  }
});

test('sign then verify; tamper, wrong key, stale time', { timeout: 5000 }, () => {
  const now = 1_800_000_000;
  const { bytes, mac } = signMessage(query, key, { now });
  assert.equal(mac.length, 32);
  const t = findTsig(bytes);
  assert.ok(t);
  assert.equal(t.keyName, 'xfr.example.');
  assert.equal(t.algorithm, 'hmac-sha256.');
  assert.equal(t.timeSigned, now);
  assert.equal(t.originalId, 0x1234);
  assert.equal(bytes[11], 1, 'ARCOUNT counts the TSIG');
  assert.equal(verifyMessage(bytes, key, { now }).ok, true);
  // The id may be rewritten by a forwarder: original id keeps the MAC valid.
  const rewritten = bytes.slice();
  rewritten[0] = 0x99;
  assert.equal(verifyMessage(rewritten, key, { now }).ok, true);
  const tampered = bytes.slice();
  tampered[14] = (tampered[14] ?? 0) ^ 0x20; // flips the case of one qname letter
  const v1 = verifyMessage(tampered, key, { now });
  assert.equal(v1.ok, false);
  assert.equal(!v1.ok && v1.error, Rcode.BADSIG);
  const v2 = verifyMessage(bytes, other, { now });
  assert.equal(!v2.ok && v2.error, Rcode.BADSIG);
  const v3 = verifyMessage(bytes, new Map(), { now });
  assert.equal(!v3.ok && v3.error, Rcode.BADKEY);
  const v4 = verifyMessage(bytes, key, { now: now + 301 });
  assert.equal(!v4.ok && v4.error, Rcode.BADTIME);
  assert.equal(verifyMessage(bytes, key, { now: now - 300 }).ok, true);
  const v5 = verifyMessage(query, key, { now });
  assert.equal(!v5.ok && v5.reason, 'unsigned');
});

test('responses chain the request MAC; unsigned error responses carry the error', { timeout: 5000 }, () => {
  const now = 1_800_000_000;
  const req = signMessage(query, key, { now });
  const resp = query.slice();
  resp[2] = 0x84;
  const signed = signMessage(resp, key, { now, requestMac: req.mac });
  assert.equal(verifyMessage(signed.bytes, key, { now, requestMac: req.mac }).ok, true);
  assert.equal(verifyMessage(signed.bytes, key, { now }).ok, false, 'request MAC is covered');
  const t = findTsig(req.bytes);
  assert.ok(t);
  const err = unsignedError(resp, t, Rcode.BADSIG);
  const et = findTsig(err);
  assert.equal(et?.error, Rcode.BADSIG);
  assert.equal(et?.mac.length, 0);
  // The client that gets it back reports the peer's error, not a bad signature of its own.
  const refused = verifyMessage(unsignedError(resp, t, Rcode.BADKEY), key, { now, requestMac: req.mac });
  assert.equal(refused.ok, false);
  assert.equal(!refused.ok && refused.error, Rcode.BADKEY);
  assert.equal(!refused.ok && refused.reason, 'the peer refused key xfr.example.: BADKEY');
  // A request carrying an error and no MAC is just unsigned-as-forged: BADSIG, never its own error.
  const forged = verifyMessage(unsignedError(query, t, Rcode.BADTIME), key, { now });
  assert.equal(!forged.ok && forged.error, Rcode.BADSIG);
});

test('multi-message stream: every message signed, or unsigned runs between', { timeout: 5000 }, () => {
  const now = 1_800_000_000;
  const req = signMessage(query, key, { now });
  const signer = new TsigStreamSigner(key, req.mac);
  const msgs = [0, 1, 2].map((i) => {
    const m = query.slice();
    m[2] = 0x84;
    m[13] = 0x65 + i;
    return signer.sign(m, now);
  });
  const verifier = new TsigStreamVerifier(key, req.mac);
  for (const m of msgs) assert.deepEqual(verifier.verify(m, now), { ok: true, signed: true });
  assert.equal(verifier.settled, true);
  // Reordering breaks the chain.
  const v2 = new TsigStreamVerifier(key, req.mac);
  assert.equal(v2.verify(msgs[0]!, now).ok, true);
  assert.equal(v2.verify(msgs[2]!, now).ok, false);
  // First message unsigned is refused.
  const v3 = new TsigStreamVerifier(key, req.mac);
  assert.equal(v3.verify(query, now).ok, false);
});
