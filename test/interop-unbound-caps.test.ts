// Unbound with use-caps-for-id (0x20) resolving through `mpdns serve`: our answers must echo the
// randomised question case, or Unbound logs "wrong 0x20-ID" and falls back to repeated queries.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './support/ports.ts';
import { tmpDir, type TmpDir } from './support/tmp.ts';
import { pollUntil } from './support/poll.ts';
import { haveBinary, startDaemon, type Daemon } from './support/daemon.ts';

const REPO = join(import.meta.dirname, '..');
const missing = ['unbound', 'dig'].filter((b) => !haveBinary(b));
const skip = missing.length > 0 ? `needs ${missing.join(', ')}` : false;

const ZONE = `$ORIGIN caps.example.
$TTL 300
@    SOA  ns1 hostmaster 1 3600 600 86400 300
@    NS   ns1
ns1  A    127.0.0.1
www  A    192.0.2.80
`;

let dir: TmpDir;
const daemons: Daemon[] = [];
let ubPort = 0;

function dig(name: string, type: string): { status: string; out: string } {
  const r = spawnSync('dig', ['@127.0.0.1', '-p', String(ubPort), '+tries=1', '+time=3', name, type], { encoding: 'utf8' });
  return { status: /status: ([A-Z]+)/.exec(r.stdout)?.[1] ?? 'none', out: r.stdout };
}

before(async () => {
  if (skip !== false) return;
  dir = await tmpDir('mpdns-unbound-caps-');
  writeFileSync(join(dir.path, 'caps.zone'), ZONE);
  const mpPort = await freePort();
  ubPort = await freePort();
  daemons.push(
    startDaemon('mpdns', process.execPath, [
      join(REPO, 'bin/mpdns'), 'serve', '--zone', `${join(dir.path, 'caps.zone')}:caps.example.`, '--listen', `127.0.0.1:${mpPort}`,
    ]),
  );
  writeFileSync(
    join(dir.path, 'unbound.conf'),
    `server:\n  interface: 127.0.0.1\n  port: ${ubPort}\n  do-daemonize: no\n  chroot: ""\n  username: ""\n` +
      `  directory: "${dir.path}"\n  pidfile: "${dir.path}/unbound.pid"\n  logfile: "${dir.path}/unbound.log"\n  use-syslog: no\n` +
      `  verbosity: 4\n  do-not-query-localhost: no\n  module-config: "iterator"\n  use-caps-for-id: yes\n` +
      `  do-ip6: no\n  num-threads: 1\n  so-reuseport: no\n\n` +
      `stub-zone:\n  name: "caps.example."\n  stub-addr: 127.0.0.1@${mpPort}\n\n` +
      `remote-control:\n  control-enable: no\n`,
  );
  daemons.push(startDaemon('unbound', 'unbound', ['-d', '-c', join(dir.path, 'unbound.conf')]));
  await pollUntil('unbound answers', () => dig('ns1.caps.example.', 'A').status === 'NOERROR', {
    timeoutMs: 20_000,
    intervalMs: 200,
  });
});

after(async () => {
  for (const d of daemons) await d.stop();
  if (dir !== undefined) await dir.remove();
});

test('Unbound use-caps-for-id resolves through mpdns without a 0x20 mismatch', { skip, timeout: 60_000 }, () => {
  const r = dig('www.caps.example.', 'A');
  assert.equal(r.status, 'NOERROR', r.out);
  assert.match(r.out, /www\.caps\.example\.\s+\d+\s+IN\s+A\s+192\.0\.2\.80/);
  const log = readFileSync(join(dir.path, 'unbound.log'), 'utf8'); // unbound flushes each line
  // Unbound really randomised the case of the name it sent us ...
  assert.match(log, /qname perturbed to [wW]{3}\.[cC][aA][pP][sS]\./, 'unbound did not use 0x20');
  // ... and never saw our reply with a different case.
  assert.doesNotMatch(log, /wrong 0x20-ID/);
  assert.doesNotMatch(log, /Capsforid/i);
});
