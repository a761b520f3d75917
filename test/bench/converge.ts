// bench:converge — how fast an owner's edit reaches every provider's nameserver, against plain
// NSD servers in the same topology, and how the lab starts with many zones.
//
// 1. In `mpdns lab --nats URL --processes` (its own nats-server, every role its own process),
//    after the lab converged: N owner edits one after the other (a TXT record at the apex
//    changes and the SOA serial rises; zone file rewrite + SIGHUP to the owner's primary); for
//    each, the time from the SIGHUP until every provider's nameserver serves the new TXT (each
//    polled every 5 ms over UDP). p50/p95: convergeP50Ms, convergeP95Ms. The same with the lab in
//    one process (embedded broker): convergeInProcessP50Ms.
// 2. The floor, same run: NSD only, the same depth — an NSD primary for the owner's zone and per
//    provider an NSD "combiner" secondary and an NSD "nameserver" secondary of it, NOTIFY down
//    the chain (xfrd-reload-timeout 0: NSD's default waits up to 1 s between reloads). The same
//    N edits (zone file rewrite + SIGHUP to the primary). floorP50Ms, floorP95Ms, and
//    convergeRatio = convergeP50Ms / floorP50Ms (requirement <= 3).
// 3. Cold start: a lab (--processes) with Z zones (default 1000), each listing alpha, bravo and
//    echo; from startLab until every zone has converged (the `converged()` condition, checked
//    for every zone with one /zones read per provider and poll round: each listed provider's
//    contribution served and confirmed by the others, and the expected NS RRset at its
//    nameserver). coldStartMs (coldStart1000Ms when Z = 1000), peak RSS of every process
//    (VmHWM, sampled every second, so restarted roles count too) and CPU time per role.
// `--json` ends with one JSON object.
import { readdir, readFile, utimes, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { expectedNs } from '../../actors/lab/converged.ts';
import {
  DEFAULT_LAB,
  ownerZoneText,
  startLab,
  type Lab,
  type LabConfig,
  type LabJson,
  type LabZone,
} from '../../actors/lab/lab.ts';
import { parseName, type Fqdn } from '../../dns/name.ts';
import { query } from '../../dns/net/client.ts';
import { parseHostPort, type Peer } from '../../dns/net/transport.ts';
import { decodeRdata } from '../../dns/rdata/codec.ts';
import { Rcode, RRType } from '../../dns/types.ts';
import {
  argValue,
  log,
  numberArg,
  printJson,
  printTable,
  round3,
  wantsJson,
} from '../support/bench.ts';
import { startDaemon, type Daemon } from '../support/daemon.ts';
import { startNatsServer } from '../support/nats.ts';
import { pollUntil } from '../support/poll.ts';
import { freePort } from '../support/ports.ts';
import { tmpDir } from '../support/tmp.ts';

const json = wantsJson();
const EDITS = numberArg('--edits', 20);
const ZONES = numberArg('--zones', 1000);
const COLD_TIMEOUT_S = numberArg('--cold-timeout', 240);
const SKIP_COLD = process.argv.includes('--skip-cold');
const ONLY_COLD = process.argv.includes('--only-cold');
const POLL_MS = 5;
const NSD = argValue('--nsd') ?? '/usr/sbin/nsd';
const ZONE = DEFAULT_LAB.zones[0] as LabZone;
const ZONE_NAME = parseName(ZONE.name);

const pct = (xs: readonly number[], p: number): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? null;
};
const fmt = (v: number | null | undefined, digits = 0): string =>
  v === null || v === undefined ? '—' : v.toFixed(digits);

/** The apex TXT strings a server answers (empty on any failure). */
async function txtAt(server: Peer, zone: Fqdn): Promise<string[]> {
  try {
    const r = await query(server, zone, RRType.TXT, { timeoutMs: 250, attempts: 1 });
    if (r.message.rcode !== Rcode.NOERROR) return [];
    return r.message.answer
      .filter((rr) => rr.type === RRType.TXT)
      .map((rr) => Buffer.from(rr.rdata).toString('latin1'));
  } catch {
    return [];
  }
}

/** Resolves with ms from `t0` when every server answers a TXT containing `mark`; polls each every POLL_MS. */
async function allServe(
  servers: readonly Peer[],
  zone: Fqdn,
  mark: string,
  t0: number,
  timeoutMs = 30_000,
): Promise<number> {
  const done = await Promise.all(
    servers.map(async (s) => {
      for (;;) {
        if ((await txtAt(s, zone)).some((t) => t.includes(mark))) return performance.now() - t0;
        if (performance.now() - t0 > timeoutMs)
          throw new Error(`${s.address}:${s.port} did not serve ${mark} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    }),
  );
  return Math.max(...done);
}

/** N edits: write(serial, mark), then publish(); each resolves with ms until every server serves it. */
async function editRounds(
  what: string,
  servers: readonly Peer[],
  zone: Fqdn,
  write: (serial: number, mark: string) => Promise<void>,
  publish: () => void,
  firstSerial: number,
): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < EDITS; i++) {
    const mark = `edit-${i}-${Date.now()}`;
    await write(firstSerial + i, mark);
    const t0 = performance.now();
    publish();
    times.push(await allServe(servers, zone, mark, t0));
    log(`${what} edit ${i + 1}/${EDITS}: ${times[times.length - 1]?.toFixed(1)} ms`);
    // A short gap so that one edit's tail (NOTIFY retries, IXFR of the combined zone) does not
    // overlap the next SIGHUP.
    await new Promise((r) => setTimeout(r, 50));
  }
  return times;
}

/**
 * NATS for startLab with new namespaces at every call: startLab starts again from the beginning
 * (new keys, new ports) when a port was taken meanwhile, and on the same namespaces the failed
 * attempt's queued messages (sealed with its keys) and peer directory would still be there.
 */
function freshNamespaces(url: string): (label: string) => { url: string; namespace: string } {
  let n = 0;
  return (label) => ({
    url,
    namespace: `${label}-${Math.floor(n++ / DEFAULT_LAB.providers.length)}`,
  });
}

/** Owner edits in the lab; processes: on its own nats-server with every role a process. */
async function labEdits(processes: boolean): Promise<{ times: number[]; validating: boolean }> {
  const config: LabConfig = DEFAULT_LAB;
  const dir = await tmpDir('mpdns-bench-converge-');
  const nats = processes ? await startNatsServer() : undefined;
  let lab: Lab | undefined;
  try {
    lab = await startLab({
      dir: dir.path,
      config,
      beatSeconds: 1,
      logger: pino({ level: 'silent' }),
      progress: (l) => log(`  ${l}`),
      ...(nats !== undefined ? { natsFor: freshNamespaces(nats.url), processes: true } : {}),
    });
    const running = lab;
    const t0 = performance.now();
    let why = '';
    await pollUntil(
      'lab converged',
      () =>
        convergedAll(config, running.json).then((r) => {
          why = [...r.why].map(([k, v]) => `${k}: ${v}`).join(', ');
          return r.pending === 0;
        }),
      { timeoutMs: 120_000, intervalMs: 100 },
    ).catch((e: unknown) => {
      throw new Error(`${e instanceof Error ? e.message : String(e)} (${why})`);
    });
    log(
      `lab${processes ? ' --processes' : ''} converged ${(performance.now() - t0).toFixed(0)} ms after startLab returned`,
    );
    const file = running.json.owner.zones[ZONE_NAME] ?? '';
    const servers = running.json.providers.map((p) => parseHostPort(p.nameserver));
    const times = await editRounds(
      processes ? 'lab --processes' : 'lab in one process',
      servers,
      ZONE_NAME,
      (serial, mark) =>
        writeFile(
          file,
          `${ownerZoneText(ZONE, config.providers, serial)}${ZONE_NAME} 300 IN TXT "${mark}"\n`,
        ),
      () => process.kill(running.json.owner.pid, 'SIGHUP'),
      2,
    );
    return { times, validating: running.json.resolver.validating };
  } finally {
    await lab?.stop();
    await nats?.stop();
    await dir.remove();
  }
}

/** The same topology of plain NSD servers: primary → per provider combiner → nameserver. */
async function floorEdits(): Promise<number[]> {
  const dir = await tmpDir('mpdns-bench-nsd-');
  const daemons: Daemon[] = [];
  const zoneText = (serial: number, mark: string): string =>
    `${ownerZoneText(
      ZONE,
      DEFAULT_LAB.providers.map((p) => p),
      serial,
    )
      .split('\n')
      .filter((l) => !/ IN HSYNC/.test(l))
      .join('\n')}${ZONE_NAME} 300 IN TXT "${mark}"\n`;
  const conf = (name: string, port: number, zone: string): string => `server:
  ip-address: 127.0.0.1@${port}
  do-ip6: no
  server-count: 1
  username: ""
  chroot: ""
  zonesdir: "${dir.path}/${name}"
  xfrdfile: "${dir.path}/${name}/xfrd.state"
  xfrdir: "${dir.path}/${name}"
  zonelistfile: "${dir.path}/${name}/zone.list"
  database: ""
  pidfile: "${dir.path}/${name}/nsd.pid"
  zonefiles-write: 0
  xfrd-reload-timeout: 0
  verbosity: 1
remote-control:
  control-enable: no
zone:
  name: ${ZONE_NAME}
  zonefile: "${dir.path}/${name}/zone"
${zone}`;
  try {
    const primaryPort = await freePort();
    const chains: { combiner: number; nameserver: number }[] = [];
    for (let i = 0; i < DEFAULT_LAB.providers.length; i++)
      chains.push({ combiner: await freePort(), nameserver: await freePort() });
    const start = async (name: string, port: number, zone: string): Promise<void> => {
      await mkdir(join(dir.path, name));
      await writeFile(join(dir.path, name, 'nsd.conf'), conf(name, port, zone));
      daemons.push(startDaemon(`nsd ${name}`, NSD, ['-d', '-c', join(dir.path, name, 'nsd.conf')]));
    };
    const primaryFile = join(dir.path, 'primary', 'zone');
    await mkdir(join(dir.path, 'primary'));
    await writeFile(primaryFile, zoneText(1, 'edit-initial'));
    await writeFile(
      join(dir.path, 'primary', 'nsd.conf'),
      conf(
        'primary',
        primaryPort,
        `  provide-xfr: 127.0.0.1 NOKEY\n${chains.map((c) => `  notify: 127.0.0.1@${c.combiner} NOKEY\n`).join('')}`,
      ),
    );
    const primary = startDaemon('nsd primary', NSD, [
      '-d',
      '-c',
      join(dir.path, 'primary', 'nsd.conf'),
    ]);
    daemons.push(primary);
    for (const [i, c] of chains.entries()) {
      await start(
        `combiner${i}`,
        c.combiner,
        `  request-xfr: 127.0.0.1@${primaryPort} NOKEY\n  allow-notify: 127.0.0.1 NOKEY\n  provide-xfr: 127.0.0.1 NOKEY\n  notify: 127.0.0.1@${c.nameserver} NOKEY\n`,
      );
      await start(
        `nameserver${i}`,
        c.nameserver,
        `  request-xfr: 127.0.0.1@${c.combiner} NOKEY\n  allow-notify: 127.0.0.1 NOKEY\n`,
      );
    }
    const leaves = chains.map((c) => ({ address: '127.0.0.1', port: c.nameserver }));
    await pollUntil(
      'every NSD leaf serves the zone',
      async () => {
        for (const d of daemons)
          if (d.proc.exitCode !== null)
            throw new Error(`${d.name} exited: ${d.output().slice(-500)}`);
        return (await Promise.all(leaves.map((l) => txtAt(l, ZONE_NAME)))).every((t) =>
          t.some((x) => x.includes('edit-initial')),
        );
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    // NSD notices a changed zone file by its mtime: set it one second further each time.
    let mtime = Math.floor(Date.now() / 1000) + 1;
    return await editRounds(
      'NSD floor',
      leaves,
      ZONE_NAME,
      async (serial, mark) => {
        await writeFile(primaryFile, zoneText(serial, mark));
        await utimes(primaryFile, mtime, mtime++);
      },
      () => primary.proc.kill('SIGHUP'),
      2,
    );
  } finally {
    for (const d of daemons.reverse()) await d.stop();
    await dir.remove();
  }
}

interface ZoneRow {
  readonly zone: string;
  readonly contribution?: {
    readonly local: string;
    readonly deliveries: readonly { readonly peer: string; readonly status: string }[];
  };
}

/**
 * converged() for every zone at once: per provider one /zones read, then the NS RRset at its
 * nameserver for every zone whose contribution is served and confirmed (32 queries in flight).
 */
async function convergedAll(
  config: LabConfig,
  labJson: LabJson,
  pending?: Set<string>,
): Promise<{ pending: number; why: Map<string, number> }> {
  const why = new Map<string, number>();
  const because = (r: string): void => void why.set(r, (why.get(r) ?? 0) + 1);
  const want = expectedNs(config);
  const todo =
    pending ??
    new Set(config.zones.flatMap((z) => z.hsync.map((l) => `${parseName(z.name)} ${l}`)));
  const rowsOf = new Map<string, Map<string, ZoneRow>>();
  for (const p of labJson.providers) {
    const rows = (await fetch(`${p.control}/zones`, { signal: AbortSignal.timeout(20_000) })
      .then((r) => r.json())
      .catch(() => [])) as ZoneRow[];
    rowsOf.set(p.label, new Map(rows.map((r) => [r.zone, r])));
  }
  const candidates: [string, string, string][] = [];
  for (const key of todo) {
    const [zone = '', label = ''] = key.split(' ');
    const z = config.zones.find((c) => parseName(c.name) === zone);
    const listed = labJson.providers.filter((x) => z?.hsync.includes(x.label) === true);
    const c = rowsOf.get(label)?.get(zone)?.contribution;
    if (c?.local !== 'served') {
      because(`${label} contribution ${c?.local ?? 'absent'}`);
      continue;
    }
    const unconfirmed = listed.filter(
      (q) =>
        q.label !== label &&
        !c.deliveries.some((d) => d.peer === q.identity && d.status === 'SUCCESS'),
    );
    if (unconfirmed.length > 0) {
      for (const q of unconfirmed)
        because(
          `${label}→${q.label} delivery ${c.deliveries.find((d) => d.peer === q.identity)?.status ?? 'absent'}`,
        );
      continue;
    }
    candidates.push([
      key,
      zone,
      labJson.providers.find((x) => x.label === label)?.nameserver ?? '',
    ]);
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      for (let i = next++; i < candidates.length; i = next++) {
        const [key, zone, ns] = candidates[i] as [string, string, string];
        const r = await query(parseHostPort(ns), zone as Fqdn, RRType.NS, {
          timeoutMs: 1000,
          attempts: 1,
        }).catch(() => undefined);
        const names =
          r?.message.rcode === Rcode.NOERROR
            ? r.message.answer
                .filter((rr) => rr.type === RRType.NS)
                .map((rr) => decodeRdata('NS', rr.rdata).host)
                .sort()
            : [];
        if (names.join(' ') === (want.get(zone as Fqdn) ?? []).join(' ')) todo.delete(key);
        else
          because(
            `${key.split(' ')[1] ?? ''} nameserver NS ${names.length === 0 ? 'none' : 'differs'}`,
          );
      }
    }),
  );
  return { pending: todo.size, why };
}

interface ProcInfo {
  role: string;
  hwmKB: number;
  cpuTicks: number;
}

/** Every descendant of this process: its role (from its command line), VmHWM and CPU ticks. */
async function descendants(): Promise<Map<number, ProcInfo>> {
  const parent = new Map<number, number>();
  const stats = new Map<number, string>();
  for (const e of await readdir('/proc')) {
    if (!/^[0-9]+$/.test(e)) continue;
    const stat = await readFile(`/proc/${e}/stat`, 'utf8').catch(() => '');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    parent.set(Number(e), Number(rest[1]));
    stats.set(Number(e), stat);
  }
  const mine = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p))
      if (p === process.pid) return true;
    return false;
  };
  const out = new Map<number, ProcInfo>();
  for (const [pid, stat] of stats) {
    if (!mine(pid)) continue;
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuTicks = Number(rest[11]) + Number(rest[12]);
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    const hwmKB = Number(/VmHWM:\s+([0-9]+)/.exec(status)?.[1] ?? 0);
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    out.set(pid, { role: roleOf(argv), hwmKB, cpuTicks });
  }
  return out;
}

function roleOf(argv: readonly string[]): string {
  const cmd = argv.join(' ');
  if (cmd.includes('nats-server')) return 'nats-server';
  if (cmd.includes('unbound')) return 'unbound';
  const label = /\/([a-z]+)\/provider\.yaml/.exec(cmd)?.[1];
  for (const r of ['agent', 'gateway', 'combiner'])
    if (argv.includes(r)) return `${label ?? '?'} ${r}`;
  if (argv.includes('serve') && argv.includes('--secondary')) return 'nameserver';
  if (argv.includes('serve')) return 'owner primary';
  return argv.slice(0, 3).join(' ');
}

/** Per provider: message counters from /metrics and the most frequent log messages of each role. */
async function labDiagnostics(lab: Lab): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const wanted =
    /^mpdns_(messages_sent|messages_received|send_retries|syncs_confirmed|syncs_received|gateway_messages|combiner_versions)_total/;
  for (const p of lab.json.providers) {
    const metrics: string[] = [];
    for (const url of [p.metrics, p.gatewayMetrics]) {
      if (url === undefined) continue;
      const text = await fetch(url, { signal: AbortSignal.timeout(10_000) })
        .then((r) => r.text())
        .catch(() => '');
      metrics.push(...text.split('\n').filter((l) => wanted.test(l)));
    }
    const logs: Record<string, [string, number][]> = {};
    for (const role of ['agent', 'gateway', 'combiner', 'nameserver']) {
      const counts = new Map<string, number>();
      const text = await readFile(join(lab.dir, p.label, `${role}.log`), 'utf8').catch(() => '');
      for (const line of text.split('\n')) {
        if (line === '') continue;
        let msg = line.slice(0, 80);
        try {
          const o = JSON.parse(line) as { msg?: string; level?: number };
          msg = `${o.level ?? ''} ${o.msg ?? ''}`;
        } catch {
          // not JSON
        }
        counts.set(msg, (counts.get(msg) ?? 0) + 1);
      }
      logs[role] = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 6);
    }
    out[p.label] = { metrics, logs };
  }
  return out;
}

interface Cold {
  zones: number;
  ms: number | null;
  reason?: string;
  pendingAtEnd: number;
  /** Per provider: the agent's and gateway's message counters and their most frequent log lines. */
  diagnostics: Record<string, unknown>;
  /** Cold starts tried (a startLab that failed on EADDRINUSE three times is tried again). */
  attempts?: number;
  /** [seconds since startLab, zone×provider pairs pending], every 5 s or so. */
  progress: [number, number][];
  startLabMs: number;
  peakRssMB: number;
  peakRole: string;
  roles: { role: string; pid: number; peakMB: number; cpuS: number }[];
}

async function coldStart(zones: number): Promise<Cold> {
  const providers = DEFAULT_LAB.providers;
  const width = String(zones).length;
  const config: LabConfig = {
    providers,
    zones: Array.from({ length: zones }, (_, i) => ({
      ...ZONE,
      name: `z${String(i).padStart(width, '0')}.customer.`,
    })),
  };
  const dir = await tmpDir('mpdns-bench-cold-');
  const nats = await startNatsServer();
  const seen = new Map<number, ProcInfo>();
  const sample = async (): Promise<void> => {
    for (const [pid, p] of await descendants()) {
      const old = seen.get(pid);
      seen.set(pid, {
        role: p.role,
        hwmKB: Math.max(p.hwmKB, old?.hwmKB ?? 0),
        cpuTicks: Math.max(p.cpuTicks, old?.cpuTicks ?? 0),
      });
    }
  };
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      await sample().catch(() => {});
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  let lab: Lab | undefined;
  const t0 = performance.now();
  let ms: number | null = null;
  let reason: string | undefined;
  let pending = zones * 3;
  let startLabMs = 0;
  let why = '';
  let diagnostics: Record<string, unknown> = {};
  const progress: [number, number][] = [];
  try {
    lab = await startLab({
      dir: dir.path,
      config,
      logger: pino({ level: 'silent' }),
      natsFor: freshNamespaces(nats.url),
      processes: true,
      progress: (l) => log(`  ${((performance.now() - t0) / 1000).toFixed(1)} s: ${l}`),
    });
    startLabMs = performance.now() - t0;
    log(`cold start: startLab returned after ${(startLabMs / 1000).toFixed(1)} s`);
    const todo = new Set(
      config.zones.flatMap((z) => z.hsync.map((l) => `${parseName(z.name)} ${l}`)),
    );
    const deadline = t0 + COLD_TIMEOUT_S * 1000;
    let lastLog = 0;
    for (;;) {
      const r = await convergedAll(config, lab.json, todo);
      pending = r.pending;
      why = [...r.why].map(([k, v]) => `${k}: ${v}`).join(', ');
      if (pending === 0) {
        ms = performance.now() - t0;
        break;
      }
      if (performance.now() > deadline) {
        reason = `not converged after ${COLD_TIMEOUT_S} s: ${pending} of ${zones * 3} zone×provider pairs pending (${why})`;
        break;
      }
      if (performance.now() - lastLog > 5000) {
        lastLog = performance.now();
        progress.push([Math.round((performance.now() - t0) / 1000), pending]);
        log(
          `  ${((performance.now() - t0) / 1000).toFixed(1)} s: ${pending} of ${zones * 3} zone×provider pairs pending (${why})`,
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    diagnostics = await labDiagnostics(lab);
  } catch (e) {
    reason = `startLab failed: ${e instanceof Error ? e.message.slice(0, 300) : String(e)}`;
  } finally {
    sampling = false;
    await sampler;
    await sample().catch(() => {});
    await lab?.stop();
    await nats.stop();
    await dir.remove();
  }
  const tick = 100; // USER_HZ
  const known = /^(nats-server|unbound|owner primary|nameserver|[a-z?]+ (agent|gateway|combiner))$/;
  const roles = [...seen.entries()]
    .filter(([, p]) => known.test(p.role))
    .map(([pid, p]) => ({
      role: p.role,
      pid,
      peakMB: Math.round(p.hwmKB / 1024),
      cpuS: Math.round((p.cpuTicks / tick) * 10) / 10,
    }))
    .sort((a, b) => b.cpuS - a.cpuS);
  const mpdnsRoles = roles.filter((r) => !['nats-server', 'unbound'].includes(r.role));
  const peak = mpdnsRoles.reduce((a, b) => (b.peakMB > a.peakMB ? b : a), {
    role: '—',
    pid: 0,
    peakMB: 0,
    cpuS: 0,
  });
  return {
    zones,
    ms,
    progress,
    diagnostics,
    ...(reason !== undefined ? { reason } : {}),
    pendingAtEnd: pending,
    startLabMs: Math.round(startLabMs),
    peakRssMB: peak.peakMB,
    peakRole: peak.role,
    roles,
  };
}

let lab: { times: number[]; validating: boolean } | undefined;
let inProcess: { times: number[]; validating: boolean } | undefined;
let floor: number[] = [];
if (!ONLY_COLD) {
  log('lab --nats --processes: owner edits');
  lab = await labEdits(true);
  log('NSD floor: the same edits');
  floor = await floorEdits();
  log('lab in one process (embedded broker): the same edits');
  inProcess = await labEdits(false);
}
let cold: Cold | undefined;
if (!SKIP_COLD) {
  // With many zones startLab can fail on a port taken between picking and binding (it tries
  // three times itself); then the whole cold start is tried again, at most three times.
  for (let attempt = 1; attempt <= 3; attempt++) {
    log(
      `cold start: lab --processes with ${ZONES} zones${attempt > 1 ? ` (attempt ${attempt})` : ''}`,
    );
    cold = await coldStart(ZONES);
    cold.attempts = attempt;
    if (!(cold.reason ?? '').includes('EADDRINUSE')) break;
  }
}

const convergeP50Ms = pct(lab?.times ?? [], 50);
const convergeP95Ms = pct(lab?.times ?? [], 95);
const floorP50Ms = pct(floor, 50);
const floorP95Ms = pct(floor, 95);
const convergeRatio =
  convergeP50Ms !== null && floorP50Ms !== null ? convergeP50Ms / floorP50Ms : null;
const rows: string[][] = [
  ['measure', 'p50 ms', 'p95 ms', 'max ms'],
  [
    `lab --nats --processes: SIGHUP → new TXT at all 3 nameservers${lab?.validating === false ? ' (INSECURE)' : ''}`,
    fmt(convergeP50Ms, 1),
    fmt(convergeP95Ms, 1),
    fmt(pct(lab?.times ?? [], 100), 1),
  ],
  [
    'lab in one process (embedded broker): the same',
    fmt(pct(inProcess?.times ?? [], 50), 1),
    fmt(pct(inProcess?.times ?? [], 95), 1),
    fmt(pct(inProcess?.times ?? [], 100), 1),
  ],
  [
    'NSD floor: primary → combiner → nameserver ×3',
    fmt(floorP50Ms, 1),
    fmt(floorP95Ms, 1),
    fmt(pct(floor, 100), 1),
  ],
  ['convergeRatio = lab p50 / NSD p50 (requirement <= 3)', fmt(convergeRatio, 2), '', ''],
];
if (cold !== undefined) {
  rows.push(
    [
      `cold start, ${cold.zones} zones: startLab → all converged, ms (target < 60000)`,
      cold.ms === null ? `— (${cold.reason ?? ''})` : fmt(cold.ms),
      '',
      '',
    ],
    [`  of which startLab`, fmt(cold.startLabMs), '', ''],
    [`peak RSS of a role, MB (target < 500): ${cold.peakRole}`, String(cold.peakRssMB), '', ''],
  );
}
printTable(rows);
if (cold !== undefined) {
  log('cold start, per process (peak RSS MB, CPU s):');
  log(`diagnostics: ${JSON.stringify(cold.diagnostics, null, 1)}`);
  for (const r of cold.roles)
    log(
      `  ${r.role.padEnd(24)} pid ${String(r.pid).padStart(7)}  ${String(r.peakMB).padStart(5)} MB  ${r.cpuS.toFixed(1).padStart(6)} s CPU`,
    );
}
const coldKey = `coldStart${ZONES}Ms`;
printJson(json, {
  edits: EDITS,
  convergeP50Ms: convergeP50Ms === null ? null : round3(convergeP50Ms),
  convergeP95Ms: convergeP95Ms === null ? null : round3(convergeP95Ms),
  convergeRoundsMs: (lab?.times ?? []).map(round3),
  convergeInProcessP50Ms: round3(pct(inProcess?.times ?? [], 50) ?? NaN),
  convergeInProcessP95Ms: round3(pct(inProcess?.times ?? [], 95) ?? NaN),
  floorP50Ms: floorP50Ms === null ? null : round3(floorP50Ms),
  floorP95Ms: floorP95Ms === null ? null : round3(floorP95Ms),
  convergeRatio: convergeRatio === null ? null : round3(convergeRatio),
  labValidating: lab?.validating ?? null,
  coldZones: cold?.zones ?? null,
  [coldKey]: cold?.ms === null || cold === undefined ? null : Math.round(cold.ms),
  ...(coldKey !== 'coldStart1000Ms' || cold === undefined
    ? {
        coldStart1000Ms: null,
        coldStart1000Reason: `not measured in this run (${SKIP_COLD ? '--skip-cold' : `--zones ${ZONES}`})`,
      }
    : {}),
  ...(cold?.reason !== undefined
    ? { coldStartReason: cold.reason, coldPendingAtEnd: cold.pendingAtEnd }
    : {}),
  coldStartLabMs: cold?.startLabMs ?? null,
  coldAttempts: cold?.attempts ?? null,
  coldProgress: cold?.progress ?? null,
  peakRssMB: cold?.peakRssMB ?? null,
  peakRssRole: cold?.peakRole ?? null,
  coldRoles: cold?.roles ?? null,
});
