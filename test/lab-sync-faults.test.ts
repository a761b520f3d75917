// Sync survives faults, with every role of every provider its own process on a nats-server this
// test starts (`startLab({ processes: true })`): after the world converged, the owner publishes
// an edit (SIGHUP) and at once a role is SIGKILLed (a combiner, a nameserver, an agent, a
// gateway, then nats-server itself, restarted on its store). Each time the killed role runs
// again under a new pid (lab.json), the world converges again (every contribution served by its
// own combiner and confirmed SUCCESS by every peer, the NS union at every nameserver) and every
// nameserver serves the edit. Last, a provider is stopped while a fourth provider is added to
// HSYNC, started again, and the four converge.
//
// The two NATS tests found that an owner change whose rebuild failed while NATS was down was
// dropped (the combiner now retries the rebuild every second). KEEP_LAB=1 keeps the lab
// directory (role logs) after the run.
import { strict as assert } from 'node:assert';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { converged } from '../actors/lab/converged.ts';
import {
  DEFAULT_LAB,
  ownerZoneText,
  startLab,
  type Lab,
  type LabConfig,
  type LabJson,
  type LabZone,
} from '../actors/lab/lab.ts';
import { haveBinary } from './support/daemon.ts';
import { digAt } from './support/kdig.ts';
import { NATS_SERVER, startNatsServer, type NatsServer } from './support/nats.ts';
import { pollUntil } from './support/poll.ts';
import { alive } from './support/process.ts';
import { tmpDir, type TmpDir } from './support/tmp.ts';

const SKIP =
  (!haveBinary('kdig') && 'kdig not installed') ||
  (!haveBinary(NATS_SERVER.split('/').at(-1) ?? '') && 'nats-server not installed');
const delta = {
  label: 'delta',
  identity: 'agent.delta.test.',
  nameservers: ['ns1.delta.test.'],
  upstream: 'owner',
  signs: false,
};
const ALL: LabConfig = { zones: DEFAULT_LAB.zones, providers: [...DEFAULT_LAB.providers, delta] };
const ZONE = DEFAULT_LAB.zones[0] as LabZone;
const dig = (label: string, type: string): Promise<string[]> =>
  digAt(lab?.json, label, ZONE.name, type);
const THREE: LabConfig = { zones: [ZONE], providers: ALL.providers };
const LABELS = ['alpha', 'bravo', 'echo', 'delta'];

let dir: TmpDir;
let nats: NatsServer | undefined;
let lab: Lab | undefined;
let serial = 1;

before(async () => {
  if (SKIP !== false) return;
  nats = await startNatsServer();
  dir = await tmpDir('mpdns-lab-faults-');
  lab = await startLab({
    dir: dir.path,
    config: ALL,
    beatSeconds: 1,
    logger: pino({ level: 'silent' }),
    nats: nats.url,
    processes: true,
  });
});
after(async () => {
  await lab?.stop();
  await nats?.stop();
  if (process.env['KEEP_LAB'] === undefined) await dir?.remove();
});

const labJson = async (): Promise<LabJson> =>
  JSON.parse(await readFile(join(dir.path, 'lab.json'), 'utf8')) as LabJson;
type Role = 'agent' | 'gateway' | 'combiner' | 'nameserver';
const pidOf = async (label: string, role: Role): Promise<number | undefined> =>
  (await labJson()).providers.find((p) => p.label === label)?.pids[role];

/** The role logs (warnings and errors, the last lines of each), for a failure's message. */
async function logs(): Promise<string> {
  const out: string[] = [];
  for (const l of LABELS) {
    for (const r of ['agent', 'gateway', 'combiner', 'nameserver']) {
      const text = await readFile(join(dir.path, l, `${r}.log`), 'utf8').catch(() => '');
      out.push(
        `--- ${l} ${r}\n${text
          .split('\n')
          .filter((x) => !x.includes('"level":30'))
          .slice(-6)
          .join('\n')}`,
      );
    }
  }
  return out.join('\n');
}

/** kdig +short at a provider's nameserver, sorted lines. */

/** What every provider's agent says about its contribution (for a failure's message). */
async function deliveries(): Promise<string> {
  const out: string[] = [];
  for (const p of lab?.json.providers ?? []) {
    const rows = await fetch(`${p.control}/zones`, { signal: AbortSignal.timeout(2000) })
      .then((r) => r.text())
      .catch((e: unknown) => `(${e instanceof Error ? e.message : String(e)})`);
    out.push(`${p.label}: ${rows.slice(0, 600)}`);
  }
  return out.join('\n');
}

/** What every nameserver serves (SOA serial, TXT), for a failure's message. */
async function served(): Promise<string> {
  const out: string[] = [];
  for (const p of lab?.json.providers ?? []) {
    const soa = await dig(p.label, 'SOA').catch(() => []);
    const txt = await dig(p.label, 'TXT').catch(() => []);
    out.push(`${p.label} nameserver: SOA ${soa.join(' ')} TXT ${txt.join(' ')}`);
  }
  return out.join('\n');
}

const explain = async (e: unknown): Promise<Error> =>
  new Error(
    `${e instanceof Error ? e.message : String(e)}\n${await served()}\n${await deliveries()}\n${await logs()}`,
  );

/** The owner publishes `zone` with a TXT edit (new file + SIGHUP to its primary); returns the edit's text. */
async function publish(zone: LabZone): Promise<string> {
  assert.ok(lab !== undefined);
  const file = lab.json.owner.zones[ZONE.name];
  assert.ok(file !== undefined);
  const edit = `edit-${++serial}`;
  await writeFile(
    file,
    `${ownerZoneText(zone, ALL.providers, serial)}${ZONE.name} 300 IN TXT "${edit}"\n`,
  );
  process.kill(lab.json.owner.pid, 'SIGHUP');
  return edit;
}

/** Converged (per `config`) and the edit served at every listed provider's nameserver. */
async function convergedWith(what: string, config: LabConfig, edit: string): Promise<void> {
  const running = lab;
  assert.ok(running !== undefined);
  const listed = config.zones[0]?.hsync ?? [];
  await pollUntil(
    what,
    async () => {
      for (const l of listed)
        if (!(await dig(l, 'TXT').catch((): string[] => [])).includes(`"${edit}"`)) return false;
      return converged(config, running.json);
    },
    { timeoutMs: 120_000, intervalMs: 250 },
  ).catch(async (e: unknown) => {
    throw await explain(e);
  });
}

/** SIGHUP with an edit, SIGKILL `label`'s `role` at once; its restart, convergence and the edit everywhere. */
async function killDuringEdit(label: string, role: Role): Promise<void> {
  const before = await pidOf(label, role);
  assert.ok(
    before !== undefined && before > 0 && alive(before),
    `${label}'s ${role} runs (pid ${before})`,
  );
  const edit = await publish(ZONE);
  process.kill(before, 'SIGKILL');
  const now = await pollUntil(
    `${label}'s ${role} started again (lab.json)`,
    async () => {
      const pid = await pidOf(label, role);
      return pid !== undefined && pid !== before && alive(pid) ? pid : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  ).catch(async (e: unknown) => {
    throw await explain(e);
  });
  assert.ok(!alive(before));
  await convergedWith(
    `converged again after ${label}'s ${role} was SIGKILLed during an edit`,
    THREE,
    edit,
  );
  assert.equal(await pidOf(label, role), now, `${label}'s ${role} did not restart again meanwhile`);
}

test(
  'lab faults: the three providers converge with every role its own process',
  { skip: SKIP },
  async () => {
    await convergedWith('first convergence', THREE, await publish(ZONE));
    const want = ['ns.echo.example.', 'ns1.alpha.example.', 'ns1.bravo.example.'];
    for (const l of ['alpha', 'bravo', 'echo'])
      assert.deepEqual(await dig(l, 'NS'), want, `${l}'s nameserver`);
  },
);

test('lab faults: a combiner SIGKILLed during an owner edit', { skip: SKIP }, () =>
  killDuringEdit('alpha', 'combiner'),
);
test('lab faults: a nameserver SIGKILLed during an owner edit', { skip: SKIP }, () =>
  killDuringEdit('bravo', 'nameserver'),
);
test('lab faults: an agent SIGKILLed during an owner edit', { skip: SKIP }, () =>
  killDuringEdit('echo', 'agent'),
);
test('lab faults: a gateway SIGKILLed during an owner edit', { skip: SKIP }, () =>
  killDuringEdit('alpha', 'gateway'),
);

test(
  'lab faults: nats-server SIGKILLed during an owner edit and restarted on its store',
  {
    skip: SKIP,
  },
  async () => {
    assert.ok(nats !== undefined);
    const edit = await publish(ZONE);
    await nats.kill('SIGKILL');
    await nats.restart();
    await convergedWith('converged again after the NATS outage', THREE, edit);
  },
);

test(
  'lab faults: an owner edit published while nats-server is down reaches every nameserver once it is back',
  {
    skip: SKIP,
  },
  async () => {
    assert.ok(nats !== undefined);
    await nats.kill('SIGKILL');
    const edit = await publish(ZONE);
    // The combiners transfer the owner's zone over DNS meanwhile (not through NATS).
    await new Promise((r) => setTimeout(r, 3000));
    await nats.restart();
    await convergedWith('converged after an edit during the NATS outage', THREE, edit);
  },
);

test(
  'lab faults: a provider stopped while a fourth is added to HSYNC, then started again: the four converge',
  { skip: SKIP },
  async () => {
    assert.ok(lab !== undefined);
    await lab.stopProvider('echo');
    const four: LabZone = {
      ...ZONE,
      hsync: [...ZONE.hsync, 'delta'],
      servers: [...ZONE.servers, 'delta'],
    };
    const edit = await publish(four);
    // The others take delta in meanwhile (echo's nameserver keeps its last transfer).
    for (const l of ['alpha', 'bravo', 'delta']) {
      await pollUntil(
        `${l} serves the edit and delta's NS while echo is stopped`,
        async () =>
          (await dig(l, 'TXT')).includes(`"${edit}"`) &&
          (await dig(l, 'NS')).includes('ns1.delta.test.'),
        {
          timeoutMs: 120_000,
          intervalMs: 250,
        },
      ).catch(async (e: unknown) => {
        throw await explain(e);
      });
    }
    await lab.startProvider('echo');
    await convergedWith(
      'the four converged once echo is back',
      { zones: [four], providers: ALL.providers },
      edit,
    );
    const want = [
      'ns.echo.example.',
      'ns1.alpha.example.',
      'ns1.bravo.example.',
      'ns1.delta.test.',
    ];
    for (const l of ['alpha', 'bravo', 'echo', 'delta'])
      assert.deepEqual(await dig(l, 'NS'), want, `${l}'s nameserver`);
  },
);
