// mpdns agent / gateway / provider before they start: the broker and the configuration are
// checked first, and every problem is reported at once (exit 2), nothing left running.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { tmpDir } from '../test/support/tmp.ts';

const BIN = join(import.meta.dirname, '..', 'bin', 'mpdns');

function mpdns(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = { ...process.env };
  delete base['MPDNS_NATS_URL'];
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...base, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

test('mpdns agent and gateway: no broker, no config, a bad config, a bad key: one clear error each, exit 2', { timeout: 120_000 }, async () => {
  const dir = await tmpDir('mpdns-role-cli-');
  try {
    const good = join(dir.path, 'good.yaml');
    const key = join(dir.path, 'key.jwk');
    await writeFile(key, '{"kty":"EC"');
    await writeFile(good, `identity: agent.alpha.example.\nkeyFile: ${key}\nresolver: 127.0.0.1:53\ngateway: 127.0.0.1:0\nzones: []\n`);
    const bad = join(dir.path, 'bad.yaml');
    await writeFile(bad, 'identity: a..b\nresolver: nowhere\ncolour: blue\n');
    const [noNats, noConfig, badConfig, badKey, badUrl] = await Promise.all([
      mpdns(['gateway', '--config', good]),
      mpdns(['agent', '--nats', 'nats://127.0.0.1:1']),
      mpdns(['agent', '--config', bad], { MPDNS_NATS_URL: 'nats://127.0.0.1:1' }),
      mpdns(['provider', '--config', good]),
      mpdns(['agent', '--config', good, '--nats', 'http://x']),
    ]);
    assert.equal(noNats.code, 2);
    assert.match(noNats.stderr, /needs the provider's NATS server: --nats URL or \$MPDNS_NATS_URL/);
    assert.equal(noConfig.code, 2);
    assert.match(noConfig.stderr, /--config FILE is required/);
    assert.equal(badConfig.code, 2);
    for (const p of [/identity: /, /resolver: /, /colour/, /keyFile/, /gateway/]) assert.match(badConfig.stderr, p);
    assert.equal(badKey.code, 2, badKey.stderr);
    assert.match(badKey.stderr, /key\.jwk: 1 problem:\n  keyFile: /);
    assert.equal(badUrl.code, 2);
    assert.match(badUrl.stderr, /--nats "http:\/\/x": scheme/);
  } finally {
    await dir.remove();
  }
});
