// Discovery from DNS against real validation: identity zones signed by our signer under a
// signed root and TLD (actors/lab/world.ts), looked up through Unbound validating from the
// world's trust anchor. Answers without AD (a non-validating Unbound) are refused unless the
// caller runs in the explicit insecure mode.
import { strict as assert } from 'node:assert';
import { after, before, test } from 'node:test';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { discoverPeer } from '../actors/agent/discovery.ts';
import { startSignedWorld, type SignedWorld } from '../actors/lab/world.ts';
import { startUnbound, type Resolver } from '../actors/lab/unbound.ts';
import { parseName } from '../dns/name.ts';
import { DiscoveryError } from '../protocol/errors.ts';
import { haveBinary } from './support/daemon.ts';
import { tmpDir, type TmpDir } from './support/tmp.ts';

const skip = haveBinary('unbound') ? false : 'needs unbound';
let dir: TmpDir;
let world: SignedWorld | undefined;
let validating: Resolver | undefined;
let plain: Resolver | undefined;
let alphaKey: JWK;

const b64url = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

before(async () => {
  if (skip !== false) return;
  dir = await tmpDir('mpdns-discovery-');
  const { publicKey } = await generateKeyPair('ES256', { extractable: true });
  alphaKey = await exportJWK(publicKey);
  const bravoSet = { keys: [{ ...(await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey)), use: 'sig' }] };
  world = await startSignedWorld(dir.path, [
    {
      origin: 'alpha.example.',
      records: [
        '_dns._tcp.agent.alpha.example. 3600 IN URI 10 1 "dns://dns.agent.alpha.example:5359/"',
        'dns.agent.alpha.example. 300 IN SVCB 1 . port=5359 ipv4hint=127.0.0.11',
        'dns.agent.alpha.example. 3600 IN A 127.0.0.99',
        `dns.agent.alpha.example. 3600 IN JWK ${b64url(alphaKey)}`,
      ],
    },
    {
      origin: 'bravo.test.',
      records: [
        '_dns._tcp.agent.bravo.test. 3600 IN URI 10 1 "dns://dns.agent.bravo.test/"',
        'dns.agent.bravo.test. 3600 IN SVCB 1 . port=5360',
        'dns.agent.bravo.test. 3600 IN A 127.0.0.12',
        `dns.agent.bravo.test. 3600 IN JWK ${b64url(bravoSet)}`,
      ],
    },
    { origin: 'charlie.example.', records: ['agent.charlie.example. 3600 IN TXT "no transport published"'] },
  ]);
  validating = await startUnbound(dir.path, world.servers, world.trustAnchorFile);
  plain = await startUnbound(dir.path, world.servers, undefined);
});

after(async () => {
  await validating?.stop();
  await plain?.stop();
  await world?.stop();
  await dir?.remove();
});

test('discovery through a validating Unbound: endpoint, key and TTL of a signed identity', { skip }, async () => {
  assert.ok(validating !== undefined);
  const d = await discoverPeer(parseName('agent.alpha.example.'), { resolver: validating.address });
  assert.deepEqual(d.endpoint, { host: 'dns.agent.alpha.example.', port: 5359, addresses: ['127.0.0.11'] });
  assert.deepEqual(d.jwk, alphaKey);
  assert.equal(d.keyId, await calculateJwkThumbprint(alphaKey));
  assert.equal(d.validated, true);
  assert.ok(d.ttlSeconds > 0 && d.ttlSeconds <= 300, `ttl ${d.ttlSeconds}`);

  // No SVCB hints: the port from SVCB, the addresses from A; a JWK set is accepted.
  const b = await discoverPeer(parseName('agent.bravo.test.'), { resolver: validating.address });
  assert.deepEqual(b.endpoint, { host: 'dns.agent.bravo.test.', port: 5360, addresses: ['127.0.0.12'] });
  assert.ok(Array.isArray((b.jwk as { keys?: unknown }).keys));
});

test('discovery: a provider that publishes nothing is a DiscoveryError naming the URI owner', { skip }, async () => {
  assert.ok(validating !== undefined);
  await assert.rejects(discoverPeer(parseName('agent.charlie.example.'), { resolver: validating.address }), (e: unknown) => e instanceof DiscoveryError && /no dns:\/\/ URI at _dns._tcp.agent.charlie.example./.test(e.message));
});

test('discovery: answers without AD are refused, and used only in the explicit insecure mode', { skip }, async () => {
  assert.ok(plain !== undefined);
  await assert.rejects(discoverPeer(parseName('agent.alpha.example.'), { resolver: plain.address }), (e: unknown) => e instanceof DiscoveryError && /not validated \(no AD/.test(e.message));
  const d = await discoverPeer(parseName('agent.alpha.example.'), { resolver: plain.address, insecure: true });
  assert.equal(d.validated, false);
  assert.equal(d.endpoint.port, 5359);
});
