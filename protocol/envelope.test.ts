import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CompactEncrypt, CompactSign, exportJWK, generateKeyPair, type JWK } from 'jose';
import { checkRecipient, checkTime, openEnvelope, ownKeys, peerKeys, seal, verifyEnvelope, type OwnKeys, type PeerKeys } from './envelope.ts';
import { EnvelopeError, type EnvelopeFault } from './errors.ts';

interface Party {
  priv: JWK;
  own: OwnKeys;
  pub: PeerKeys;
}
const publicOf = (j: JWK): JWK => {
  const { d: _d, ...pub } = j;
  return pub;
};
async function party(): Promise<Party> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const priv = await exportJWK(privateKey);
  return { priv, own: await ownKeys(priv), pub: await peerKeys(publicOf(priv)) };
}
const [alpha, bravo, mallory] = await Promise.all([party(), party(), party()]);
const T = Date.parse('2026-12-04T12:00:00Z');
const body = new TextEncoder().encode('{"MessageType":"beat"}');
const faultOf = async (p: Promise<unknown>): Promise<EnvelopeFault | 'none'> => {
  try {
    await p;
    return 'none';
  } catch (e) {
    if (e instanceof EnvelopeError) return e.fault;
    throw e;
  }
};

test('envelope: seal, verify with the sender key, check recipient and time, open', async () => {
  const env = await seal({ body, recipient: 'agent.bravo.example.', time: T, sender: alpha.own, to: bravo.pub });
  assert.match(env, /^[A-Za-z0-9+/]+=*$/);
  const v = await verifyEnvelope(env, alpha.pub);
  assert.equal(v.recipient, 'agent.bravo.example.');
  assert.equal(v.time, T);
  assert.match(v.replayKey, /^[0-9a-f]{64}$/);
  checkRecipient(v, 'Agent.Bravo.Example');
  checkTime(v, T + 29_000, 30_000);
  assert.deepEqual(await openEnvelope(v, bravo.own), body);
  // The same body sealed again is a new envelope (fresh signature, fresh replay key).
  const again = await verifyEnvelope(await seal({ body, recipient: 'agent.bravo.example.', time: T, sender: alpha.own, to: bravo.pub }), alpha.pub);
  assert.notEqual(again.replayKey, v.replayKey);
  // The JWS and JWE headers are TDNS's.
  const [h] = atob(env).split('.');
  assert.deepEqual(JSON.parse(Buffer.from(h ?? '', 'base64url').toString()), { alg: 'ES256', cty: 'application/octet-stream', typ: 'JWS' });
  const jweHeader = JSON.parse(Buffer.from(v.jwe.split('.')[0] ?? '', 'base64url').toString()) as Record<string, unknown>;
  assert.deepEqual(
    [jweHeader['alg'], jweHeader['enc'], jweHeader['typ'], jweHeader['cty'], jweHeader['peer_id'], jweHeader['timestamp'], 'kid' in jweHeader],
    ['ECDH-ES', 'A256GCM', 'tdns-distribution', 'application/octet-stream', 'agent.bravo.example.', '2026-12-04T12:00:00.000Z', false],
  );
});

test('envelope: the stored vector opens with its keys (the reading contract)', async () => {
  const vec = JSON.parse(readFileSync(new URL('../test/vectors/protocol-envelope.json', import.meta.url), 'utf8')) as {
    alpha: { privateJwk: JWK };
    bravo: { identity: string; privateJwk: JWK };
    time: string;
    body: string;
    envelope: string;
    replayKey: string;
  };
  const v = await verifyEnvelope(vec.envelope, await peerKeys(publicOf(vec.alpha.privateJwk)));
  assert.equal(v.replayKey, vec.replayKey);
  assert.equal(v.time, Date.parse(vec.time));
  checkRecipient(v, vec.bravo.identity);
  assert.equal(new TextDecoder().decode(await openEnvelope(v, await ownKeys(vec.bravo.privateJwk))), vec.body);
});

test('envelope refusals: each bad input has its own fault', async () => {
  const good = await seal({ body, recipient: 'agent.bravo.example.', time: T, sender: alpha.own, to: bravo.pub });
  // Signed by another key than the QNAME sender's.
  const forged = await seal({ body, recipient: 'agent.bravo.example.', time: T, sender: mallory.own, to: bravo.pub });
  assert.equal(await faultOf(verifyEnvelope(forged, alpha.pub)), 'signature');
  // Encrypted to another recipient's key, though peer_id says bravo.
  const misaddressed = await seal({ body, recipient: 'agent.bravo.example.', time: T, sender: alpha.own, to: mallory.pub });
  assert.equal(await faultOf(verifyEnvelope(misaddressed, alpha.pub).then((v) => openEnvelope(v, bravo.own))), 'decrypt');
  // peer_id names someone else.
  const other = await verifyEnvelope(await seal({ body, recipient: 'agent.charlie.example.', time: T, sender: alpha.own, to: bravo.pub }), alpha.pub);
  assert.throws(() => checkRecipient(other, 'agent.bravo.example.'), (e: unknown) => e instanceof EnvelopeError && e.fault === 'recipient');
  // Outside the window, either side.
  const v = await verifyEnvelope(good, alpha.pub);
  assert.throws(() => checkTime(v, T + 30_001, 30_000), (e: unknown) => e instanceof EnvelopeError && e.fault === 'time');
  assert.throws(() => checkTime(v, T - 30_001, 30_000), (e: unknown) => e instanceof EnvelopeError && e.fault === 'time');
  // Tampered JWS payload: the signature no longer verifies.
  const jws = atob(good);
  const [jh, jp, js] = jws.split('.');
  const flipped = `${jh}.${(jp ?? '').slice(0, 40)}${(jp ?? '')[40] === 'A' ? 'B' : 'A'}${(jp ?? '').slice(41)}.${js}`;
  assert.equal(await faultOf(verifyEnvelope(btoa(flipped), alpha.pub)), 'signature');
  // Tampered ciphertext re-signed by the sender: verifies, does not decrypt.
  const parts = v.jwe.split('.');
  parts[3] = `${(parts[3] ?? '').startsWith('A') ? 'B' : 'A'}${(parts[3] ?? '').slice(1)}`;
  const resigned = btoa(await new CompactSign(new TextEncoder().encode(parts.join('.'))).setProtectedHeader({ alg: 'ES256' }).sign(alpha.own.sign));
  assert.equal(await faultOf(verifyEnvelope(resigned, alpha.pub).then((w) => openEnvelope(w, bravo.own))), 'decrypt');
  // Plain text (TDNS's unencrypted JSON) under a valid signature.
  const plain = btoa(await new CompactSign(body).setProtectedHeader({ alg: 'ES256' }).sign(alpha.own.sign));
  assert.equal(await faultOf(verifyEnvelope(plain, alpha.pub)), 'plaintext');
  // A JWE with another algorithm (direct key) under a valid signature.
  const direct = await new CompactEncrypt(body).setProtectedHeader({ alg: 'dir', enc: 'A256GCM', peer_id: 'agent.bravo.example.', timestamp: '2026-12-04T12:00:00Z' }).encrypt(new Uint8Array(32));
  const dirEnv = btoa(await new CompactSign(new TextEncoder().encode(direct)).setProtectedHeader({ alg: 'ES256' }).sign(alpha.own.sign));
  assert.equal(await faultOf(verifyEnvelope(dirEnv, alpha.pub)), 'plaintext');
  // Not base64, not a JWS, and a JWS with another algorithm.
  assert.equal(await faultOf(verifyEnvelope('not base64!', alpha.pub)), 'malformed');
  assert.equal(await faultOf(verifyEnvelope(btoa('a.b'), alpha.pub)), 'malformed');
  const hs = btoa(await new CompactSign(body).setProtectedHeader({ alg: 'HS256' }).sign(new Uint8Array(32)));
  assert.equal(await faultOf(verifyEnvelope(hs, alpha.pub)), 'malformed');
});

test('envelope keys: a JWK set with separate signing and encryption keys; bad key material refused', async () => {
  const [sig, enc] = [await party(), await party()];
  const set = { keys: [{ ...sig.priv, use: 'sig' }, { ...enc.priv, use: 'enc' }] };
  const own = await ownKeys(set);
  const pub = await peerKeys({ keys: set.keys.map(publicOf) });
  const env = await seal({ body, recipient: 'agent.delta.example.', time: T, sender: own, to: bravo.pub });
  assert.deepEqual(await openEnvelope(await verifyEnvelope(env, pub), bravo.own), body);
  // The encryption key of the set decrypts; its signing key does not.
  const toSet = await seal({ body, recipient: 'agent.delta.example.', time: T, sender: alpha.own, to: pub });
  assert.deepEqual(await openEnvelope(await verifyEnvelope(toSet, alpha.pub), own), body);
  assert.equal(await faultOf(openEnvelope(await verifyEnvelope(toSet, alpha.pub), sig.own)), 'decrypt');
  assert.equal(await faultOf(peerKeys(alpha.priv)), 'malformed', 'a private key is not published');
  assert.equal(await faultOf(ownKeys(publicOf(alpha.priv))), 'malformed');
  assert.equal(await faultOf(peerKeys({ kty: 'OKP', crv: 'Ed25519', x: 'AA' })), 'malformed');
  assert.equal(await faultOf(peerKeys({ kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' })), 'malformed');
});
