// The chaos round shared by test/actors-chaos.test.ts and `npm run bench:broker`: replicas of the
// actor host (child processes, shard leases) run the sequenced counter while events are
// published; meanwhile a random replica is SIGKILLed and restarted every few seconds, nats-server
// is SIGKILLed once and restarted on its store, and a replica is added and later removed (a
// rebalance). Then every machine's persisted log is checked against what the broker acknowledged:
// lost (acknowledged, never applied), duplicated (applied twice), and out of order beyond what the
// host guarantees (docs/decisions.md, "Actor host": per machine, events are applied in publish
// order except an event whose delivery a fault interrupted, which may come after newer ones).
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { createJetStreamBroker } from '../../broker/jetstream.ts';
import { Subjects } from '../../broker/subjects.ts';
import type { Broker } from '../../broker/types.ts';
import { readMachine } from '../../actors/host.ts';
import { machineKey } from '../../actors/keys.ts';
import { decodeRecord } from '../../actors/record.ts';
import { encodeWork } from '../../actors/work.ts';
import type { Daemon } from './daemon.ts';
import { startNatsServer, type NatsServer } from './nats.ts';
import { pollUntil } from './poll.ts';
import { heldShards, isAlive, spawnReplica } from './replicas.ts';

export interface ChaosOptions {
  readonly keys: number;
  readonly eventsPerKey: number;
  readonly shards: number;
  /** Replicas that run throughout (one more is added and removed). */
  readonly replicas: number;
  /** Publishing is spread over about this long; the faults happen meanwhile. */
  readonly publishMs: number;
  /** A random replica is SIGKILLed and restarted this often. */
  readonly killEveryMs: number;
  readonly ackWaitMs: number;
  readonly maxDeliver: number;
  /** How long to wait for every event to be applied after publishing ends. */
  readonly drainTimeoutMs: number;
  /** Progress lines (stderr in the bench, the test's diagnostic otherwise). */
  readonly progress?: (line: string) => void;
}

export interface Fault {
  readonly what: string;
  readonly start: number;
  /** When every shard was held again by exactly one live replica (Infinity: never seen). */
  end: number;
}

interface OpenFault extends Fault {
  /** The fault's action (kill, restart, ...) is done: the next stable ownership ends it. */
  done: boolean;
}

export interface ChaosResult {
  readonly events: number;
  readonly eventsPerSec: number;
  /** Longest time from the start of an event's publish to its application. */
  readonly maxDelayMs: number;
  /** Events the broker acknowledged that no machine applied. */
  readonly lost: number;
  /** Applications beyond the first of an event. */
  readonly duplicated: number;
  /** Events applied after a newer event of their machine although no fault touched them. */
  readonly misordered: number;
  /** Events applied after a newer event of their machine (each touched by a fault). */
  readonly late: number;
  readonly deadLetters: number;
  /** Redelivered messages the hosts acked without applying again. */
  readonly duplicatesDropped: number;
  /** Messages left in the work stream that no consumer will deliver (acked; a nats-server 2.9 quirk). */
  readonly orphans: number;
  readonly replicaKills: number;
  readonly faults: readonly Fault[];
  /** One line per problem found (lost, duplicated, misordered events, dead letters), at most 50. */
  readonly problems: readonly string[];
  readonly seconds: number;
}

const NS = 'chaos';
const QUEUE = 'actors';

interface Ctx {
  count: number;
  log: [number, number][];
}

const zoneOf = (k: number): string => `k${k}.chaos.`;

/** Runs one chaos round on its own nats-server; every process it started is gone when it returns or throws. */
export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const say = o.progress ?? (() => {});
  const children: Daemon[] = [];
  let nats: NatsServer | undefined;
  let broker: Broker | undefined;
  let watcher: NodeJS.Timeout | undefined;
  /** Set on the way out (also on failure): the publisher stops retrying. */
  let over = false;
  try {
    nats = await startNatsServer({ timeoutMs: 30_000 });
    const server = nats;
    broker = await createJetStreamBroker({ servers: server.url, namespace: NS, publishTimeoutMs: 60_000 });
    const b = broker;
    const kv = await b.kv('machines');
    const subjects = new Subjects(NS);
    let generation = 0;
    const spawn = (slot: string): Daemon => {
      const d = spawnReplica({
        url: server.url,
        namespace: NS,
        shards: o.shards,
        replica: `${slot}g${generation++}`,
        flags: ['--ack-wait-ms', String(o.ackWaitMs), '--max-deliver', String(o.maxDeliver)],
      });
      children.push(d);
      return d;
    };
    const slots = new Map<string, Daemon>();
    for (let i = 0; i < o.replicas; i++) slots.set(`r${i}`, spawn(`r${i}`));
    const live = (): Daemon[] => [...slots.values()].filter(isAlive);
    const stable = (): boolean => {
      const seen = new Map<number, number>();
      const ds = live();
      for (const d of ds) for (const s of heldShards(d)) seen.set(s, (seen.get(s) ?? 0) + 1);
      const fair = Math.ceil(o.shards / Math.max(1, ds.length));
      return seen.size === o.shards && [...seen.values()].every((n) => n === 1) && ds.every((d) => heldShards(d).size <= fair);
    };
    await pollUntil('every shard held once', stable, { timeoutMs: 90_000, intervalMs: 100 }).catch((err: unknown) => {
      const logs = children.map((d) => `--- ${d.name} holds [${[...heldShards(d)].join(',')}]:\n${d.output().slice(-4000)}`);
      throw new Error(`the replicas never split the shards\n${logs.join('\n')}`, { cause: err });
    });

    // Fault intervals: from the fault until ownership is stable again (watched every 100 ms).
    const faults: OpenFault[] = [];
    watcher = setInterval(() => {
      if (!stable()) return;
      const now = Date.now();
      for (const f of faults) if (f.done && f.end === Infinity) f.end = now;
    }, 100);
    const fault = async (what: string, action: () => Promise<void>): Promise<void> => {
      const f: OpenFault = { what, start: Date.now(), end: Infinity, done: false };
      faults.push(f);
      say(`chaos: ${what} at ${f.start - t0} ms`);
      await action();
      f.done = true;
    };

    const E = o.eventsPerKey;
    const sentAt = new Float64Array(o.keys * E);
    const t0 = Date.now();
    let publishing = true;
    let replicaKills = 0;

    const publisher = (async () => {
      const roundMs = o.publishMs / E;
      for (let seq = 1; seq <= E; seq++) {
        const roundStart = Date.now();
        let next = 0;
        await Promise.all(
          Array.from({ length: 32 }, async () => {
            while (next < o.keys) {
              const k = next++;
              const zone = zoneOf(k);
              sentAt[k * E + seq - 1] = Date.now();
              const data = encodeWork({ zone, machineId: 'ctr', kind: 'sequenced-counter', event: { type: 'inc', seq } });
              // Retried with the same msgId until acknowledged: the broker keeps one copy.
              for (;;) {
                if (over) return;
                try {
                  await b.publish(subjects.work(QUEUE, zone, o.shards), data, { msgId: `${zone}-${seq}` });
                  break;
                } catch (err) {
                  say(`chaos: publish of ${zone} ${seq} failed, retrying: ${String(err)}`);
                  await new Promise((r) => setTimeout(r, 500));
                }
              }
            }
          }),
        );
        say(`chaos: round ${seq}/${E} published`);
        const wait = roundStart + roundMs - Date.now();
        if (seq < E && wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      publishing = false;
    })();

    // The fault schedule, relative to the start of publishing.
    const P = o.publishMs;
    const plan: { at: number; run: () => Promise<void> }[] = [];
    for (let at = o.killEveryMs; at < P; at += o.killEveryMs) {
      plan.push({
        at,
        run: () => {
          const names = [...slots.keys()].filter((n) => n.startsWith('r'));
          const slot = names[Math.floor(Math.random() * names.length)] as string;
          return fault(`SIGKILL replica ${slots.get(slot)?.name} and restart it`, async () => {
            await slots.get(slot)?.kill('SIGKILL');
            replicaKills++;
            slots.set(slot, spawn(slot));
          });
        },
      });
    }
    plan.push({
      at: P * 0.2,
      run: () =>
        fault('add a replica', () => {
          slots.set('extra', spawn('extra'));
          return Promise.resolve();
        }),
    });
    plan.push({
      at: P * 0.45,
      run: () =>
        fault('SIGKILL nats-server, restart it on its store', async () => {
          await server.kill('SIGKILL');
          await new Promise((r) => setTimeout(r, 1000));
          await server.restart();
        }),
    });
    plan.push({
      at: P * 0.7,
      run: () => {
        const extra = slots.get('extra');
        return fault(`remove replica ${extra?.name} (SIGTERM)`, async () => {
          slots.delete('extra');
          await extra?.stop(10_000);
        });
      },
    });
    plan.sort((x, y) => x.at - y.at);
    for (const step of plan) {
      const wait = t0 + step.at - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await step.run();
    }
    await publisher;
    const published = o.keys * E;
    say(`chaos: ${published} events published in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // Wait for every event to be applied and for the work stream to be empty (all settled).
    const states = new Map<number, Ctx | undefined>();
    const readAll = async (): Promise<void> => {
      let next = 0;
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (next < o.keys) {
            const k = next++;
            states.set(k, (await readMachine(kv, zoneOf(k), 'ctr'))?.context as Ctx | undefined);
          }
        }),
      );
    };
    const incomplete = (): number[] => {
      const out: number[] = [];
      for (let k = 0; k < o.keys; k++) {
        const log = states.get(k)?.log ?? [];
        if (new Set(log.map(([s]) => s)).size < E) out.push(k);
      }
      return out;
    };
    const nc = await connect({ servers: server.url, maxReconnectAttempts: -1 });
    try {
      const jsm = await jetstreamManager(nc);
      let appliedAt = 0;
      // Settled: no shard consumer has work left to deliver or awaiting its ack. (Not "the work
      // stream is empty": after a SIGKILL, nats-server 2.9 can keep acked messages in a WorkQueue
      // stream that no consumer will deliver again; they are counted as `orphans`.)
      const unsettled = async (): Promise<string[]> => {
        const out: string[] = [];
        for await (const c of jsm.consumers.list(subjects.stream(QUEUE))) {
          if (c.num_ack_pending + c.num_pending > 0) out.push(`${c.name}: ack pending ${c.num_ack_pending}, pending ${c.num_pending}, redelivered ${c.num_redelivered}, ack floor ${c.ack_floor.stream_seq}`);
        }
        return out;
      };
      await pollUntil('every event applied and all work settled', async () => {
        await readAll();
        if (incomplete().length > 0) return false;
        if (appliedAt === 0) appliedAt = Date.now();
        return (await unsettled()).length === 0;
      }, { timeoutMs: o.drainTimeoutMs, intervalMs: 2000 }).catch(async (err: unknown) => {
        const state = `ownership ${stable() ? 'stable' : 'not stable'}; consumers with work: ${(await unsettled().catch((e: unknown) => [String(e)])).join('; ') || 'none'}`;
        throw new Error(`${err instanceof Error ? err.message : String(err)}\n${state}\n${await diagnose()}`, { cause: err });
      });
      clearInterval(watcher);
      watcher = undefined;
      await readAll();
      const seconds = (appliedAt - t0) / 1000;
      const orphans = (await jsm.streams.info(subjects.stream(QUEUE))).state.messages;

      // Check every machine's log against what was acknowledged.
      const problems: string[] = [];
      const problem = (s: string): void => {
        if (problems.length < 50) problems.push(s);
      };
      let lost = 0;
      let duplicated = 0;
      let misordered = 0;
      let late = 0;
      let maxDelayMs = 0;
      // Faults: the injected ones, and each handling of a message that failed and was nak'ed
      // (a replica logs it with the message's subject), which touches that machine only.
      const failures = handlingFailures(children);
      /** The host's applied record of a machine (which stream sequences and msgIds it applied). */
      const appliedRecord = async (k: number): Promise<string> => {
        const e = await kv.get(machineKey(zoneOf(k), 'ctr'));
        return e === undefined ? 'no record' : `applied ${JSON.stringify(decodeRecord(machineKey(zoneOf(k), 'ctr'), e.value).applied)}`;
      };
      const touched = (k: number, sent: number, applied: number): boolean =>
        faults.some((f) => f.start <= applied && f.end >= sent) ||
        (failures.get(subjects.work(QUEUE, zoneOf(k), o.shards)) ?? []).some((t) => t >= sent && t <= applied);
      for (let k = 0; k < o.keys; k++) {
        const log = states.get(k)?.log ?? [];
        const seen = new Set<number>();
        for (const [seq, at] of log) {
          if (seen.has(seq)) {
            duplicated++;
            problem(`${zoneOf(k)}: event ${seq} applied twice (log ${JSON.stringify(log.map(([s]) => s))}; ${await appliedRecord(k)})`);
          }
          seen.add(seq);
          maxDelayMs = Math.max(maxDelayMs, at - (sentAt[k * E + seq - 1] ?? at));
        }
        for (let seq = 1; seq <= E; seq++) {
          if (!seen.has(seq)) {
            lost++;
            problem(`${zoneOf(k)}: event ${seq} acknowledged, never applied`);
          }
        }
        // A late event: applied after an event published after it.
        for (let i = 0; i < log.length; i++) {
          const [seq, at] = log[i] as [number, number];
          if (!log.slice(0, i).some(([s]) => s > seq)) continue;
          late++;
          const sent = sentAt[k * E + seq - 1] ?? 0;
          if (!touched(k, sent, at)) {
            misordered++;
            problem(`${zoneOf(k)}: event ${seq} (published ${sent - t0} ms, applied ${at - t0} ms) came after a newer one with no fault in between (log ${JSON.stringify(log.map(([s]) => s))})`);
          }
        }
      }
      const dead = await b.deadLetters(QUEUE, 1000);
      for (const d of dead.slice(0, 10)) problem(`dead letter: ${d.subject}: ${d.reason}`);
      const duplicatesDropped = children.reduce((n, d) => n + lastDuplicates(d), 0);
      return {
        events: published,
        eventsPerSec: published / seconds,
        maxDelayMs,
        lost,
        duplicated,
        misordered,
        late,
        deadLetters: dead.length,
        duplicatesDropped,
        orphans,
        replicaKills,
        faults: faults.map((f) => ({ what: f.what, start: f.start - t0, end: f.end - t0 })),
        problems,
        seconds,
      };
    } finally {
      await nc.close();
    }

    /** On a timeout: the machines not complete, the fault timeline, each replica's shards and log. */
    async function diagnose(): Promise<string> {
      const lines: string[] = [];
      const inc = incomplete();
      lines.push(`${inc.length} of ${o.keys} machines incomplete, publishing ${publishing ? 'still running' : 'done'}`);
      for (const k of inc.slice(0, 20)) {
        const c = states.get(k);
        lines.push(`  ${zoneOf(k)}: ${c === undefined ? 'no machine' : `log ${JSON.stringify(c.log.map(([s]) => s))}`}`);
      }
      lines.push(`faults: ${faults.map((f) => `${f.what} @${f.start - t0}..${f.end - t0} ms`).join('; ')}`);
      try {
        lines.push(`dead letters: ${JSON.stringify((await b.deadLetters(QUEUE, 20)).map((d) => `${d.subject}: ${d.reason}`))}`);
      } catch (err) {
        lines.push(`dead letters unreadable: ${String(err)}`);
      }
      for (const d of children) {
        if (!isAlive(d)) continue;
        lines.push(`--- ${d.name} holds [${[...heldShards(d)].join(',')}]:\n${d.output().slice(-4000)}`);
      }
      lines.push(`gone: ${children.filter((d) => !isAlive(d)).map((d) => d.name).join(', ')}`);
      return lines.join('\n');
    }
  } finally {
    over = true;
    clearInterval(watcher);
    await Promise.all(children.map((d) => d.kill('SIGKILL')));
    await broker?.close().catch(() => undefined);
    await nats?.stop();
  }
}

/** Times of the failed handlings (nak'ed) each replica logged, by message subject. */
function handlingFailures(children: readonly Daemon[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const d of children) {
    for (const line of d.output().split('\n')) {
      if (!line.includes('work handler failed')) continue;
      try {
        const j = JSON.parse(line) as { time?: unknown; subject?: unknown };
        if (typeof j.time !== 'number' || typeof j.subject !== 'string') continue;
        const list = out.get(j.subject) ?? [];
        list.push(j.time);
        out.set(j.subject, list);
      } catch {
        // not a log line
      }
    }
  }
  return out;
}

/** The last {"duplicates":n} a replica printed. */
function lastDuplicates(d: Daemon): number {
  const m = [...d.output().matchAll(/^\{"duplicates":(\d+)\}$/gm)].pop();
  return m === undefined ? 0 : Number(m[1]);
}
