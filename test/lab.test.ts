// The lab in one process: three providers reach mutual OPERATIONAL through discovery (signed
// identity zones, Unbound validating), HELLO and BEAT over the JOSE transport; then the owner
// adds a fourth provider to HSYNC (zone file edit + SIGHUP to the primary, NOTIFY to every
// agent) and it becomes OPERATIONAL everywhere. A provider whose roles stop is DEGRADED and then
// INTERRUPTED at the others, and OPERATIONAL again when it comes back (its peer machines
// restored from the broker).
import { strict as assert } from 'node:assert';
import { readFile, writeFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { DEFAULT_LAB, startLab, type Lab, type LabConfig } from '../actors/lab/lab.ts';
import type { PeerView } from '../actors/agent/agent.ts';
import { WebSocketServer } from 'ws';
import { startNatsServer } from './support/nats.ts';
import { freePort } from './support/ports.ts';
import { pollUntil } from './support/poll.ts';
import { tmpDir, type TmpDir } from './support/tmp.ts';

const config: LabConfig = {
  zones: DEFAULT_LAB.zones,
  providers: [...DEFAULT_LAB.providers, { label: 'delta', identity: 'agent.delta.test.', nameservers: ['ns1.delta.test.'], upstream: 'owner', signs: false }],
};
let dir: TmpDir;
let lab: Lab | undefined;

before(async () => {
  dir = await tmpDir('mpdns-lab-');
  lab = await startLab({ dir: dir.path, config, beatSeconds: 1, logger: pino({ level: 'silent' }) });
});
after(async () => {
  await lab?.stop();
  await dir?.remove();
});

async function peersOf(label: string): Promise<PeerView[]> {
  const p = lab?.json.providers.find((x) => x.label === label);
  assert.ok(p !== undefined);
  const r = await fetch(`${p.control}/peers`);
  return (await r.json()) as PeerView[];
}

async function table(): Promise<string> {
  const rows: string[] = [];
  for (const p of config.providers) rows.push(`${p.label}: ${(await peersOf(p.label)).map((v) => `${v.label}=${v.state}${v.lastError !== undefined ? `(${v.lastError})` : ''}`).join(' ')}`);
  return rows.join('\n');
}

/** A timeout names every provider's view of its peers. */
async function explain(e: unknown): Promise<never> {
  throw new Error(`${e instanceof Error ? e.message : String(e)}\n${await table()}`);
}

test('lab: three providers reach mutual OPERATIONAL', async () => {
  assert.equal(lab?.json.resolver.validating, true);
  const three = ['alpha', 'bravo', 'echo'];
  await pollUntil(
    'mutual OPERATIONAL',
    async () => {
      for (const l of three) {
        const peers = await peersOf(l);
        const others = three.filter((x) => x !== l);
        if (!others.every((o) => peers.some((v) => v.label === o && v.state === 'OPERATIONAL'))) return false;
      }
      return true;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  ).catch(explain);
  assert.deepEqual(await peersOf('delta'), [], 'delta is not listed yet: no peers');
});

const stateAt = async (viewer: string, peer: string): Promise<string | undefined> => (await peersOf(viewer)).find((v) => v.label === peer)?.state;

test('lab: a provider that stops is DEGRADED, then INTERRUPTED at the others, and recovers', async () => {
  assert.ok(lab !== undefined);
  await lab.stopProvider('echo');
  for (const state of ['DEGRADED', 'INTERRUPTED']) {
    await pollUntil(`echo ${state} at alpha and bravo`, async () => (await stateAt('alpha', 'echo')) === state && (await stateAt('bravo', 'echo')) === state, { timeoutMs: 60_000, intervalMs: 100 }).catch(explain);
  }
  await lab.startProvider('echo');
  await pollUntil(
    'echo OPERATIONAL again, and its peers at echo',
    async () => (await stateAt('alpha', 'echo')) === 'OPERATIONAL' && (await stateAt('bravo', 'echo')) === 'OPERATIONAL' && (await stateAt('echo', 'alpha')) === 'OPERATIONAL' && (await stateAt('echo', 'bravo')) === 'OPERATIONAL',
    { timeoutMs: 60_000, intervalMs: 100 },
  ).catch(explain);
});

test('lab: the owner adds a fourth provider, which becomes OPERATIONAL everywhere', async () => {
  assert.ok(lab !== undefined);
  const file = lab.json.owner.zones['customer.zone.'];
  assert.ok(file !== undefined);
  const text = await readFile(file, 'utf8');
  const edited = text
    .replace(/ 1 7200 3600 1209600 300/, ' 2 7200 3600 1209600 300')
    .replace(/(customer\.zone\. 3600 IN HSYNCPARAM .*)\n/, 'customer.zone. 3600 IN HSYNC ON delta agent.delta.test. .\n$1\n')
    .replace('servers="alpha,bravo,echo"', 'servers="alpha,bravo,echo,delta"');
  await writeFile(file, edited);
  const sighupAt = Date.now();
  process.kill(lab.json.owner.pid, 'SIGHUP');
  const all = config.providers.map((p) => p.label);
  await pollUntil(
    'delta OPERATIONAL everywhere',
    async () => {
      for (const l of all) {
        const peers = await peersOf(l);
        if (!all.filter((x) => x !== l).every((o) => peers.some((v) => v.label === o && v.state === 'OPERATIONAL'))) return false;
      }
      return true;
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  ).catch(explain);
  const at = (await peersOf('alpha')).find((v) => v.label === 'delta');
  assert.ok(at !== undefined);
  process.stderr.write(`delta OPERATIONAL at alpha ${Date.parse(at.since) - sighupAt} ms after the SIGHUP\n`);
});

test('lab on JetStream: three providers reach mutual OPERATIONAL with their brokers on nats-server', async () => {
  const nats = await startNatsServer();
  const jsDir = await tmpDir('mpdns-lab-js-');
  let js: Lab | undefined;
  try {
    js = await startLab({ dir: jsDir.path, config: DEFAULT_LAB, beatSeconds: 1, logger: pino({ level: 'silent' }), nats: nats.url });
    assert.equal(js.json.broker, nats.url);
    const three = ['alpha', 'bravo', 'echo'];
    await pollUntil(
      'mutual OPERATIONAL on JetStream',
      async () => {
        for (const l of three) {
          const peers = (await js?.peers(l)) ?? [];
          if (!three.filter((x) => x !== l).every((o) => peers.some((v) => v.label === o && v.state === 'OPERATIONAL'))) return false;
        }
        return true;
      },
      { timeoutMs: 90_000, intervalMs: 200 },
    );
  } finally {
    await js?.stop();
    await nats.stop();
    await jsDir.remove();
  }
});

test('lab --inspect: the peer machines stream their events and snapshots to an inspector', async () => {
  const port = await freePort();
  const wss = new WebSocketServer({ host: '127.0.0.1', port });
  const received: { type?: string; snapshot?: { value?: unknown } }[] = [];
  wss.on('connection', (ws) => ws.on('message', (m: Buffer) => received.push(JSON.parse(m.toString()) as { type?: string })));
  const inspDir = await tmpDir('mpdns-lab-inspect-');
  let li: Lab | undefined;
  try {
    li = await startLab({ dir: inspDir.path, config: DEFAULT_LAB, beatSeconds: 1, logger: pino({ level: 'silent' }), inspect: `ws://127.0.0.1:${port}` });
    await pollUntil(
      'an OPERATIONAL snapshot at the inspector',
      () => received.some((e) => e.type === '@xstate.snapshot' && JSON.stringify(e.snapshot?.value ?? '').includes('operational')),
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    assert.ok(received.some((e) => e.type === '@xstate.actor'));
    assert.ok(received.some((e) => e.type === '@xstate.event'));
  } finally {
    await li?.stop();
    await inspDir.remove();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  }
});
