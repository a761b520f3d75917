// `mpdns query` against `mpdns serve` on the sample zone: HSYNC/HSYNCPARAM in presentation
// form, NXDOMAIN with the SOA, REFUSED as exit 1, bad arguments as exit 2.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from './support/ports.ts';
import { pollUntil } from './support/poll.ts';
import { startDaemon, type Daemon } from './support/daemon.ts';

const REPO = join(import.meta.dirname, '..');
const MPDNS = join(REPO, 'bin/mpdns');
let port = 0;
let daemon: Daemon;

function mpdns(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MPDNS, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

before(async () => {
  port = await freePort();
  daemon = startDaemon('mpdns', process.execPath, [
    MPDNS, 'serve', '--zone', join(REPO, 'examples/customer.zone') + ':customer.zone.', '--listen', `127.0.0.1:${port}`,
  ]);
  await pollUntil('mpdns serve to listen', () => daemon.output().includes('"serving"'), { timeoutMs: 20_000 });
});
after(() => daemon?.stop());

test('query prints HSYNC and HSYNCPARAM in presentation form', { timeout: 30_000 }, async () => {
  const hsync = await mpdns(['query', `@127.0.0.1:${port}`, 'customer.zone', 'HSYNC']);
  assert.equal(hsync.code, 0, hsync.stderr);
  assert.match(hsync.stdout, /^;; NOERROR, flags: qr aa;/);
  for (const want of ['ON alpha agent.alpha.example. .', 'ON bravo agent.bravo.example. .', 'ON echo agent.echo.example. alpha']) {
    assert.ok(hsync.stdout.includes(`customer.zone.\t3600\tIN\tHSYNC\t${want}`), `${want} in\n${hsync.stdout}`);
  }
  const param = await mpdns(['query', `@127.0.0.1:${port}`, 'customer.zone.', 'HSYNCPARAM', '--json', '--tcp']);
  const parsed = JSON.parse(param.stdout) as { rcode: string; transport: string; answer: string[] };
  assert.equal(parsed.rcode, 'NOERROR');
  assert.equal(parsed.transport, 'tcp');
  assert.deepEqual(parsed.answer, [
    'customer.zone.\t3600\tIN\tHSYNCPARAM\tservers="alpha,bravo,echo" signers="alpha,bravo" nsmgmt="agent"',
  ]);
});

test('query exit codes: NXDOMAIN 0 with SOA, REFUSED 1, bad arguments 2', { timeout: 30_000 }, async () => {
  const nx = await mpdns(['query', `@127.0.0.1:${port}`, 'nope.customer.zone.']);
  assert.equal(nx.code, 0);
  assert.match(nx.stdout, /NXDOMAIN[\s\S]*AUTHORITY\ncustomer\.zone\.\t\d+\tIN\tSOA\t/);
  const refused = await mpdns(['query', `@127.0.0.1:${port}`, 'example.org.']);
  assert.equal(refused.code, 1);
  assert.match(refused.stdout, /REFUSED/);
  const bad = await mpdns(['query', `@127.0.0.1:${port}`, 'x.', 'NOSUCHTYPE']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown RR type "NOSUCHTYPE"/);
  // Each usage error is one line saying what is wrong, with the --help hint.
  for (const [args, why] of [
    [['customer.zone.'], /^mpdns query: no server: give @ADDR\[:PORT\] \(try mpdns query --help\)\n$/],
    [[`@127.0.0.1:${port}`], /^mpdns query: no NAME to query \(try mpdns query --help\)\n$/],
    [[`@127.0.0.1:${port}`, 'a', 'b', 'c'], /^mpdns query: one NAME and one TYPE, not "a b c" \(try mpdns query --help\)\n$/],
    [[`@127.0.0.1:${port}`, 'a', '--frob'], /^mpdns query: unknown option --frob \(try mpdns query --help\)\n$/],
  ] as const) {
    const r = await mpdns(['query', ...args]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, why);
  }
});
