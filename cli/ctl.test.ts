import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { machineKey } from '../actors/keys.ts';
import { encodeRecord, RECORD_VERSION } from '../actors/record.ts';
import { createJetStreamBroker } from '../broker/jetstream.ts';
import { haveBinary } from '../test/support/daemon.ts';
import { startNatsServer, type NatsServer } from '../test/support/nats.ts';
import { formatMachines, natsUrlProblem, parseZone, run } from './ctl.ts';

const BIN = fileURLToPath(new URL('../bin/mpdns', import.meta.url));

test('ctl: bad input exits 2 without connecting', { timeout: 10_000 }, async () => {
  assert.equal(await run(['machines']), 2);
  assert.equal(await run(['machines', 'a.example.', 'b.example.']), 2);
  assert.equal(await run(['machines', 'a.example.', '--bogus']), 2);
  assert.equal(await run(['frobnicate']), 2);
  assert.equal(await run([]), 2);
});

test('ctl machines table: state, status, deadlines, context', () => {
  const now = Date.parse('2026-11-27T12:00:00Z');
  const text = formatMachines(
    'example.com.',
    [
      {
        zone: 'example.com.',
        machineId: 'peer-alpha',
        kind: 'peer-handshake',
        status: 'active',
        value: { up: 'degraded' },
        context: { missed: 2, deadlines: { beat: now + 30_000 } },
        deadlines: { beat: now + 30_000 },
        revision: 7,
        updatedAt: now - 1000,
        writer: 'agent-1',
      },
    ],
    now,
  );
  assert.match(text, /^zone example\.com\.\nMACHINE\s+KIND\s+STATE\s+STATUS\s+DEADLINES/);
  assert.match(text, /peer-alpha\s+peer-handshake\s+\{"up":"degraded"\}\s+active\s+beat=2026-11-27T12:00:30\.000Z \(in 30s\)/);
  assert.match(text, /"missed": 2/);
  assert.equal(formatMachines('x.', []), 'no machines persisted for x.\n');
});

test('ctl: zone names and NATS URLs', () => {
  assert.deepEqual(parseZone('Example.COM'), { zone: 'example.com.' });
  assert.deepEqual(parseZone('_tcp.example.'), { zone: '_tcp.example.' });
  assert.deepEqual(parseZone('0/25.2.0.192.in-addr.arpa'), { zone: '0/25.2.0.192.in-addr.arpa.' });
  assert.deepEqual(parseZone('.'), { zone: '.' });
  for (const bad of ['bad..zone', 'a b', '>', '*.example', '', 'x'.repeat(64)]) assert.ok('problem' in parseZone(bad), bad);
  for (const ok of ['nats://127.0.0.1:4222', 'tls://nats.example:4443', 'nats://u:p@[::1]:4222', 'nats://host/']) {
    assert.equal(natsUrlProblem(ok), undefined, ok);
  }
  for (const bad of ['notaurl', '', '127.0.0.1:4222', 'http://x:4222', 'nats://', 'nats://h:99999', 'nats://h:4222/x', 'nats://h?a=1']) {
    assert.ok(natsUrlProblem(bad) !== undefined, bad);
  }
});

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `mpdns ctl ARGS` from the sources in a child process: exit code and output. */
function ctl(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, 'ctl', ...args], { env: { ...process.env, MPDNS_FROM_SOURCE: '1', ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** One `mpdns ctl:` line on stderr (plus `extra` more), no stack trace. */
function assertOneLine(r: Ran, pattern: RegExp, extra = 0): void {
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1 + extra, r.stderr);
  assert.ok(lines.every((l) => l.startsWith('mpdns ctl: ')), r.stderr);
  assert.doesNotMatch(r.stderr, /^\s+at /m);
  assert.match(r.stderr, pattern);
}

describe('ctl machines against nats-server', { skip: !haveBinary('nats-server') && 'nats-server not installed', timeout: 120_000 }, () => {
  let js: NatsServer;
  let plain: NatsServer;
  before(async () => {
    [js, plain] = await Promise.all([startNatsServer(), startNatsServer({ jetstream: false })]);
  });
  after(async () => {
    await Promise.all([js?.stop(), plain?.stop()]);
  });

  /** Runs each case (with $MPDNS_NATS_URL at our server, so a bad flag that slipped through connects there). */
  async function usageErrors(cases: readonly (readonly [readonly string[], RegExp])[], env: NodeJS.ProcessEnv = {}): Promise<void> {
    const runs = await Promise.all(cases.map(([args]) => ctl(['machines', ...args], { MPDNS_NATS_URL: js.url, ...env })));
    runs.forEach((r, i) => {
      const [args, pattern] = cases[i] ?? [[], /$^/];
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assertOneLine(r, pattern);
      assert.equal(r.stdout, '');
    });
  }

  test('bad --prefix and --bucket are usage errors naming the flag', async () => {
    await usageErrors([
      [['z.example', '--prefix', 'a b'], /--prefix: .*"a b"/],
      [['z.example', '--prefix', ''], /--prefix: .*""/],
      [['z.example', '--bucket', 'a b'], /--bucket: .*"a b"/],
      [['z.example', '--bucket', ''], /--bucket: .*""/],
    ]);
  });

  test('a bad --nats URL or ZONE is a usage error at once', async () => {
    await usageErrors([
      [['bad..zone'], /ZONE: .*bad\.\.zone/],
      [['a b'], /ZONE: .*"a b"/],
      [['>'], /ZONE: .*">"/],
      [[''], /ZONE: empty zone name/],
      [['z.example', '--nats', 'notaurl'], /--nats "notaurl": not a URL/],
      [['z.example', '--nats', ''], /--nats "": not a URL/],
    ]);
    await usageErrors([[['z.example'], /\$MPDNS_NATS_URL "notaurl": not a URL/]], { MPDNS_NATS_URL: 'notaurl' });
  });

  test('a server without JetStream: one line, exit 1', async () => {
    const r = await ctl(['machines', 'z.example', '--nats', plain.url]);
    assert.equal(r.code, 1, r.stderr);
    assertOneLine(r, new RegExp(`NATS at ${plain.url} has no JetStream \\(start nats-server with -js\\)`));
  });

  test('a corrupt record is reported with its key; the readable machines are listed; exit 1', async () => {
    const b = await createJetStreamBroker({ servers: js.url, namespace: 'corrupt' });
    try {
      const kv = await b.kv('machines');
      const rec = { v: RECORD_VERSION, kind: 'sequenced-counter', zone: 'c.example.', machineId: 'good', snapshot: { status: 'active', value: 'counting', context: { count: 1 } }, deadlines: {}, updatedAt: Date.now(), writer: 't' } as const;
      await kv.put(machineKey('c.example.', 'good'), encodeRecord(rec));
      await kv.put(machineKey('c.example.', 'bad'), Uint8Array.of(0xff, 0x00, 0x13, 0x37));
    } finally {
      await b.close();
    }
    const table = await ctl(['machines', 'c.example', '--nats', js.url, '--prefix', 'corrupt']);
    assert.equal(table.code, 1, table.stderr);
    assert.match(table.stdout, /^good\s+sequenced-counter\s+counting/m);
    assertOneLine(table, /unreadable record: undecodable machine record \(key "c_example\.bad"\)/, 1);
    assert.match(table.stderr, /1 machine record\(s\) of c\.example\. could not be read/);
    const json = await ctl(['machines', 'c.example', '--json', '--nats', js.url, '--prefix', 'corrupt']);
    assert.equal(json.code, 1);
    assert.deepEqual((JSON.parse(json.stdout) as { machines: { machineId: string }[] }).machines.map((m) => m.machineId), ['good']);
  });

  test('read-only: a missing bucket is reported, not created', async () => {
    const r = await ctl(['machines', 'z.example', '--nats', js.url, '--prefix', 'readonly', '--bucket', 'other']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'no machines persisted for z.example.\n');
    assertOneLine(r, /no KV bucket readonly_other at .*: nothing persisted there/);
    const d = await ctl(['machines', 'z.example', '--json', '--nats', js.url, '--prefix', 'readonly']);
    assert.equal(d.code, 0, d.stderr);
    assert.deepEqual(JSON.parse(d.stdout), { zone: 'z.example.', machines: [] });
    const nc = await connect({ servers: js.url });
    try {
      const names: string[] = [];
      for await (const page of (await jetstreamManager(nc)).streams.names()) names.push(page);
      assert.deepEqual(names.filter((s) => s.includes('readonly')), []);
    } finally {
      await nc.close();
    }
  });
});
