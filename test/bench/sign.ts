// npm run bench:sign [-- --json] [--names N] [--reps R] [--changes C]
//
// A generated zone of N owner names (default 50,000; 100,000+ RRSIGs with NSEC) signed with
// ECDSA P-256 and with Ed25519, by `mpdns sign` (1 thread and --threads 2) and by
// ldns-signzone, with the same keys (made by ldns-keygen), the same zone file and NSEC, in the
// same run. Wall-clock per process, best of R runs, runs interleaved so load hits both alike.
// Then one RRset is changed C times and re-signed incrementally in-process: the time from the
// diff to a DNSSEC answer carrying the new data (signed and servable).
// Every run writes its own file; the bench fails unless each has as many RRSIGs as ldns-signzone's
// (and not 0), and ldns-verify-zone accepts our last 1-thread and 2-thread outputs (outside the timing).
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { readZoneRecords } from '../../dns/files/load.ts';
import { loadKeyDir } from '../../dns/files/keydir.ts';
import { SignPool } from '../../dns/net/sign-pool.ts';
import { answerQuery, SignedZone } from '../../dns/dnssec/index.ts';
import { parseName } from '../../dns/name.ts';
import { soaSerial, soaWithSerial } from '../../dns/rdata/soa.ts';
import type { RR } from '../../dns/rr.ts';
import { RRType } from '../../dns/types.ts';
import { timed as timedRun } from '../support/bench.ts';
import { generateZone } from '../support/genzone.ts';
import { tmpDir } from '../support/tmp.ts';

const exec = promisify(execFile);
const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    names: { type: 'string', default: '50000' },
    reps: { type: 'string', default: '2' },
    changes: { type: 'string', default: '20' },
  },
});
const NAMES = Number(values.names);
const REPS = Number(values.reps);
const CHANGES = Number(values.changes);
const ORIGIN = 'bench.example.';
const MPDNS = join(import.meta.dirname, '..', '..', 'bin', 'mpdns');

interface Timing {
  wall: number;
  cpu: number;
}

/** Wall-clock and CPU (user + system) of one child process, from the shared /usr/bin/time runner. */
async function timed(cmd: string, args: string[], cwd: string): Promise<Timing> {
  const r = await timedRun(cmd, args, { cwd });
  return { wall: r.ms, cpu: r.cpuMs };
}

const best = (a: Timing, b: Timing): Timing => ({ wall: Math.min(a.wall, b.wall), cpu: Math.min(a.cpu, b.cpu) });

async function countRrsigs(file: string): Promise<number> {
  const text = await readFile(file, 'utf8');
  return (text.match(/^\S+\s+[0-9]+\s+IN\s+RRSIG\s/gm) ?? []).length;
}

const dir = await tmpDir('mpdns-bench-sign-');
try {
  // Enough records for NAMES owners (genzone reports how many it made).
  let gen = generateZone({ origin: ORIGIN, records: NAMES, seed: 42 });
  for (let want = NAMES; gen.owners < NAMES; want += Math.max(100, NAMES - gen.owners)) {
    gen = generateZone({ origin: ORIGIN, records: Math.ceil((want * gen.records) / gen.owners), seed: 42 });
  }
  const zoneFile = join(dir.path, 'bench.zone');
  await writeFile(zoneFile, gen.text);

  const rows: { alg: string; ldns: Timing; single: Timing; threads2: Timing; ldnsSigs: number; ourSigs: number }[] = [];
  for (const [alg, ldnsAlg] of [
    ['ecdsap256', 'ECDSAP256SHA256'],
    ['ed25519', 'ED25519'],
  ] as const) {
    const keyDir = join(dir.path, `keys-${alg}`);
    await mkdir(keyDir);
    await exec('ldns-keygen', ['-a', ldnsAlg, '-k', ORIGIN], { cwd: keyDir });
    await exec('ldns-keygen', ['-a', ldnsAlg, ORIGIN], { cwd: keyDir });
    const bases = (await readdir(keyDir)).filter((f) => f.endsWith('.private')).map((f) => join(keyDir, f.replace(/\.private$/, '')));
    // mpdns reads the same keys (ldns writes BIND-compatible .key/.private files).
    const ourKeys = join(dir.path, `ours-${alg}`);
    await mkdir(ourKeys);
    for (const b of bases) {
      await copyFile(`${b}.key`, join(ourKeys, `${b.split('/').pop() ?? ''}.key`));
      await copyFile(`${b}.private`, join(ourKeys, `${b.split('/').pop() ?? ''}.private`));
    }
    const ldnsOut = join(dir.path, `ldns-${alg}.signed`);
    // One output file per run, so each run's output is checked, not only the last one's.
    const ourOuts: string[] = [];
    const ours = (threads: number, rep: number): string[] => {
      const ourOut = join(dir.path, `ours-${alg}-t${threads}-r${rep}.signed`);
      ourOuts.push(ourOut);
      return ['sign', '--zone', zoneFile, '--origin', ORIGIN, '--key-dir', ourKeys, '--out', ourOut, '--ds-out', `${ourOut}.ds`, '--threads', String(threads)];
    };
    let ldns: Timing = { wall: Infinity, cpu: Infinity };
    let single: Timing = { wall: Infinity, cpu: Infinity };
    let threads2: Timing = { wall: Infinity, cpu: Infinity };
    for (let r = 0; r < REPS; r++) {
      ldns = best(ldns, await timed('ldns-signzone', ['-f', ldnsOut, '-o', ORIGIN, zoneFile, ...bases], dir.path));
      single = best(single, await timed(MPDNS, ours(1, r), dir.path));
      threads2 = best(threads2, await timed(MPDNS, ours(2, r), dir.path));
    }
    const ldnsSigs = await countRrsigs(ldnsOut);
    if (ldnsSigs === 0) throw new Error(`bench:sign ${alg}: no RRSIG found in ldns-signzone's output (format changed?)`);
    for (const f of ourOuts) {
      const n = await countRrsigs(f);
      if (n !== ldnsSigs) throw new Error(`bench:sign ${alg}: ${f.split('/').pop() ?? f} has ${n} RRSIGs, ldns-signzone ${ldnsSigs}`);
    }
    // The last run of each kind: 1 thread, then --threads 2.
    for (const verified of ourOuts.slice(-2)) {
      await exec('ldns-verify-zone', [verified], { maxBuffer: 64 * 1024 * 1024 }).catch((err: unknown) => {
        const e = err as { stdout?: string; stderr?: string };
        throw new Error(`bench:sign ${alg}: ldns-verify-zone rejects ${verified}: ${`${e.stdout ?? ''}${e.stderr ?? ''}`.slice(-2000)}`, { cause: err });
      });
    }
    rows.push({ alg, ldns, single, threads2, ldnsSigs, ourSigs: ldnsSigs });
  }

  // Incremental: sign in-process once, then change one RRset at a time.
  const origin = parseName(ORIGIN);
  const records = await readZoneRecords(zoneFile, origin);
  const keys = await loadKeyDir(join(dir.path, 'ours-ecdsap256'), origin);
  const pool = new SignPool(keys, 2);
  const zone = await SignedZone.signParallel(records, { origin, keys }, pool);
  await pool.close();
  const soa = records.find((r) => r.type === RRType.SOA) as RR;
  const target = records.find((r) => r.type === RRType.A && r.name !== origin && zone.statusOf(r.name) === 'auth') as RR;
  const times: number[] = [];
  let sigsPerChange = 0;
  let prevSoa = soa;
  let prevA = target;
  for (let i = 1; i <= CHANGES; i++) {
    const nextSoa = soaWithSerial(soa, soaSerial(soa.rdata) + i);
    const nextA = { ...target, rdata: Uint8Array.of(198, 51, 100, i & 0xff) };
    const t0 = performance.now();
    const st = zone.apply({ removed: [prevSoa, prevA], added: [nextSoa, nextA] });
    const ans = answerQuery(zone, target.name, RRType.A, true);
    const ms = performance.now() - t0;
    if (ans.answer[0]?.rdata[3] !== (i & 0xff) || !ans.answer.some((r) => r.type === RRType.RRSIG)) {
      throw new Error('incremental change not served');
    }
    times.push(ms);
    sigsPerChange = st.signatures;
    prevSoa = nextSoa;
    prevA = nextA;
  }
  times.sort((a, b) => a - b);
  const incrementalMs = times[Math.floor(times.length / 2)] ?? NaN;
  const incrementalMaxMs = times[times.length - 1] ?? NaN;

  const p256 = rows[0];
  const ed = rows[1];
  const fmt = (n: number): string => n.toFixed(0).padStart(8);
  const out: string[] = [
    `bench:sign  zone ${gen.owners} names, ${gen.records} records; best of ${REPS}; wall-clock and CPU (user+sys) per process`,
    '',
    'algorithm    ldns-signzone ms    mpdns 1 thread ms   mpdns 2 threads ms   ratio 1t wall/cpu   ratio 2t wall   RRSIGs ldns / mpdns',
    '             wall     cpu        wall     cpu        wall     cpu',
  ];
  for (const r of rows) {
    out.push(
      `${r.alg.padEnd(12)}${fmt(r.ldns.wall)}${fmt(r.ldns.cpu)}   ${fmt(r.single.wall)}${fmt(r.single.cpu)}   ${fmt(r.threads2.wall)}${fmt(r.threads2.cpu)}` +
        `     ${(r.ldns.wall / r.single.wall).toFixed(2)} / ${(r.ldns.cpu / r.single.cpu).toFixed(2)}         ${(r.ldns.wall / r.threads2.wall).toFixed(2)}          ${r.ldnsSigs} / ${r.ourSigs}`,
    );
  }
  out.push('', `incremental (P-256, one A RRset + SOA, ${sigsPerChange} signatures): median ${incrementalMs.toFixed(2)} ms, max ${incrementalMaxMs.toFixed(2)} ms over ${CHANGES} changes (apply + signed answer)`);
  process.stdout.write(out.join('\n') + '\n');
  if (values.json && p256 !== undefined && ed !== undefined) {
    process.stdout.write(
      JSON.stringify({
        names: gen.owners,
        records: gen.records,
        ratioSingle: +(p256.ldns.wall / p256.single.wall).toFixed(3),
        ratioThreads2: +(p256.ldns.wall / p256.threads2.wall).toFixed(3),
        ratioSingleCpu: +(p256.ldns.cpu / p256.single.cpu).toFixed(3),
        ratioSingleEd25519: +(ed.ldns.wall / ed.single.wall).toFixed(3),
        ratioThreads2Ed25519: +(ed.ldns.wall / ed.threads2.wall).toFixed(3),
        ratioSingleCpuEd25519: +(ed.ldns.cpu / ed.single.cpu).toFixed(3),
        incrementalMs: +incrementalMs.toFixed(3),
        incrementalMaxMs: +incrementalMaxMs.toFixed(3),
        rows,
      }) + '\n',
    );
  }
} finally {
  await dir.remove();
}
