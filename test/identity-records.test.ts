// The identity records a provider publishes, as `mpdns ctl identity-records` prints them, read
// back by discovery's parsers; and the sample identity zones in examples/ load and read the same.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { exportJWK, generateKeyPair } from 'jose';
import { loadZone } from '../dns/files/load.ts';
import { parseName, type Fqdn } from '../dns/name.ts';
import type { RR } from '../dns/rr.ts';
import { RRType } from '../dns/types.ts';
import { parseRecords } from '../dns/zonefile/index.ts';
import { chooseUri, endpointOf, jwkFromRdata, svcbHints, transportUriName } from '../protocol/discovery.ts';
import { peerKeys } from '../protocol/envelope.ts';
import { tmpDir } from './support/tmp.ts';

const exec = promisify(execFile);
const MPDNS = join(import.meta.dirname, '..', 'bin', 'mpdns');

function discoverFrom(rrs: readonly RR[], identity: Fqdn): { endpoint: ReturnType<typeof endpointOf>; jwk: unknown } {
  const of = (name: Fqdn, type: number): Uint8Array[] => rrs.filter((r) => r.name === name && r.type === type).map((r) => r.rdata);
  const uri = chooseUri(identity, of(transportUriName(identity), RRType.URI));
  const addrs = rrs.filter((r) => r.name === uri.host && (r.type === RRType.A || r.type === RRType.AAAA)).length;
  const endpoint = endpointOf(identity, uri, svcbHints(of(uri.host, RRType.SVCB)), []);
  assert.ok(addrs > 0);
  const [jwk] = of(uri.host, RRType.JWK);
  assert.ok(jwk !== undefined);
  return { endpoint, jwk: jwkFromRdata(identity, jwk) };
}

test('ctl identity-records: the printed records read back; only the public key is published', async () => {
  const dir = await tmpDir('mpdns-identity-');
  try {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const priv = await exportJWK(privateKey);
    const keyFile = join(dir.path, 'key.jwk');
    await writeFile(keyFile, JSON.stringify(priv));
    const { stdout } = await exec(MPDNS, ['ctl', 'identity-records', '--identity', 'agent.delta.test', '--endpoint', '192.0.2.44:7000', '--endpoint', '[2001:db8::44]:7000', '--key', keyFile, '--ttl', '60']);
    const id = parseName('agent.delta.test.');
    const rrs = parseRecords(stdout, { origin: parseName('delta.test.') });
    assert.ok(rrs.every((r) => r.ttl === 60));
    const d = discoverFrom(rrs, id);
    assert.deepEqual(d.endpoint, { host: 'dns.agent.delta.test.', port: 7000, addresses: ['192.0.2.44', '2001:db8::44'] });
    assert.equal((d.jwk as { d?: string }).d, undefined, 'no private scalar published');
    assert.equal((d.jwk as { x?: string }).x, priv.x);
    await peerKeys(d.jwk);
    // Bad input: a port that differs, and a key that is not a P-256 JWK.
    await assert.rejects(exec(MPDNS, ['ctl', 'identity-records', '--identity', 'a.', '--endpoint', '192.0.2.1:1', '--endpoint', '192.0.2.2:2', '--key', keyFile]), (e: { code?: number; stderr?: string }) => e.code === 2 && /same port/.test(e.stderr ?? ''));
    await writeFile(keyFile, '{"kty":"OKP","crv":"Ed25519","x":"AA"}');
    await assert.rejects(exec(MPDNS, ['ctl', 'identity-records', '--identity', 'a.', '--endpoint', '192.0.2.1:1', '--key', keyFile]), (e: { code?: number; stderr?: string }) => e.code === 1 && /neither a P-256 JWK nor a JWK set/.test(e.stderr ?? ''));
  } finally {
    await dir.remove();
  }
});

test('the sample identity zones load, and discovery reads each provider from them', async () => {
  for (const name of ['alpha', 'bravo', 'echo']) {
    const zone = await loadZone(join(import.meta.dirname, '..', 'examples', `${name}.example.zone`), parseName(`${name}.example.`));
    const d = discoverFrom([...zone.records()], parseName(`agent.${name}.example.`));
    assert.equal(d.endpoint.port, 5359, name);
    await peerKeys(d.jwk, name);
  }
});
