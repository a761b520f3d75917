// npm run bench:zonefile [-- --records N] [--runs N] [--json]
// Zone-file load time and peak RSS of dns/zonefile (loadZoneFile) next to named-checkzone on the
// same generated file, alternating runs in one process so both see the same machine load.
// named-checkzone runs with `-i local`: its full integrity check resolves names below
// delegations through the system resolver and waits for timeouts without internet.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateZone } from '../support/genzone.ts';
import { haveBinary } from '../support/daemon.ts';
import { tmpDir } from '../support/tmp.ts';
import { lastJsonLine, log, numberArg, printJson, printTable, timed, wantsJson, type TimedRun } from '../support/bench.ts';

const REPO = join(import.meta.dirname, '..', '..');
const ORIGIN = 'bench.example.';
const json = wantsJson();
const records = numberArg('--records', 1_000_000);
const runs = numberArg('--runs', 2);

const min = (xs: readonly number[]): number => Math.min(...xs);

async function main(): Promise<void> {
  for (const b of ['named-checkzone', '/usr/bin/time']) {
    if (!haveBinary(b.replace('/usr/bin/', ''))) throw new Error(`bench:zonefile needs ${b}`);
  }
  const dir = await tmpDir('mpdns-bench-zonefile-');
  try {
    const gen = generateZone({ origin: ORIGIN, records, seed: 42 });
    const file = join(dir.path, 'bench.zone');
    writeFileSync(file, gen.text);
    const named: TimedRun[] = [];
    const ours: { run: TimedRun; loadMs: number }[] = [];
    for (let i = 0; i < runs; i++) {
      log(`run ${i + 1}/${runs}: named-checkzone...`);
      named.push(await timed('named-checkzone', ['-q', '-i', 'local', ORIGIN, file], { cwd: REPO }));
      log(`run ${i + 1}/${runs}: dns/zonefile...`);
      const run = await timed(process.execPath, ['--import', 'tsx', 'test/bench/zonefile-child.ts', file, ORIGIN], { cwd: REPO });
      const child = lastJsonLine<{ loadMs: number; rrs: number }>(run.stdout);
      if (child.rrs !== gen.records) throw new Error(`loaded ${child.rrs} records, generated ${gen.records}`);
      ours.push({ run, loadMs: child.loadMs });
    }
    const namedMs = min(named.map((r) => r.ms));
    const loadMs = min(ours.map((o) => o.loadMs));
    const processMs = min(ours.map((o) => o.run.ms));
    const peakMB = Math.max(...ours.map((o) => o.run.peakMB));
    const namedPeakMB = Math.max(...named.map((r) => r.peakMB));
    const rows = [
      ['measure', 'dns/zonefile', 'named-checkzone -i local', 'ratio'],
      ['load (ms, best of runs)', loadMs.toFixed(0), namedMs.toFixed(0), (loadMs / namedMs).toFixed(2)],
      ['whole process (ms)', processMs.toFixed(0), namedMs.toFixed(0), (processMs / namedMs).toFixed(2)],
      ['peak RSS (MB)', peakMB.toFixed(0), namedPeakMB.toFixed(0), (peakMB / namedPeakMB).toFixed(2)],
    ];
    process.stdout.write(`bench:zonefile: ${gen.records} records, ${gen.owners} owners (generated, seed 42), ${runs} runs each\n`);
    printTable(rows);
    printJson(json, { records: gen.records, loadMs, processMs, namedMs, loadRatio: loadMs / namedMs, loadRatioProcess: processMs / namedMs, loadPeakMB: peakMB, namedPeakMB });
  } finally {
    await dir.remove();
  }
}

await main();
