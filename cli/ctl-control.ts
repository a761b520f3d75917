// `mpdns ctl peers` and `ctl zones`: what a running agent says through its control endpoint,
// found from `--control URL` or from a lab's DIR/lab.json and `--provider LABEL`.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabJson } from '../actors/lab/lab.ts';
import { runCommand } from './args.ts';
import { complain, UsageError } from './errors.ts';

export const CONTROL_USAGE = `usage: mpdns ctl [--lab DIR --provider LABEL | --control URL] peers|zones [--json]

  peers           the agent's peers: label, identity, state (NEEDED, KNOWN, INTRODUCED,
                  OPERATIONAL, DEGRADED, INTERRUPTED) and since when
  zones           the agent's zones: membership, providers and roles, HSYNC problems
  --lab DIR       a running mpdns lab (reads DIR/lab.json); with --provider LABEL
  --control URL   an agent's control endpoint (e.g. http://127.0.0.1:8053)
  --token-file F  bearer token for a control endpoint beyond loopback
  --json          print the JSON only (peers: [{label, identity, state, since}])
`;

/** Global options given before the subcommand. */
export interface ControlTarget {
  readonly lab?: string;
  readonly provider?: string;
  readonly control?: string;
  readonly tokenFile?: string;
}

async function controlUrl(t: ControlTarget): Promise<string> {
  if (t.control !== undefined) {
    if (t.lab !== undefined || t.provider !== undefined) throw new UsageError('--control goes without --lab and --provider');
    return t.control.replace(/\/$/, '');
  }
  if (t.lab === undefined) throw new UsageError('say which agent: --lab DIR --provider LABEL, or --control URL');
  if (t.provider === undefined) throw new UsageError('--lab needs --provider LABEL');
  let json: LabJson;
  const file = join(t.lab, 'lab.json');
  try {
    json = JSON.parse(await readFile(file, 'utf8')) as LabJson;
  } catch (e) {
    throw new UsageError(`--lab ${t.lab}: cannot read ${file} (${e instanceof Error ? e.message : String(e)}): is a lab running there?`);
  }
  const p = json.providers.find((x) => x.label === t.provider);
  if (p === undefined) throw new UsageError(`--provider ${t.provider}: the lab has ${json.providers.map((x) => x.label).join(', ')}`);
  return p.control;
}

interface PeerRow {
  label: string;
  identity: string;
  state: string;
  since: string;
}

function peersTable(rows: readonly PeerRow[]): string {
  if (rows.length === 0) return 'no peers\n';
  const head = ['LABEL', 'IDENTITY', 'STATE', 'SINCE'];
  const cells = rows.map((r) => [r.label, r.identity, r.state, r.since]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (r: readonly string[]): string => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return `${[head, ...cells].map(line).join('\n')}\n`;
}

/** Runs `peers` or `zones` against the agent that `target` names. */
export function controlCommand(sub: 'peers' | 'zones', target: ControlTarget, argv: string[]): Promise<number> {
  return runCommand({ name: 'ctl', usage: CONTROL_USAGE, options: { json: { type: 'boolean', default: false } } }, argv, async ({ values }) => {
    const base = await controlUrl(target);
    const headers: Record<string, string> = {};
    if (target.tokenFile !== undefined) headers['authorization'] = `Bearer ${(await readFile(target.tokenFile, 'utf8')).trim()}`;
    let body: unknown;
    try {
      const r = await fetch(`${base}/${sub}`, { headers, signal: AbortSignal.timeout(5000) });
      if (!r.ok) {
        complain('ctl', `${base}/${sub}: HTTP ${r.status}`);
        return 1;
      }
      body = await r.json();
    } catch (e) {
      complain('ctl', `${base}/${sub}: ${e instanceof Error ? e.message : String(e)}`);
      return 1;
    }
    if (sub === 'peers') {
      const rows = (body as PeerRow[]).map((p) => ({ label: p.label, identity: p.identity, state: p.state, since: p.since }));
      process.stdout.write(values.json ? `${JSON.stringify(rows)}\n` : peersTable(rows));
    } else {
      process.stdout.write(`${JSON.stringify(body, null, values.json ? undefined : 2)}\n`);
    }
    return 0;
  });
}
