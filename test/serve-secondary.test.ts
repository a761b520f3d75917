// `mpdns serve --secondary`: a primary `mpdns serve --zone`, its secondary and the secondary's
// own secondary as child processes. The chain follows a SIGHUP reload (NOTIFY → IXFR), the
// secondary keeps answering when the primary dies, a secondary of a silent primary answers
// SERVFAIL, and bad --secondary flags are one usage error each.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './support/ports.ts';
import { tmpDir, type TmpDir } from './support/tmp.ts';
import { pollUntil } from './support/poll.ts';
import { haveBinary, startDaemon, type Daemon } from './support/daemon.ts';
import { kdig } from './net-kdig.ts';

const ZONE = 'customer.example.';
const REPO = join(import.meta.dirname, '..');
const BIN = join(REPO, 'bin', 'mpdns');
const skip = haveBinary('kdig') ? false : 'kdig is not installed';

const KEY = 'xfr-key.:hmac-sha256:aW50ZXJvcC10ZXN0LWtleS1mb3ItbXBkbnMtc2VydmUhIQ==';

/** The zone; `timers` are the SOA's refresh, retry, expire and minimum. */
function zoneText(serial: number, www: string, timers = '3600 600 86400 300'): string {
  return `$ORIGIN ${ZONE}
$TTL 300
@    IN SOA ns1 hostmaster ${serial} ${timers}
@    NS  ns1
ns1  A   127.0.0.1
www  A   ${www}
`;
}

let dir: TmpDir;
const daemons: Daemon[] = [];

function serve(name: string, args: readonly string[]): Daemon {
  const d = startDaemon(name, process.execPath, [BIN, 'serve', ...args], {
    env: { ...process.env, MPDNS_LOG_LEVEL: 'debug' },
  });
  daemons.push(d);
  return d;
}

async function serial(port: number): Promise<number | undefined> {
  const r = await kdig('127.0.0.1', port, ZONE, 'SOA');
  if (r.status !== 'NOERROR') return undefined;
  const f = r.answer[0]?.split(' ');
  return f === undefined ? undefined : Number(f[6]);
}

async function www(port: number): Promise<string | undefined> {
  const r = await kdig('127.0.0.1', port, `www.${ZONE}`, 'A');
  return r.answer[0]?.split(' ')[4];
}

/** Waits until `port` serves `want` as the zone's serial; the daemons' output on a timeout. */
async function servesSerial(port: number, want: number, watched: readonly Daemon[]): Promise<void> {
  try {
    await pollUntil(`serial ${want} on port ${port}`, async () => (await serial(port)) === want, { timeoutMs: 20_000, intervalMs: 100 });
  } catch (err) {
    throw new Error(`${String(err)}\n${watched.map((d) => `--- ${d.name}\n${d.output()}`).join('\n')}`);
  }
}

before(async () => {
  dir = await tmpDir('mpdns-serve-secondary-');
});

after(async () => {
  await Promise.all(daemons.map((d) => d.stop()));
  await dir.remove();
});

test('serve --secondary: transfers, follows NOTIFY → IXFR down a chain, outlives its primary', { skip, timeout: 120_000 }, async () => {
  const file = join(dir.path, 'customer.zone');
  writeFileSync(file, zoneText(2024010101, '192.0.2.80'));
  const [p1, p2, p3] = [await freePort(), await freePort(), await freePort()];
  const primary = serve('primary', ['--zone', file, '--listen', `127.0.0.1:${p1}`, '--allow-transfer', '127.0.0.1', '--notify', `127.0.0.1:${p2}`]);
  await servesSerial(p1, 2024010101, [primary]);
  const second = serve('second', [
    '--secondary', `${ZONE}@127.0.0.1:${p1}`,
    '--listen', `127.0.0.1:${p2}`,
    '--allow-transfer', '127.0.0.1',
    '--notify', `127.0.0.1:${p3}`,
  ]);
  const third = serve('third', ['--secondary', `${ZONE}@127.0.0.1:${p2}`, '--listen', `127.0.0.1:${p3}`]);
  const all = [primary, second, third];
  await servesSerial(p2, 2024010101, all);
  await servesSerial(p3, 2024010101, all);
  assert.equal(await www(p2), '192.0.2.80');
  assert.match(second.output(), /"kind":"axfr".*"serial":2024010101.*"transferred"/);

  // Edit, raise the serial, SIGHUP: NOTIFY → IXFR at the second, then at the third.
  writeFileSync(file, zoneText(2024010102, '192.0.2.81'));
  primary.proc.kill('SIGHUP');
  await servesSerial(p2, 2024010102, all);
  await servesSerial(p3, 2024010102, all);
  assert.equal(await www(p2), '192.0.2.81');
  assert.equal(await www(p3), '192.0.2.81');
  assert.match(second.output(), /"kind":"ixfr".*"serial":2024010102.*"transferred"/);
  assert.match(third.output(), /"kind":"ixfr".*"serial":2024010102.*"transferred"/);

  // A SIGHUP of the secondary leaves its secondary zone served.
  second.proc.kill('SIGHUP');
  assert.equal(await serial(p2), 2024010102);

  // The primary dies: the secondaries keep answering.
  await primary.stop();
  assert.equal(await serial(p2), 2024010102);
  assert.equal(await www(p2), '192.0.2.81');
  assert.equal(await www(p3), '192.0.2.81');
});

test('serve --secondary-tsig: signed SOA checks and transfers, signed NOTIFY in', { skip, timeout: 60_000 }, async () => {
  const file = join(dir.path, 'signed.zone');
  writeFileSync(file, zoneText(7, '192.0.2.7'));
  const [p1, p2] = [await freePort(), await freePort()];
  // No --allow-transfer: the primary transfers only to TSIG-signed requests.
  const primary = serve('tsig-primary', ['--zone', file, '--listen', `127.0.0.1:${p1}`, '--tsig', KEY, '--notify', `127.0.0.1:${p2}`]);
  await servesSerial(p1, 7, [primary]);
  const second = serve('tsig-second', ['--secondary', `${ZONE}@127.0.0.1:${p1}`, '--listen', `127.0.0.1:${p2}`, '--tsig', KEY, '--secondary-tsig', 'xfr-key.']);
  await servesSerial(p2, 7, [primary, second]);
  writeFileSync(file, zoneText(8, '192.0.2.8'));
  primary.proc.kill('SIGHUP');
  await servesSerial(p2, 8, [primary, second]);
  assert.equal(await www(p2), '192.0.2.8');
  assert.match(primary.output(), /"tsig":"xfr-key\."[^\n]*"zone transfer"/);
  await Promise.all([primary.stop(), second.stop()]);
});

test('serve --secondary: SERVFAIL after the SOA expire time without the primary', { skip, timeout: 60_000 }, async () => {
  const file = join(dir.path, 'short.zone');
  writeFileSync(file, zoneText(3, '192.0.2.3', '1 1 3 60'));
  const [p1, p2] = [await freePort(), await freePort()];
  const primary = serve('short-primary', ['--zone', file, '--listen', `127.0.0.1:${p1}`, '--allow-transfer', '127.0.0.1']);
  await servesSerial(p1, 3, [primary]);
  const second = serve('short-second', ['--secondary', `${ZONE}@127.0.0.1:${p1}`, '--listen', `127.0.0.1:${p2}`]);
  await servesSerial(p2, 3, [primary, second]);
  await primary.stop();
  await pollUntil('SERVFAIL after expire', async () => (await kdig('127.0.0.1', p2, ZONE, 'SOA')).status === 'SERVFAIL', { timeoutMs: 30_000, intervalMs: 200 });
  assert.match(second.output(), /"zone expired/);
  await second.stop();
});

test('serve --secondary: a primary that never answers leaves the zone SERVFAIL', { skip, timeout: 60_000 }, async () => {
  const [silent, port] = [await freePort(), await freePort()];
  const d = serve('orphan', ['--secondary', `${ZONE}@127.0.0.1:${silent}`, '--listen', `127.0.0.1:${port}`, '--allow-transfer', '127.0.0.1']);
  const status = await pollUntil('an answer', async () => {
    try {
      return (await kdig('127.0.0.1', port, ZONE, 'SOA')).status;
    } catch {
      return undefined;
    }
  });
  assert.equal(status, 'SERVFAIL', d.output());
  assert.equal((await kdig('127.0.0.1', port, `www.${ZONE}`, 'A')).status, 'SERVFAIL');
  // Not configured at all: REFUSED; a transfer of the unloaded zone: SERVFAIL.
  assert.equal((await kdig('127.0.0.1', port, 'other.example.', 'SOA')).status, 'REFUSED');
  assert.match((await kdig('127.0.0.1', port, ZONE, 'AXFR')).raw, /SERVFAIL/);
  await d.stop();
});

test('serve --secondary of NSD, with TSIG', { skip: skip || (haveBinary('nsd') ? false : 'nsd is not installed'), timeout: 60_000 }, async () => {
  const nsdDir = join(dir.path, 'nsd');
  mkdirSync(nsdDir);
  writeFileSync(join(nsdDir, 'customer.zone'), zoneText(11, '192.0.2.11'));
  const [p1, p2] = [await freePort(), await freePort()];
  const [keyName, alg, secret] = KEY.split(':') as [string, string, string];
  writeFileSync(join(nsdDir, 'nsd.conf'), `server:
  ip-address: 127.0.0.1@${p1}
  username: ""
  chroot: ""
  zonesdir: "${nsdDir}"
  xfrdfile: "${nsdDir}/xfrd.state"
  zonelistfile: "${nsdDir}/zone.list"
  database: ""
  pidfile: "${nsdDir}/nsd.pid"
remote-control:
  control-enable: no
key:
  name: "${keyName}"
  algorithm: ${alg}
  secret: "${secret}"
zone:
  name: ${ZONE}
  zonefile: "${nsdDir}/customer.zone"
  provide-xfr: 127.0.0.1 ${keyName}
`);
  const nsd = startDaemon('nsd', '/usr/sbin/nsd', ['-d', '-c', join(nsdDir, 'nsd.conf')]);
  daemons.push(nsd);
  await servesSerial(p1, 11, [nsd]);
  const second = serve('nsd-second', ['--secondary', `${ZONE}@127.0.0.1:${p1}`, '--listen', `127.0.0.1:${p2}`, '--tsig', KEY, '--secondary-tsig', keyName]);
  await servesSerial(p2, 11, [nsd, second]);
  assert.equal(await www(p2), '192.0.2.11');
  await Promise.all([nsd.stop(), second.stop()]);
});

test('serve --secondary: bad flags are one usage error each', () => {
  const cases: [string[], RegExp][] = [
    [['--secondary', 'customer.zone.'], /--secondary customer\.zone\.: expected ZONE@ADDR\[:PORT\]/],
    [['--secondary', '@1.2.3.4'], /--secondary @1\.2\.3\.4: no zone before "@"/],
    [['--secondary', 'customer.zone.@1.2.3.4:99999'], /--secondary customer\.zone\.@1\.2\.3\.4:99999: .*bad port/],
    [['--secondary', 'customer.zone.@nohost'], /--secondary customer\.zone\.@nohost: .*bad address/],
    [['--secondary', 'a.example.@1.2.3.4', '--secondary', 'a.example.@1.2.3.5'], /zone a\.example\. given twice/],
    [['--secondary', 'a.example.@1.2.3.4', '--secondary-tsig', 'k.'], /--secondary-tsig k\.: no --tsig key of that name/],
    [[], /at least one --zone FILE\[:ORIGIN\] or --secondary ZONE@ADDR\[:PORT\] is required/],
  ];
  for (const [args, want] of cases) {
    const r = spawnSync(process.execPath, [BIN, 'serve', ...args, '--listen', '127.0.0.1:1'], { encoding: 'utf8' });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, want);
    assert.equal(r.stderr.trim().split('\n').length <= 2, true, r.stderr);
  }
});
