// `mpdns ctl`: management and inspection. `ctl machines ZONE` lists the zone's persisted machines
// (state value, context, pending deadlines) from the KV bucket, so it works whether the actor
// processes run or died.
import { parseArgs } from 'node:util';
import { createJetStreamBroker } from '../broker/jetstream.ts';
import { listZoneMachines, type MachineView } from '../actors/host.ts';

const USAGE = `usage: mpdns ctl machines ZONE [--json] [--nats URL] [--prefix NAMESPACE] [--bucket NAME]

  machines ZONE   list every machine of ZONE with its state, context and pending deadlines
  --json          one JSON object { zone, machines: [...] } instead of a table
  --nats URL      NATS server (default $MPDNS_NATS_URL or nats://127.0.0.1:4222)
  --prefix NS     provider namespace of subjects and buckets (default mpdns)
  --bucket NAME   KV bucket of machine snapshots (default machines)
`;

const CONNECT_TIMEOUT_MS = 5000;

function fail(msg: string): number {
  process.stderr.write(`mpdns ctl: ${msg}\n`);
  return 2;
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

async function machines(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        nats: { type: 'string' },
        prefix: { type: 'string', default: 'mpdns' },
        bucket: { type: 'string', default: 'machines' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const zone = positionals[0];
  if (zone === undefined || positionals.length !== 1) return fail('machines takes exactly one ZONE (try mpdns ctl --help)');
  const url = values.nats ?? process.env['MPDNS_NATS_URL'] ?? 'nats://127.0.0.1:4222';
  const timer = setTimeout(() => {
    process.stderr.write(`mpdns ctl: no NATS server answered at ${url} within ${CONNECT_TIMEOUT_MS} ms\n`);
    process.exit(1);
  }, CONNECT_TIMEOUT_MS);
  const broker = await createJetStreamBroker({ servers: url, namespace: values.prefix, name: 'mpdns-ctl' });
  clearTimeout(timer);
  try {
    const kv = await broker.kv(values.bucket);
    const list = await listZoneMachines(kv, zone);
    const canonical = zone.toLowerCase().endsWith('.') ? zone.toLowerCase() : `${zone.toLowerCase()}.`;
    process.stdout.write(values.json ? `${JSON.stringify({ zone: canonical, machines: list })}\n` : formatMachines(canonical, list));
    return 0;
  } finally {
    await broker.close();
  }
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'machines':
      return machines(rest);
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return sub === undefined ? 2 : 0;
    default:
      return fail(`unknown subcommand "${sub}" (try mpdns ctl --help)`);
  }
}
