// kdig as an external judge: run it against a server and normalise its answer.
import { execFile } from 'node:child_process';

export interface KdigResult {
  readonly status: string;
  readonly flags: string[];
  /** Answer-section lines, whitespace-normalised, in the server's order. */
  readonly answer: string[];
  readonly authority: string[];
  readonly additional: string[];
  readonly raw: string;
}

/** Runs kdig with `args` (e.g. ['@127.0.0.1', '-p', '5353', 'example.', 'SOA']); stdout then stderr. */
export function kdigRaw(args: readonly string[], timeoutMs = 8000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('kdig', [...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err !== null && stdout === '') reject(new Error(`kdig ${args.join(' ')}: ${stderr || err.message}`));
      else resolve(stdout + stderr);
    });
  });
}

function section(raw: string, header: string): string[] {
  const lines = raw.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`;; ${header} SECTION:`));
  if (start < 0) return [];
  const out: string[] = [];
  for (let i = start + 1; i < lines.length; i++) {
    const l = lines[i] ?? '';
    if (l.trim() === '' || l.startsWith(';;')) break;
    out.push(l.trim().split(/\s+/).join(' '));
  }
  return out;
}

/** One query with kdig; parses status, flags and sections. */
export async function kdig(server: string, port: number, name: string, type: string, extra: readonly string[] = []): Promise<KdigResult> {
  const raw = await kdigRaw([`@${server}`, '-p', String(port), '+retry=1', '+time=2', ...extra, name, type]);
  const status = /status: ([A-Z]+)/.exec(raw)?.[1] ?? 'NONE';
  const flags = (/;; Flags: ([a-z ]*);/.exec(raw)?.[1] ?? '').trim().split(/\s+/).filter((f) => f !== '');
  return {
    status,
    flags,
    answer: section(raw, 'ANSWER'),
    authority: section(raw, 'AUTHORITY'),
    additional: section(raw, 'ADDITIONAL').filter((l) => !l.includes('OPT PSEUDOSECTION')),
    raw,
  };
}
