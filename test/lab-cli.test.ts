// `mpdns lab` as a user runs it: a child process with --dir, lab.json once everything listens,
// `mpdns ctl --lab DIR --provider L peers --json` until the peers are OPERATIONAL, and a clean
// stop on SIGTERM that takes the owner's primary with it.
import { strict as assert } from 'node:assert';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import type { LabJson } from '../actors/lab/lab.ts';
import { parseName } from '../dns/name.ts';
import { query } from '../dns/net/client.ts';
import { RRType } from '../dns/types.ts';
import { startNatsServer } from './support/nats.ts';
import { pollUntil } from './support/poll.ts';
import { alive } from './support/process.ts';
import { tmpDir, type TmpDir } from './support/tmp.ts';

const exec = promisify(execFile);
const MPDNS = join(import.meta.dirname, '..', 'bin', 'mpdns');
let dir: TmpDir | undefined;
after(async () => dir?.remove());


/** DIR/lab.json once the lab wrote it; a lab that exits first, or never writes it, fails with its output. */
async function labJson(child: ChildProcess, labDir: string, out: () => string): Promise<LabJson> {
  const got = await pollUntil(
    'lab.json',
    async () => (child.exitCode !== null ? { exited: child.exitCode } : (JSON.parse(await readFile(join(labDir, 'lab.json'), 'utf8')) as LabJson)),
    { timeoutMs: 90_000, intervalMs: 200 },
  ).catch((e: unknown) => {
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${out()}`);
  });
  if ('exited' in got) throw new Error(`mpdns lab exited (${got.exited}) before writing lab.json:\n${out()}`);
  return got;
}

test('mpdns lab: lab.json, ctl peers --json until OPERATIONAL, clean SIGTERM', async () => {
  dir = await tmpDir('mpdns-lab-cli-');
  const labDir = join(dir.path, 'lab');
  const child = spawn(MPDNS, ['lab', '--dir', labDir, '--beat', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const json = await labJson(child, labDir, () => out);
    assert.deepEqual(json.providers.map((p) => p.label), ['alpha', 'bravo', 'echo']);
    assert.match(json.owner.address, /^127\.0\.0\.1:\d+$/);
    assert.ok(Number.isInteger(json.owner.pid) && alive(json.owner.pid));
    const peers = async (): Promise<{ label: string; identity: string; state: string; since: string }[]> =>
      JSON.parse((await exec(MPDNS, ['ctl', '--lab', labDir, '--provider', 'alpha', 'peers', '--json'])).stdout) as { label: string; identity: string; state: string; since: string }[];
    const seen = await pollUntil('alpha sees bravo and echo OPERATIONAL', async () => {
      const p = await peers();
      return p.length === 2 && p.every((v) => v.state === 'OPERATIONAL') ? p : undefined;
    }, { timeoutMs: 90_000, intervalMs: 300 });
    assert.deepEqual(seen.map((p) => [p.label, p.identity]), [['bravo', 'agent.bravo.example.'], ['echo', 'agent.echo.example.']]);
    for (const p of seen) assert.ok(!Number.isNaN(Date.parse(p.since)), p.since);
    const table = (await exec(MPDNS, ['ctl', '--lab', labDir, '--provider', 'echo', 'peers'])).stdout;
    assert.match(table, /^LABEL\s+IDENTITY\s+STATE\s+SINCE\n/);
    // Usage errors name what is wrong.
    await assert.rejects(exec(MPDNS, ['ctl', '--lab', labDir, '--provider', 'zulu', 'peers']), (e: { code?: number; stderr?: string }) => e.code === 2 && /--provider zulu: the lab has alpha, bravo, echo/.test(e.stderr ?? ''));
    await assert.rejects(exec(MPDNS, ['ctl', '--lab', labDir, 'peers']), (e: { code?: number; stderr?: string }) => e.code === 2 && /--lab needs --provider/.test(e.stderr ?? ''));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, out);
    await pollUntil('the owner primary gone', () => !alive(json.owner.pid), { timeoutMs: 20_000, intervalMs: 100 });
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('mpdns lab --nats --processes: a SIGKILLed lab leaves neither its owner primary, its Unbound nor a role process behind', async () => {
  assert.ok(dir !== undefined);
  const labDir = join(dir.path, 'killed');
  const nats = await startNatsServer();
  after(() => nats.stop());
  const child = spawn(MPDNS, ['lab', '--dir', labDir, '--nats', nats.url, '--processes'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  try {
    const json = await labJson(child, labDir, () => out);
    const [address, port] = json.resolver.address.split(':');
    const resolver = { address: address ?? '', port: Number(port) };
    const answers = async (): Promise<boolean> => {
      try {
        await query(resolver, parseName('.'), RRType.SOA, { rd: true, timeoutMs: 300, attempts: 1 });
        return true;
      } catch {
        return false;
      }
    };
    assert.ok(alive(json.owner.pid));
    const roles = json.providers.flatMap((p) => [p.pids.agent, p.pids.gateway]);
    assert.equal(roles.length, 6);
    for (const pid of roles) assert.ok(pid !== child.pid && alive(pid), `role pid ${pid} runs`);
    if (json.resolver.validating) assert.ok(await answers(), 'Unbound answers while the lab runs');
    child.kill('SIGKILL');
    await pollUntil('the owner primary gone', () => !alive(json.owner.pid), { timeoutMs: 30_000, intervalMs: 100 });
    await pollUntil('Unbound gone', async () => !(await answers()), { timeoutMs: 30_000, intervalMs: 200 });
    await pollUntil('every role process gone', () => roles.every((pid) => !alive(pid)), { timeoutMs: 30_000, intervalMs: 100 });
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
