// Multi-provider sync end to end in the lab (one process, embedded broker; every provider's
// nameserver its own `mpdns serve --secondary` process), checked from outside with kdig against
// every nameserver: the default world converges (each provider's NS contribution served by its
// own combiner and confirmed by every peer, the same NS RRset everywhere); an owner edit reaches
// every nameserver; a fourth provider added to HSYNC contributes and its NS appears everywhere;
// a provider removed from HSYNC loses its NS everywhere.
import { strict as assert } from 'node:assert';
import { writeFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { converged } from '../actors/lab/converged.ts';
import { DEFAULT_LAB, ownerZoneText, startLab, type Lab, type LabConfig, type LabZone } from '../actors/lab/lab.ts';
import { haveBinary } from './support/daemon.ts';
import { digAt } from './support/kdig.ts';
import { pollUntil } from './support/poll.ts';
import { tmpDir, type TmpDir } from './support/tmp.ts';

const delta = { label: 'delta', identity: 'agent.delta.test.', nameservers: ['ns1.delta.test.'], upstream: 'owner', signs: false };
const ALL: LabConfig = { zones: DEFAULT_LAB.zones, providers: [...DEFAULT_LAB.providers, delta] };
const ZONE = DEFAULT_LAB.zones[0] as LabZone;
const dig = (label: string, type: string): Promise<string[]> => digAt(lab?.json, label, ZONE.name, type);
let dir: TmpDir;
let lab: Lab | undefined;
let serial = 1;

before(async () => {
  dir = await tmpDir('mpdns-lab-sync-');
  lab = await startLab({ dir: dir.path, config: ALL, beatSeconds: 1, logger: pino({ level: 'silent' }) });
});
after(async () => {
  await lab?.stop();
  await dir?.remove();
});


/** The owner publishes `zone` (edit + SIGHUP to its primary). */
async function publish(zone: LabZone, extra = ''): Promise<void> {
  assert.ok(lab !== undefined);
  const file = lab.json.owner.zones[ZONE.name];
  assert.ok(file !== undefined);
  await writeFile(file, `${ownerZoneText(zone, ALL.providers, ++serial)}${extra}`);
  process.kill(lab.json.owner.pid, 'SIGHUP');
}

const waitFor = (what: string, probe: () => Promise<boolean>): Promise<unknown> => pollUntil(what, probe, { timeoutMs: 60_000, intervalMs: 200 });

test('lab sync: the default world converges, the same NS RRset at every nameserver (kdig)', { skip: !haveBinary('kdig') && 'kdig not installed' }, async () => {
  assert.ok(lab !== undefined);
  const three: LabConfig = { zones: [ZONE], providers: DEFAULT_LAB.providers };
  const running = lab;
  await waitFor('converged (contributions served and confirmed)', () => converged(three, running.json));
  const want = ['ns.echo.example.', 'ns1.alpha.example.', 'ns1.bravo.example.'];
  for (const l of ['alpha', 'bravo', 'echo']) assert.deepEqual(await dig(l, 'NS'), want, `${l}'s nameserver`);
});

test('lab sync: an owner edit reaches every provider\'s nameserver', { skip: !haveBinary('kdig') && 'kdig not installed' }, async () => {
  await publish(ZONE, `${ZONE.name} 300 IN TXT "edit-1"\n`);
  for (const l of ['alpha', 'bravo', 'echo']) await waitFor(`${l} serves the owner's edit`, async () => (await dig(l, 'TXT')).includes('"edit-1"'));
  // The edit did not undo the synced NS RRset.
  for (const l of ['alpha', 'bravo', 'echo']) assert.equal((await dig(l, 'NS')).length, 3);
});

test('lab sync: a fourth provider added to HSYNC contributes, and its NS is served everywhere', { skip: !haveBinary('kdig') && 'kdig not installed' }, async () => {
  const four: LabZone = { ...ZONE, hsync: [...ZONE.hsync, 'delta'], servers: [...ZONE.servers, 'delta'] };
  await publish(four);
  const running = lab;
  assert.ok(running !== undefined);
  await waitFor('converged with delta', () => converged({ zones: [four], providers: ALL.providers }, running.json));
  for (const l of ['alpha', 'bravo', 'echo', 'delta']) assert.ok((await dig(l, 'NS')).includes('ns1.delta.test.'), `${l} serves delta's NS`);
});

test('lab sync: a provider removed from HSYNC loses its NS everywhere', { skip: !haveBinary('kdig') && 'kdig not installed' }, async () => {
  const withoutEcho: LabZone = { ...ZONE, hsync: ['alpha', 'bravo', 'delta'], servers: ['alpha', 'bravo', 'delta'] };
  await publish(withoutEcho);
  for (const l of ['alpha', 'bravo', 'delta']) {
    await waitFor(`${l} no longer serves echo's NS`, async () => {
      const ns = await dig(l, 'NS');
      return !ns.includes('ns.echo.example.') && ns.includes('ns1.delta.test.') && ns.length === 3;
    });
  }
});
