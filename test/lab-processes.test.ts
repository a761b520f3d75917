// `mpdns lab --nats URL --processes`: every role of every provider is its own process, started
// with the production commands (`mpdns agent --config`, `mpdns gateway --config`) on a real
// nats-server. Three providers reach mutual OPERATIONAL; a SIGKILLed gateway and agent are
// started again (lab.json names the new pids) and the peers are OPERATIONAL again; a NATS outage
// (server SIGKILLed, restarted on its store) is ridden out: every role notices, none exits, and
// the peers are OPERATIONAL again; a provider whose processes stop is DEGRADED then INTERRUPTED at the others
// and recovers when they start again.
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { converged } from '../actors/lab/converged.ts';
import { DEFAULT_LAB, startLab, type Lab, type LabJson } from '../actors/lab/lab.ts';
import { startNatsServer, type NatsServer } from './support/nats.ts';
import { pollUntil } from './support/poll.ts';
import { alive } from './support/process.ts';
import { tmpDir, type TmpDir } from './support/tmp.ts';

const THREE = ['alpha', 'bravo', 'echo'];
let dir: TmpDir;
let nats: NatsServer;
let lab: Lab | undefined;

before(async () => {
  nats = await startNatsServer();
  dir = await tmpDir('mpdns-lab-proc-');
  lab = await startLab({ dir: dir.path, config: DEFAULT_LAB, beatSeconds: 1, logger: pino({ level: 'silent' }), nats: nats.url, processes: true });
});
after(async () => {
  await lab?.stop();
  await nats?.stop();
  await dir?.remove();
});

const labJson = async (): Promise<LabJson> => JSON.parse(await readFile(join(dir.path, 'lab.json'), 'utf8')) as LabJson;
const stateAt = async (viewer: string, peer: string): Promise<string | undefined> => (await lab?.peers(viewer))?.find((v) => v.label === peer)?.state;

/** The role logs, for a failure's message. */
async function logs(): Promise<string> {
  const out: string[] = [];
  for (const l of THREE) for (const r of ['agent', 'gateway', 'combiner', 'nameserver']) out.push(`--- ${l} ${r}\n${(await readFile(join(dir.path, l, `${r}.log`), 'utf8').catch(() => '')).split('\n').filter((x) => !x.includes('"level":30')).slice(-8).join('\n')}`);
  return out.join('\n');
}

async function mutuallyOperational(what: string): Promise<void> {
  await pollUntil(
    what,
    async () => {
      for (const l of THREE) for (const o of THREE) if (o !== l && (await stateAt(l, o)) !== 'OPERATIONAL') return false;
      return true;
    },
    { timeoutMs: 90_000, intervalMs: 200 },
  ).catch(async (e: unknown) => {
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${await logs()}`);
  });
}

test('lab --processes: every role is its own process; the three providers reach mutual OPERATIONAL and converge', async () => {
  const json = await labJson();
  assert.equal(json.processes, true);
  const pids = json.providers.flatMap((p) => [p.pids.agent, p.pids.gateway]);
  const all = json.providers.flatMap((p) => [p.pids.agent, p.pids.gateway, p.pids.combiner, p.pids.nameserver]);
  assert.equal(new Set(all).size, 12, 'twelve distinct processes');
  for (const pid of pids) {
    assert.notEqual(pid, process.pid);
    assert.ok(alive(pid), `pid ${pid} runs`);
  }
  await mutuallyOperational('mutual OPERATIONAL with every role in its own process');
  // And they sync: every contribution served by its combiner and confirmed by every peer, the
  // same NS RRset at every nameserver.
  const running = lab;
  assert.ok(running !== undefined);
  await pollUntil('converged with every role in its own process', () => converged(DEFAULT_LAB, running.json), { timeoutMs: 90_000, intervalMs: 200 }).catch(async (e: unknown) => {
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${await logs()}`);
  });
});

test('lab --processes: a SIGKILLed gateway and agent are started again and lab.json names them', async () => {
  for (const role of ['gateway', 'agent'] as const) {
    const before = (await labJson()).providers.find((p) => p.label === 'alpha')?.pids[role];
    assert.ok(before !== undefined && alive(before));
    process.kill(before, 'SIGKILL');
    const now = await pollUntil(`alpha's ${role} started again`, async () => {
      const pid = (await labJson()).providers.find((p) => p.label === 'alpha')?.pids[role];
      return pid !== undefined && pid !== before && alive(pid) ? pid : undefined;
    }, { timeoutMs: 30_000 });
    assert.ok(!alive(before));
    assert.ok(alive(now));
  }
  await mutuallyOperational('mutual OPERATIONAL after the restarts');
});

test('lab --processes: the roles ride out a NATS outage and the peers are OPERATIONAL again', async () => {
  const pids = (await labJson()).providers.flatMap((p) => [p.pids.agent, p.pids.gateway]);
  await nats.kill('SIGKILL');
  // Every role notices that the server is gone (and keeps running). All providers share this one
  // server in the lab, so nothing durable can happen meanwhile: their machines hold their state.
  await pollUntil('every role logged the lost connection', async () => {
    for (const l of THREE) for (const r of ['agent', 'gateway']) if (!(await readFile(join(dir.path, l, `${r}.log`), 'utf8')).includes('NATS connection lost')) return false;
    return true;
  }, { timeoutMs: 30_000, intervalMs: 100 });
  await nats.restart();
  await mutuallyOperational('mutual OPERATIONAL after the NATS outage');
  const after = (await labJson()).providers.flatMap((p) => [p.pids.agent, p.pids.gateway]);
  assert.deepEqual(after, pids, 'no role exited: they reconnected');
  for (const pid of after) assert.ok(alive(pid));
});

test('lab --processes: a provider whose processes stop is DEGRADED, then INTERRUPTED, and recovers', async () => {
  assert.ok(lab !== undefined);
  await lab.stopProvider('echo');
  for (const state of ['DEGRADED', 'INTERRUPTED']) {
    await pollUntil(`echo ${state} at alpha and bravo`, async () => (await stateAt('alpha', 'echo')) === state && (await stateAt('bravo', 'echo')) === state, { timeoutMs: 60_000, intervalMs: 100 });
  }
  await lab.startProvider('echo');
  await mutuallyOperational('mutual OPERATIONAL once echo is back');
});
