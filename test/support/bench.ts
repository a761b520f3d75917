// Shared pieces of the `npm run bench:*` scripts: argument reading, a child process timed by
// /usr/bin/time -v (wall time and peak RSS), best-of-N timing, the table and the --json line.
import { execFile } from 'node:child_process';

/** The value after `name` on the command line (`--records 1000`), or undefined. */
export function argValue(name: string, argv: readonly string[] = process.argv): string | undefined {
  const i = argv.indexOf(name);
  return i < 0 ? undefined : argv[i + 1];
}

/** A numeric argument with its default; a value that is not a positive number is an error. */
export function numberArg(name: string, fallback: number, argv: readonly string[] = process.argv): number {
  const text = argValue(name, argv);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}: expected a positive number, got "${text}"`);
  return n;
}

/** True when `--json` was given: print one JSON object on the last line. */
export function wantsJson(argv: readonly string[] = process.argv): boolean {
  return argv.includes('--json');
}

/** Progress messages go to stderr so stdout stays the table (and the JSON line). */
export function log(s: string): void {
  process.stderr.write(`${s}\n`);
}

/** A child process run under /usr/bin/time -v. */
export interface TimedRun {
  readonly ms: number;
  /** User + system CPU time of the child, in ms. */
  readonly cpuMs: number;
  readonly peakMB: number;
  readonly stdout: string;
}

/** Runs `cmd` under /usr/bin/time -v; wall time, CPU time and the child's maximum RSS. */
export function timed(cmd: string, args: readonly string[], opts: { cwd?: string } = {}): Promise<TimedRun> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    execFile('/usr/bin/time', ['-v', cmd, ...args], { ...opts, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const ms = performance.now() - start;
      if (err !== null) {
        reject(new Error(`${cmd} failed: ${stderr.slice(-2000)}`));
        return;
      }
      const kb = Number(/Maximum resident set size \(kbytes\): ([0-9]+)/.exec(stderr)?.[1] ?? 0);
      const secs = (what: string): number => Number(new RegExp(`${what} time \\(seconds\\): ([0-9.]+)`).exec(stderr)?.[1] ?? 0);
      resolve({ ms, cpuMs: (secs('User') + secs('System')) * 1000, peakMB: kb / 1024, stdout });
    });
  });
}

/** The last stdout line of a child that reports its own figures as JSON. */
export function lastJsonLine<T>(stdout: string): T {
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as T;
}

/** Best (smallest) of `runs` timings of `fn`, in ms. */
export function bestOf(runs: number, fn: () => void): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

/** Rounds a ratio to three decimals for the JSON line. */
export function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/** Prints rows (the first is the header) with the first column left- and the others right-aligned. */
export function printTable(rows: readonly (readonly string[])[]): void {
  const cols = Math.max(...rows.map((r) => r.length));
  const widths = Array.from({ length: cols }, (_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  for (const r of rows) {
    const cells = widths.map((w, c) => (c === 0 ? (r[c] ?? '').padEnd(w) : (r[c] ?? '').padStart(w)));
    process.stdout.write(`${cells.join('  ').trimEnd()}\n`);
  }
}

/** With --json, the one JSON object on the last line of stdout. */
export function printJson(json: boolean, result: object): void {
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
}
