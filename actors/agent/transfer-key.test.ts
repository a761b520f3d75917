import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import { parseName } from '../../dns/name.ts';
import { ownKeys, peerKeys } from '../../protocol/envelope.ts';
import { transferKey } from './transfer-key.ts';

async function party(): Promise<{ own: Awaited<ReturnType<typeof ownKeys>>; pub: Awaited<ReturnType<typeof peerKeys>> }> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const priv = await exportJWK(privateKey);
  const { d: _d, ...pub } = priv;
  return { own: await ownKeys(priv), pub: await peerKeys(pub) };
}

test('transfer key: both providers derive the same TSIG key from their P-256 keys; a third provider does not', async () => {
  const [a, b, c] = await Promise.all([party(), party(), party()]);
  const A = parseName('agent.alpha.example.');
  const B = parseName('agent.echo.example.');
  const C = parseName('agent.bravo.example.');
  const ab = transferKey(A, a.own, B, b.pub);
  const ba = transferKey(B, b.own, A, a.pub);
  assert.equal(ab.name, ba.name);
  assert.match(ab.name, /^[0-9a-f]{16}\.xfr\.mpdns\.$/);
  assert.equal(ab.algorithm, 'hmac-sha256');
  assert.equal(ab.secret.length, 32);
  assert.deepEqual(ab.secret, ba.secret);
  const ac = transferKey(A, a.own, C, c.pub);
  assert.notEqual(ac.name, ab.name);
  assert.notDeepEqual(ac.secret, ab.secret);
  // Someone with the identities but not the keys gets another secret.
  assert.notDeepEqual(transferKey(A, c.own, B, b.pub).secret, ab.secret);
});
