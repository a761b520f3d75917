// npm run bench:broker [-- --json] [--roundtrips N] [--rounds R] [--window W] [--zones N] [--events E] ...
//
// (a) Work-queue round trips through the actor host (publish → consume → actor → persist snapshot
//     to KV with CAS → ack (server-confirmed) → reply), next to bare JetStream publish → consume →
//     ackAck → reply of the same message size, same window, same server, same run.
// (b) Zone actors: N zones, each sent E events through the host, every transition persisted to
//     JetStream KV, eviction on; events/s and peak RSS of this process.
// (c) A bounded chaos round (test/support/chaos.ts, the driver of test/actors-chaos.test.ts):
//     3 replica processes over 16 shards while replicas are SIGKILLed and restarted, nats-server
//     is SIGKILLed once and a replica added and removed; events/s, longest wait, lost, duplicated.
// A real nats-server is started on a free port with a temp store dir, and stopped at the end.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, type JsMsg } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createJetStreamBroker } from '../../broker/jetstream.ts';
import { pubAckOf } from '../../broker/pub-ack.ts';
import { ReplyInbox } from '../../broker/reply-inbox.ts';
import { ActorHost } from '../../actors/host.ts';
import { componentLogger } from '../../actors/logger.ts';
import { encodeWork, type ZoneWork } from '../../actors/work.ts';
import { sequencedCounter } from '../../machines/sequenced-counter.ts';
import { runChaos } from '../support/chaos.ts';
import { startNatsServer } from '../support/nats.ts';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    roundtrips: { type: 'string', default: '5000' },
    window: { type: 'string', default: '64' },
    rounds: { type: 'string', default: '3' },
    'rt-zones': { type: 'string', default: '256' },
    zones: { type: 'string', default: '100000' },
    events: { type: 'string', default: '10' },
    parallel: { type: 'string', default: '512' },
    'max-resident': { type: 'string', default: '10000' },
    'idle-ms': { type: 'string', default: '2000' },
    shards: { type: 'string', default: '4' },
    'skip-roundtrips': { type: 'boolean', default: false },
    'skip-actors': { type: 'boolean', default: false },
    'skip-chaos': { type: 'boolean', default: false },
    'chaos-keys': { type: 'string', default: '1000' },
    'chaos-events': { type: 'string', default: '10' },
    'chaos-publish-ms': { type: 'string', default: '30000' },
    /** Profiling aid: run only the host side of (a). */
    'only-host': { type: 'boolean', default: false },
    /** Also run the bare path on the broker's reply inbox (how much of the ratio is plumbing). */
    'bare-inbox': { type: 'boolean', default: false },
  },
});
const ROUNDTRIPS = Number(values.roundtrips);
const WINDOW = Number(values.window);
const ROUNDS = Math.max(1, Number(values.rounds));
const RT_ZONES = Number(values['rt-zones']);
const ZONES = Number(values.zones);
const EVENTS = Number(values.events);
const PARALLEL = Number(values.parallel);
const MAX_RESIDENT = Number(values['max-resident']);
const IDLE_MS = Number(values['idle-ms']);
const SHARDS = Number(values.shards);

const kinds = [{ kind: 'sequenced-counter', machine: sequencedCounter }];
const logger = componentLogger({ component: 'bench-broker' });
logger.level = process.env['MPDNS_LOG_LEVEL'] ?? 'warn';

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

interface RunResult {
  perSec: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU time of this process (client and host) per round trip. */
  cpuUsPerTrip: number;
  /** CPU time of nats-server per round trip. */
  serverCpuUsPerTrip: number;
}

/** user + system CPU of a process in µs, from /proc (NaN when unreadable). */
function procCpuUs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1e6) / CLK_TCK;
  } catch {
    return NaN;
  }
}
/** Clock ticks per second of /proc/<pid>/stat (100 on Linux). */
const CLK_TCK = 100;

/** Runs `n` round trips with at most `window` in flight; `one(i)` resolves when trip i is replied. */
async function windowed(n: number, window: number, one: (i: number) => Promise<void>): Promise<RunResult> {
  const lat: number[] = [];
  let next = 0;
  const c0 = process.cpuUsage();
  const s0 = procCpuUs(serverPid);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (next < n) {
        const i = next++;
        const s = performance.now();
        await one(i);
        lat.push(performance.now() - s);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const serverCpu = procCpuUs(serverPid) - s0;
  lat.sort((a, b) => a - b);
  return {
    perSec: n / secs,
    p50Ms: percentile(lat, 50),
    p99Ms: percentile(lat, 99),
    cpuUsPerTrip: (cpu.user + cpu.system) / n,
    serverCpuUsPerTrip: serverCpu / n,
  };
}

/** A reply registry: the consumer side resolves what the publisher side waits for. */
class Replies {
  readonly #waiting = new Map<string, () => void>();
  wait(id: string): Promise<void> {
    return new Promise((resolve) => this.#waiting.set(id, resolve));
  }
  reply(id: string): void {
    const r = this.#waiting.get(id);
    this.#waiting.delete(id);
    r?.();
  }
}

function workOf(i: number): ZoneWork {
  return { zone: `rt${i % RT_ZONES}.bench.`, machineId: 'ctr', kind: 'sequenced-counter', event: { type: 'inc', seq: Math.floor(i / RT_ZONES) + 1, id: i } };
}

/**
 * One bare round-trip run on its own work-queue stream `name`: each of n messages is published,
 * consumed, settled by `settle`, and counted when settled; at most WINDOW in flight.
 */
async function bareRun(
  nc: NatsConnection,
  n: number,
  size: number,
  name: string,
  settle: (m: JsMsg) => Promise<void>,
  publish: (subject: string, payload: Uint8Array) => Promise<void>,
): Promise<RunResult> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name, subjects: [`${name}.>`], retention: RetentionPolicy.Workqueue });
  await jsm.consumers.add(name, { durable_name: name, ack_policy: AckPolicy.Explicit, max_ack_pending: 1000 });
  const consumer = await jetstream(nc).consumers.get(name, name);
  const messages = await consumer.consume({ max_messages: WINDOW });
  const replies = new Replies();
  const handle = async (m: JsMsg): Promise<void> => {
    await settle(m);
    replies.reply(m.subject);
  };
  const loop = (async () => {
    for await (const m of messages) void handle(m);
  })();
  const payload = new Uint8Array(size).fill(7);
  const r = await windowed(n, WINDOW, async (i) => {
    const subject = `${name}.${i}`;
    const replied = replies.wait(subject);
    await publish(subject, payload);
    await replied;
  });
  await messages.close();
  await loop;
  return r;
}

/**
 * The bare path with the broker's hot-path plumbing (reply-inbox.ts for publish and ack) instead
 * of nats.js's `js.publish` and `ackAck`: shows how much of the ratio is request machinery.
 */
async function bareInboxRoundTrips(url: string, n: number, size: number, name: string): Promise<RunResult> {
  const nc = await connect({ servers: url, noAsyncTraces: true });
  const inbox = new ReplyInbox(nc, undefined);
  const ack = Uint8Array.of(0x2b, 0x41, 0x43, 0x4b);
  const r = await bareRun(
    nc,
    n,
    size,
    name,
    async (m) => {
      const reply = (m as { reply?: unknown }).reply;
      if (typeof reply !== 'string') throw new Error('delivery without a reply subject');
      await inbox.request(reply, ack, undefined, 5000);
    },
    async (subject, payload) => {
      pubAckOf(await inbox.request(subject, payload, undefined, 5000));
    },
  );
  inbox.close();
  await nc.close();
  return r;
}

async function bareRoundTrips(url: string, n: number, size: number, name: string): Promise<RunResult> {
  // The same connection options as the broker's that matter for speed (noAsyncTraces), so the
  // ratio compares the work done, not the client's configuration.
  const nc = await connect({ servers: url, noAsyncTraces: true });
  const js = jetstream(nc);
  const r = await bareRun(
    nc,
    n,
    size,
    name,
    async (m) => {
      await m.ackAck();
    },
    async (subject, payload) => {
      await js.publish(subject, payload);
    },
  );
  await nc.close();
  return r;
}

async function hostRoundTrips(url: string, n: number, namespace: string): Promise<RunResult> {
  const broker = await createJetStreamBroker({ servers: url, namespace });
  const replies = new Replies();
  const host = await ActorHost.open({
    broker,
    kinds,
    shardCount: SHARDS,
    logger,
    concurrency: Math.max(1, Math.ceil(WINDOW / SHARDS) * 2),
    hooks: { afterAck: (_key, work) => replies.reply(String(work.event['id'])) },
  });
  await host.acquireAll();
  const r = await windowed(n, WINDOW, async (i) => {
    const replied = replies.wait(String(i));
    await host.submit(workOf(i));
    await replied;
  });
  await host.stop();
  await broker.close();
  return r;
}

function natsRssMB(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? NaN : Number(m[1]) / 1024;
  } catch {
    return NaN;
  }
}

async function actorEvents(url: string): Promise<{ eventsPerSec: number; peakRssMB: number; secs: number; stats: object }> {
  const broker = await createJetStreamBroker({ servers: url, namespace: 'act' });
  const host = await ActorHost.open({ broker, kinds, shardCount: SHARDS, logger, maxResident: MAX_RESIDENT, idleMs: IDLE_MS });
  await host.acquireAll();
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 100);
  let next = 0;
  let done = 0;
  const t0 = performance.now();
  const progress = setInterval(() => {
    if (!values.json) process.stderr.write(`  actors: ${next}/${ZONES} zones started, ${done} events, rss ${(process.memoryUsage.rss() / 2 ** 20).toFixed(0)} MB\r`);
  }, 2000);
  await Promise.all(
    Array.from({ length: Math.min(PARALLEL, ZONES) }, async () => {
      while (next < ZONES) {
        const z = next++;
        for (let seq = 1; seq <= EVENTS; seq++) {
          await host.send(`a${z}.bench.`, 'ctr', 'sequenced-counter', { type: 'inc', seq });
          done++;
        }
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  clearInterval(progress);
  peak = Math.max(peak, process.memoryUsage.rss());
  const stats = host.stats();
  await host.stop();
  await broker.close();
  return { eventsPerSec: done / secs, peakRssMB: peak / 2 ** 20, secs, stats };
}

const nats = await startNatsServer({ timeoutMs: 20_000 });
const serverPid = nats.daemon().proc.pid;
const out: Record<string, number | string | boolean> = {};
const rows: [string, string][] = [];
try {
  if (values['only-host']) {
    const ours = await hostRoundTrips(nats.url, ROUNDTRIPS, 'rt');
    rows.push(['actor host (+ actor, KV CAS persist)', `${ours.perSec.toFixed(0)}/s  p99 ${ours.p99Ms.toFixed(2)} ms  cpu ${ours.cpuUsPerTrip.toFixed(0)} us/trip, server ${ours.serverCpuUsPerTrip.toFixed(0)}`]);
  } else if (!values['skip-roundtrips']) {
    const size = encodeWork(workOf(ROUNDTRIPS - 1)).length;
    // Warm-up of both paths (stream/consumer creation, JIT), then the measured runs.
    await bareRoundTrips(nats.url, Math.min(500, ROUNDTRIPS), size, 'barewarm');
    // Alternate the two ROUNDS times and keep the round with the median ratio: the machine is
    // shared, and load from elsewhere comes and goes.
    await hostRoundTrips(nats.url, Math.min(500, ROUNDTRIPS), 'warm');
    const rounds: { bare: RunResult; ours: RunResult; ratio: number; inbox: RunResult | undefined; inboxRatio: number }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const bare = await bareRoundTrips(nats.url, ROUNDTRIPS, size, `bare${r}`);
      const ours = await hostRoundTrips(nats.url, ROUNDTRIPS, `rt${r}`);
      const inbox = values['bare-inbox'] ? await bareInboxRoundTrips(nats.url, ROUNDTRIPS, size, `barei${r}`) : undefined;
      rounds.push({ bare, ours, ratio: ours.perSec / bare.perSec, inbox, inboxRatio: inbox === undefined ? NaN : ours.perSec / inbox.perSec });
    }
    const inboxRows: [string, string][] = [];
    if (values['bare-inbox']) {
      const ir = [...rounds].sort((a, b) => a.inboxRatio - b.inboxRatio);
      const mid = ir[Math.floor(ir.length / 2)] as (typeof ir)[number];
      out['roundTripRatioBareInbox'] = +mid.inboxRatio.toFixed(3);
      const b = mid.inbox as RunResult;
      inboxRows.push(
        ["bare on the broker's reply inbox", `${b.perSec.toFixed(0)}/s  p50 ${b.p50Ms.toFixed(2)} ms  p99 ${b.p99Ms.toFixed(2)} ms  cpu ${b.cpuUsPerTrip.toFixed(0)} us/trip, server ${b.serverCpuUsPerTrip.toFixed(0)}`],
        ['ours / bare on the same reply inbox', `${mid.inboxRatio.toFixed(3)} (median round; all rounds: ${rounds.map((x) => x.inboxRatio.toFixed(3)).join(', ')})`],
      );
    }
    const ratios = rounds.map((x) => x.ratio.toFixed(3)).join(', ');
    rounds.sort((x, y) => x.ratio - y.ratio);
    const { bare, ours } = rounds[Math.floor(rounds.length / 2)] as (typeof rounds)[number];
    Object.assign(out, {
      roundTrips: ROUNDTRIPS,
      window: WINDOW,
      messageBytes: size,
      rounds: ROUNDS,
      bareCpuUsPerTrip: Math.round(bare.cpuUsPerTrip),
      roundTripCpuUsPerTrip: Math.round(ours.cpuUsPerTrip),
      bareServerCpuUsPerTrip: Math.round(bare.serverCpuUsPerTrip),
      roundTripServerCpuUsPerTrip: Math.round(ours.serverCpuUsPerTrip),
      bareRoundTripsPerSec: Math.round(bare.perSec),
      bareP50Ms: +bare.p50Ms.toFixed(2),
      bareP99Ms: +bare.p99Ms.toFixed(2),
      roundTripsPerSec: Math.round(ours.perSec),
      roundTripP50Ms: +ours.p50Ms.toFixed(2),
      roundTripP99Ms: +ours.p99Ms.toFixed(2),
      roundTripRatio: +(ours.perSec / bare.perSec).toFixed(3),
      roundTripRatios: ratios,
    });
    rows.push(
      ['message size', `${size} B, window ${WINDOW}, ${ROUNDTRIPS} round trips x ${ROUNDS} rounds, ${SHARDS} shards`],
      ['bare JetStream (publish, consume, ackAck, reply)', `${bare.perSec.toFixed(0)}/s  p50 ${bare.p50Ms.toFixed(2)} ms  p99 ${bare.p99Ms.toFixed(2)} ms  cpu ${bare.cpuUsPerTrip.toFixed(0)} us/trip, server ${bare.serverCpuUsPerTrip.toFixed(0)}`],
      ['actor host (+ actor, KV CAS persist)', `${ours.perSec.toFixed(0)}/s  p50 ${ours.p50Ms.toFixed(2)} ms  p99 ${ours.p99Ms.toFixed(2)} ms  cpu ${ours.cpuUsPerTrip.toFixed(0)} us/trip, server ${ours.serverCpuUsPerTrip.toFixed(0)}`],
      ['roundTripRatio (ours / bare; target >= 0.5)', `${(ours.perSec / bare.perSec).toFixed(3)} (median round; all rounds: ${ratios})`],
      ...inboxRows,
    );
  }
  if (!values['skip-actors']) {
    const a = await actorEvents(nats.url);
    if (!values.json) process.stderr.write('\n');
    const natsPeak = natsRssMB(nats.daemon().proc.pid);
    Object.assign(out, {
      actorZones: ZONES,
      actorEventsPerZone: EVENTS,
      actorEventsPerSec: Math.round(a.eventsPerSec),
      actorsPeakRssMB: Math.round(a.peakRssMB),
      actorSeconds: +a.secs.toFixed(1),
      natsPeakRssMB: Math.round(natsPeak),
      maxResident: MAX_RESIDENT,
    });
    rows.push(
      ['zone actors', `${ZONES} zones x ${EVENTS} events, ${PARALLEL} zones in flight, maxResident ${MAX_RESIDENT}, idle ${IDLE_MS} ms`],
      ['actor events/s (each persisted to KV)', `${a.eventsPerSec.toFixed(0)}/s over ${a.secs.toFixed(1)} s`],
      ['peak RSS of the host process (target < 1024 MB)', `${a.peakRssMB.toFixed(0)} MB`],
      ['peak RSS of nats-server', `${natsPeak.toFixed(0)} MB`],
      ['host stats', JSON.stringify(a.stats)],
    );
  }
} finally {
  await nats.stop();
}
if (!values['skip-chaos']) {
  const keys = Number(values['chaos-keys']);
  const perKey = Number(values['chaos-events']);
  const c = await runChaos({
    keys,
    eventsPerKey: perKey,
    shards: 16,
    replicas: 3,
    publishMs: Number(values['chaos-publish-ms']),
    killEveryMs: 5000,
    ackWaitMs: 4000,
    maxDeliver: 50,
    drainTimeoutMs: 180_000,
    progress: (line) => {
      if (!values.json) process.stderr.write(`  ${line}\n`);
    },
  });
  Object.assign(out, {
    chaosEvents: c.events,
    chaosEventsPerSec: Math.round(c.eventsPerSec),
    chaosMaxDelayMs: Math.round(c.maxDelayMs),
    chaosLost: c.lost,
    chaosDuplicated: c.duplicated,
    chaosMisordered: c.misordered,
    chaosDeadLetters: c.deadLetters,
    chaosReplicaKills: c.replicaKills,
  });
  rows.push(
    ['chaos round', `${keys} machines x ${perKey} events over ~${Number(values['chaos-publish-ms']) / 1000} s, 3 replicas, 16 shards; ${c.replicaKills} replica kills, 1 nats-server kill, 1 replica added and removed`],
    ['chaos events/s (publish start to all applied)', `${c.eventsPerSec.toFixed(0)}/s over ${c.seconds.toFixed(1)} s; longest wait publish→apply ${c.maxDelayMs} ms`],
    ['chaos lost / duplicated / misordered / dead letters', `${c.lost} / ${c.duplicated} / ${c.misordered} / ${c.deadLetters} (late after a fault: ${c.late}; redeliveries dropped by the host: ${c.duplicatesDropped}; acked orphans left in the stream: ${c.orphans})`],
    ...c.problems.slice(0, 10).map((p): [string, string] => ['  problem', p]),
  );
}

const w = Math.max(...rows.map((r) => r[0].length));
process.stdout.write(`bench:broker (nats-server ${nats.url})\n`);
for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(w)}  ${v}\n`);
if (values.json) process.stdout.write(`${JSON.stringify(out)}\n`);
