// `mpdns serve --sign`: the zone is signed inline with the keys in --key-dir (generated on first
// start), DNSSEC records only with DO, AXFR of the signed zone passes dnssec-verify and
// ldns-verify-zone, and a reload (SIGHUP) re-signs incrementally and serves the change.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { haveBinary, startDaemon, type Daemon } from './support/daemon.ts';
import { pollUntil } from './support/poll.ts';
import { freePort } from './support/ports.ts';
import { tmpDir, type TmpDir } from './support/tmp.ts';

const exec = promisify(execFile);
const MPDNS = join(import.meta.dirname, '..', 'bin', 'mpdns');
const missing = ['dig', 'dnssec-verify', 'ldns-verify-zone'].filter((b) => !haveBinary(b));
const skip = missing.length > 0 ? `needs ${missing.join(', ')}` : false;

const zoneText = (serial: number, www: string, extra = ''): string => `$ORIGIN example.
$TTL 3600
@ IN SOA ns1 hostmaster ${serial} 7200 3600 1209600 300
@ IN NS ns1
ns1 IN A 192.0.2.1
www IN A ${www}
*.w IN TXT "wild"
sub IN NS ns.sub
ns.sub IN A 192.0.2.9
${extra}`;

let dir: TmpDir;
let server: Daemon | undefined;
let port = 0;
let zoneFile = '';
let keyDir = '';

async function dig(...args: string[]): Promise<string> {
  const r = await exec('dig', ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=5', ...args], { timeout: 20_000 });
  return r.stdout;
}

async function axfrJudged(file: string): Promise<void> {
  const text = await dig('+nocmd', '+nostats', '+onesoa', 'example.', 'AXFR');
  await writeFile(file, text);
  for (const [cmd, args] of [
    ['dnssec-verify', ['-q', '-o', 'example.', file]],
    ['ldns-verify-zone', [file]],
  ] as const) {
    try {
      await exec(cmd, [...args], { timeout: 30_000 });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      assert.fail(`${cmd} rejected the served zone: ${e.stdout ?? ''}${e.stderr ?? ''}`);
    }
  }
}

async function start(): Promise<void> {
  port = await freePort();
  server = startDaemon('serve-sign', MPDNS, [
    'serve', '--sign', '--key-dir', keyDir, '--zone', `${zoneFile}:example.`, '--listen', `127.0.0.1:${port}`, '--allow-transfer', '127.0.0.1/32',
  ]);
  const d = server;
  await pollUntil('mpdns serve --sign answering', async () => (await dig('+norec', 'example.', 'SOA')).includes('status: NOERROR'), {
    timeoutMs: 30_000,
    intervalMs: 200,
  }).catch((err: unknown) => {
    throw new Error(`server did not come up: ${d.output()}`, { cause: err });
  });
}

before(async () => {
  if (skip !== false) return;
  dir = await tmpDir('mpdns-serve-sign-');
  zoneFile = join(dir.path, 'example.zone');
  keyDir = join(dir.path, 'keys');
  await mkdir(keyDir);
  await writeFile(zoneFile, zoneText(1, '192.0.2.2'));
  await start();
});

after(async () => {
  await server?.stop();
  await dir?.remove();
});

test('serve --sign: keys generated, RRSIGs only with DO, AXFR passes both judges', { skip, timeout: 60_000 }, async () => {
  assert.equal((await readdir(keyDir)).filter((f) => f.endsWith('.private')).length, 2);
  const withDo = await dig('+dnssec', '+norec', 'www.example.', 'A');
  assert.match(withDo, /\tRRSIG\tA 15 2 3600 /);
  const without = await dig('+norec', 'www.example.', 'A');
  assert.doesNotMatch(without, /RRSIG/);
  const nx = await dig('+dnssec', '+norec', 'nope.example.', 'A');
  assert.match(nx, /status: NXDOMAIN/);
  assert.match(nx, /\tNSEC\t/);
  await axfrJudged(join(dir.path, 'axfr1.zone'));
});

test('serve --sign: SIGHUP re-signs incrementally and serves the change, still valid', { skip, timeout: 60_000 }, async () => {
  await writeFile(zoneFile, zoneText(2, '192.0.2.22', 'new IN AAAA 2001:db8::1\n'));
  server?.proc.kill('SIGHUP');
  await pollUntil('the new A served', async () => (await dig('+dnssec', '+norec', 'www.example.', 'A')).includes('192.0.2.22'), {
    timeoutMs: 20_000,
  });
  const out = server?.output() ?? '';
  const line = out.split('\n').find((l) => l.includes('"reloaded"') || l.includes('"msg":"reloaded"'));
  assert.ok(line !== undefined, out);
  const sigs = /"signatures":([0-9]+)/.exec(line)?.[1];
  assert.ok(sigs !== undefined && Number(sigs) <= 6, `incremental: ${line}`);
  assert.match(await dig('+dnssec', '+norec', 'new.example.', 'AAAA'), /\tRRSIG\tAAAA /);
  await axfrJudged(join(dir.path, 'axfr2.zone'));
  // IXFR from serial 1: only the signed changes, not the zone.
  const ixfr = (await dig('+nocmd', '+nostats', 'example.', 'IXFR=1')).split('\n').filter((l) => l !== '' && !l.startsWith(';'));
  const axfr = (await readFile(join(dir.path, 'axfr2.zone'), 'utf8')).split('\n').filter((l) => l !== '' && !l.startsWith(';'));
  assert.ok(ixfr.length > 4 && ixfr.length < axfr.length, `IXFR ${ixfr.length} records, zone ${axfr.length}`);
  assert.ok(ixfr.some((l) => /\tA\t192\.0\.2\.22$/.test(l)) && ixfr.some((l) => /\tA\t192\.0\.2\.2$/.test(l)), ixfr.join('\n'));
  assert.ok(ixfr.some((l) => /\tRRSIG\tAAAA /.test(l)), ixfr.join('\n'));
});

test('serve --sign: a restart reuses the keys in --key-dir', { skip, timeout: 60_000 }, async () => {
  const before1 = await dig('+norec', '+short', 'example.', 'DNSKEY');
  await server?.stop();
  await start();
  const before2 = await dig('+norec', '+short', 'example.', 'DNSKEY');
  assert.deepEqual(before2.split('\n').sort(), before1.split('\n').sort());
  assert.equal((await readdir(keyDir)).filter((f) => f.endsWith('.private')).length, 2);
  assert.ok((await readFile(zoneFile, 'utf8')).includes('new IN AAAA'));
});
