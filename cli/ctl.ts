// `mpdns ctl`: management and inspection. `ctl machines ZONE` lists the zone's persisted machines
// (state value, context, pending deadlines) from the KV bucket, so it works whether the actor
// processes run or died.
//
// Read-only: buckets are opened, never created. Exit 0 success, 1 failure (no server, no
// JetStream, unreadable records), 2 bad usage.
import { BucketNotFoundError, InvalidNameError, JetStreamNotEnabledError } from '../broker/errors.ts';
import { createJetStreamBroker } from '../broker/jetstream.ts';
import { checkName } from '../broker/subjects.ts';
import { listZoneMachines, type MachineView } from '../actors/host.ts';
import { NameError } from '../dns/errors.ts';
import { parseUserName, type Fqdn } from '../dns/name.ts';
import { runCommand } from './args.ts';
import { CONTROL_USAGE, controlCommand } from './ctl-control.ts';
import { IDENTITY_USAGE, identityCommand } from './ctl-identity.ts';
import { complain, usageFailure, UsageError } from './errors.ts';

const USAGE = `usage: mpdns ctl machines ZONE [--json] [--nats URL] [--prefix NAMESPACE] [--bucket NAME]

  machines ZONE   list every machine of ZONE with its state, context and pending deadlines
  --json          one JSON object { zone, machines: [...] } instead of a table
  --nats URL      NATS server (default $MPDNS_NATS_URL or nats://127.0.0.1:4222)
  --prefix NS     provider namespace of subjects and buckets (default mpdns)
  --bucket NAME   KV bucket of machine snapshots (default machines)
`;

const CONNECT_TIMEOUT_MS = 5000;
const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

/** Why `text` is not a NATS server URL (`nats://` or `tls://`, a host, an optional port), or undefined. */
/**
 * The NATS URL from `--nats`, else from $MPDNS_NATS_URL (empty counts as unset; an empty
 * --nats is a usage error); undefined when neither is given.
 */
export function natsUrlFrom(flag: string | undefined): string | undefined {
  const env = process.env['MPDNS_NATS_URL'];
  const fromEnv = flag === undefined && env !== undefined && env !== '' ? env : undefined;
  const url = flag ?? fromEnv;
  if (url === undefined) return undefined;
  const problem = natsUrlProblem(url);
  if (problem !== undefined) throw new UsageError(`${fromEnv !== undefined ? '$MPDNS_NATS_URL' : '--nats'} "${url}": ${problem} (expected nats://HOST[:PORT])`);
  return url;
}

export function natsUrlProblem(text: string): string | undefined {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return 'not a URL';
  }
  if (u.protocol !== 'nats:' && u.protocol !== 'tls:') return `scheme "${u.protocol}" is not nats: or tls:`;
  if (u.hostname === '') return 'no host';
  if ((u.pathname !== '' && u.pathname !== '/') || u.search !== '' || u.hash !== '') return 'a server URL has no path, query or fragment';
  return undefined;
}

/** Labels of a zone ctl accepts: letters, digits, '-', '_' (and '/' of RFC 2317 reverse zones). */
const ZONE_TEXT = /^(?:\.|(?:[a-z0-9_/-]+\.)+)$/;

/** The zone as an absolute, lower-case name, or why it is not one. */
export function parseZone(text: string): { zone: Fqdn } | { problem: string } {
  if (text === '') return { problem: 'empty zone name' };
  let zone: Fqdn;
  try {
    zone = parseUserName(text);
  } catch (err) {
    if (err instanceof NameError) return { problem: err.message };
    throw err;
  }
  return ZONE_TEXT.test(zone) ? { zone } : { problem: `not a zone name (labels of letters, digits, '-', '_', '/'): "${text}"` };
}

function showValue(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function showDeadlines(d: Record<string, number>, now: number): string {
  const parts = Object.entries(d).map(([id, at]) => {
    const s = Math.round((at - now) / 1000);
    return `${id}=${new Date(at).toISOString()} (${s >= 0 ? `in ${s}s` : `${-s}s overdue`})`;
  });
  return parts.length === 0 ? '-' : parts.join(', ');
}

export function formatMachines(zone: string, machines: readonly MachineView[], now = Date.now()): string {
  if (machines.length === 0) return `no machines persisted for ${zone}\n`;
  const rows = machines.map((m) => [m.machineId, m.kind, showValue(m.value), String(m.status), showDeadlines(m.deadlines, now), new Date(m.updatedAt).toISOString(), m.writer, String(m.revision)]);
  const head = ['MACHINE', 'KIND', 'STATE', 'STATUS', 'DEADLINES', 'UPDATED', 'WRITER', 'REV'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  let out = `zone ${zone}\n${line(head)}\n`;
  for (const r of rows) out += `${line(r)}\n`;
  for (const m of machines) out += `\n${m.machineId} context: ${JSON.stringify(m.context, null, 2)}\n`;
  return out;
}

const FLAGS = {
  json: { type: 'boolean', default: false },
  nats: { type: 'string' },
  prefix: { type: 'string', default: 'mpdns' },
  bucket: { type: 'string', default: 'machines' },
} as const;

function machines(argv: string[]): Promise<number> {
  return runCommand({ name: 'ctl', usage: USAGE, options: FLAGS, positionals: true }, argv, ({ values, positionals }) => {
    const zoneText = positionals[0];
    if (zoneText === undefined || positionals.length !== 1) throw new UsageError('machines takes exactly one ZONE');
    const parsedZone = parseZone(zoneText);
    if ('problem' in parsedZone) throw new UsageError(`ZONE: ${parsedZone.problem}`);
    for (const [flag, kind, value] of [['--prefix', 'namespace', values.prefix], ['--bucket', 'bucket', values.bucket]] as const) {
      try {
        checkName(kind, value);
      } catch (err) {
        if (err instanceof InvalidNameError) throw new UsageError(`${flag}: ${err.message} (expected [a-z0-9][a-z0-9-]{0,31})`);
        throw err;
      }
    }
    return listMachines(natsUrlFrom(values.nats) ?? DEFAULT_NATS_URL, parsedZone.zone, values.prefix, values.bucket, values.json);
  });
}

/** The URL as messages show it: a password is not echoed. */
function shownUrl(url: string): string {
  const u = new URL(url);
  if (u.password !== '') u.password = '***';
  return u.href;
}

async function listMachines(serverUrl: string, zone: Fqdn, prefix: string, bucket: string, json: boolean): Promise<number> {
  const url = shownUrl(serverUrl);
  const timer = setTimeout(() => {
    complain('ctl', `no NATS server answered at ${url} within ${CONNECT_TIMEOUT_MS} ms`);
    process.exit(1);
  }, CONNECT_TIMEOUT_MS);
  let broker;
  try {
    broker = await createJetStreamBroker({ servers: serverUrl, namespace: prefix, name: 'mpdns-ctl' });
  } catch (err) {
    if (err instanceof JetStreamNotEnabledError) complain('ctl', `NATS at ${url} has no JetStream (start nats-server with -js)`);
    else complain('ctl', `NATS at ${url}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    clearTimeout(timer);
  }
  try {
    let list: MachineView[] = [];
    let unreadable = 0;
    try {
      const kv = await broker.kv(bucket, { create: false });
      list = await listZoneMachines(kv, zone, (err) => {
        unreadable++;
        complain('ctl', `unreadable record: ${err.message}${err.cause instanceof Error ? `: ${err.cause.message}` : ''}`);
      });
    } catch (err) {
      if (!(err instanceof BucketNotFoundError)) throw err;
      complain('ctl', `no KV bucket ${err.bucket} at ${url}: nothing persisted there`);
    }
    process.stdout.write(json ? `${JSON.stringify({ zone, machines: list })}\n` : formatMachines(zone, list));
    if (unreadable > 0) complain('ctl', `${unreadable} machine record(s) of ${zone} could not be read`);
    return unreadable > 0 ? 1 : 0;
  } catch (err) {
    complain('ctl', err instanceof Error ? err.message : String(err));
    return 1;
  } finally {
    await broker.close();
  }
}

const GLOBAL = new Map([
  ['--lab', 'lab'],
  ['--provider', 'provider'],
  ['--control', 'control'],
  ['--token-file', 'tokenFile'],
] as const);

export async function run(argv: string[]): Promise<number> {
  // Options naming the agent come before the subcommand: mpdns ctl --lab DIR --provider L peers.
  const target: Record<string, string> = {};
  let i = 0;
  for (; i < argv.length; i += 2) {
    const key = GLOBAL.get(argv[i] as never);
    if (key === undefined) break;
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) return usageFailure('ctl', new UsageError(`${argv[i] ?? ''} needs a value`));
    target[key] = value;
  }
  const [sub, ...rest] = argv.slice(i);
  switch (sub) {
    case 'machines':
      if (i > 0) return usageFailure('ctl', new UsageError('machines reads the broker: --lab, --provider and --control do not apply'));
      return machines(rest);
    case 'peers':
    case 'zones':
      return controlCommand(sub, target, rest);
    case 'identity-records':
      if (i > 0) return usageFailure('ctl', new UsageError('identity-records prints records: --lab, --provider and --control do not apply'));
      return identityCommand(rest);
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n${CONTROL_USAGE}\n${IDENTITY_USAGE}`);
      return sub === undefined ? 2 : 0;
    default:
      return usageFailure('ctl', new UsageError(`unknown subcommand "${sub}"`));
  }
}
