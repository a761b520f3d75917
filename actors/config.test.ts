import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, loadProviderConfig, providerConfig } from './config.ts';
import { tmpDir } from '../test/support/tmp.ts';

const good = {
  identity: 'agent.alpha.example',
  keyFile: '/etc/mpdns/alpha.jwk',
  resolver: '127.0.0.1:5300',
  gateway: '127.0.0.1:5359',
  zones: [{ name: 'customer.zone.', primary: '127.0.0.1:5301' }],
};

test('config: a good file, with defaults filled in', () => {
  const c = providerConfig(good, 'alpha.yaml');
  assert.equal(c.identity, 'agent.alpha.example.');
  assert.equal(c.namespace, 'mpdns');
  assert.deepEqual(c.control, { address: '127.0.0.1', port: 8053 });
  assert.equal(c.beatSeconds, 15);
  assert.equal(c.insecure, false);
  assert.deepEqual(c.zones, [{ name: 'customer.zone.', primary: { address: '127.0.0.1', port: 5301 } }]);
});

test('config: every problem is reported at once, each with its path', () => {
  const bad = {
    identity: 'a..b',
    resolver: 'localhost:53',
    gateway: '127.0.0.1:99999',
    control: '0.0.0.0:8053',
    beatSeconds: 0,
    namespace: 'Alpha Provider',
    insecure: 'yes',
    colour: 'blue',
    zones: [{ name: 'customer.zone.', primary: '127.0.0.1' }, 'x', { name: 'customer.zone', primary: '127.0.0.1:1', extra: 1 }],
  };
  assert.throws(
    () => providerConfig(bad, 'bad.yaml'),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      const fields = e.problems.map((p) => p.split(':')[0]);
      assert.deepEqual(fields, ['colour', 'identity', 'keyFile', 'namespace', 'resolver', 'insecure', 'gateway', 'controlTokenFile', 'beatSeconds', 'zones[0].primary', 'zones[1]', 'zones[2].extra', 'zones[2].name']);
      assert.match(e.message, /^bad\.yaml: 13 problems:/);
      return true;
    },
  );
});

test('config: unreadable, not YAML, duplicate keys, not a mapping', async () => {
  const dir = await tmpDir('mpdns-config-');
  try {
    await assert.rejects(loadProviderConfig(join(dir.path, 'missing.yaml')), /missing\.yaml: 1 problem:\n {2}cannot read: .*ENOENT/);
    const f = join(dir.path, 'c.yaml');
    await writeFile(f, 'identity: [unclosed\n');
    await assert.rejects(loadProviderConfig(f), (e: unknown) => e instanceof ConfigError && /^line \d+:/.test(e.problems[0] ?? ''));
    await writeFile(f, 'identity: a.\nidentity: b.\n');
    await assert.rejects(loadProviderConfig(f), ConfigError);
    await writeFile(f, '- a\n- b\n');
    await assert.rejects(loadProviderConfig(f), /not a YAML mapping/);
    await writeFile(f, Object.entries(good).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join('\n'));
    assert.equal((await loadProviderConfig(f)).gateway.port, 5359);
  } finally {
    await dir.remove();
  }
});
