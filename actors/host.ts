// The actor host: runs XState machines per zone as actors, keyed `<zone>/<machine-id>`.
//
// - One mailbox per zone: a zone's events (work messages, local sends, deadlines) run in order.
// - After every transition that changes the snapshot, `getPersistedSnapshot()` is written to KV
//   with compare-and-set on the revision, and only then is the work message acked.
// - On shard acquisition the persisted machines of the shard are restored (up to maxResident,
//   the rest on demand) and their deadlines re-armed in one timer wheel.
// - Idle actors are evicted from memory and restored on demand; the wheel wakes evicted actors.
// - On shard loss the shard's actors are dropped without persisting; their unacked work is
//   redelivered to the new owner.
//
// Exactly-once in effect: the record also holds the stream sequences of the work applied
// (applied.ts), written with the same compare-and-set as the snapshot. A message redelivered
// after its effect was persisted (a crash between persist and ack, an ack lost in a server crash)
// is acked without being applied again. Deadlines and local sends are not work messages.
import { createActor, type Actor, type AnyStateMachine, type Snapshot } from 'xstate';
import { KeyExistsError, RevisionMismatchError } from '../broker/errors.ts';
import { Subjects, shardOf } from '../broker/subjects.ts';
import type { Broker, Consumer, KvBucket, PublishAck, WorkMessage, ShardCoordinator } from '../broker/types.ts';
import { hasApplied, NOTHING_APPLIED, withApplied, type Applied } from './applied.ts';
import { DeadlineWheel, deadlinesOf, type DeadlineEvent } from './deadlines.ts';
import type { HostInspector } from './inspect.ts';
import { BadWorkError, HostStoppedError, OwnershipLostError, RecordError, ShardNotHeldError, UnknownMachineKindError } from './errors.ts';
import { Residents } from './evict.ts';
import { canonicalZone, machineKey, parseMachineKey, zoneKeyPrefix } from './keys.ts';
import { componentLogger, type Logger } from './logger.ts';
import { Mailboxes } from './mailbox.ts';
import { decodeRecord, encodeRecord, RECORD_VERSION, type PersistedMachine } from './record.ts';
import { decodeWork, encodeWork, type MachineEvent, type ZoneWork } from './work.ts';

/** A machine the host can run, under the name persisted with its snapshots. */
export interface MachineKind {
  readonly kind: string;
  readonly machine: AnyStateMachine;
}

/** Test and benchmark hooks, called inside the zone's mailbox. */
export interface HostHooks {
  /** After the snapshot is in KV, before the work message is acked. */
  afterPersist?(key: string, work: ZoneWork): void | Promise<void>;
  /** After the work message was acked (server-confirmed). */
  afterAck?(key: string, work: ZoneWork): void | Promise<void>;
  /** After a redelivered work message that was applied already was acked without applying it. */
  afterDuplicate?(key: string, work: ZoneWork): void | Promise<void>;
}

export interface ActorHostOptions {
  readonly broker: Broker;
  readonly kinds: readonly MachineKind[];
  /** Shards of the work queue (the same N for every replica). Default 1. */
  readonly shardCount?: number;
  /** Work queue the host consumes. Default `actors`. */
  readonly queue?: string;
  /** KV bucket of persisted snapshots. Default `machines`. */
  readonly bucket?: string;
  /** Written into every record. Default `host-<pid>`. */
  readonly replicaId?: string;
  readonly logger?: Logger;
  /** Evict actors idle this long (ms). Default 60 000; 0 never. */
  readonly idleMs?: number;
  /** At most this many resident actors. Default unlimited. */
  readonly maxResident?: number;
  /** Work messages handled at once per shard consumer (ordering is per zone). Default 32. */
  readonly concurrency?: number;
  readonly ackWaitMs?: number;
  readonly maxDeliver?: number;
  /** The broker's publish de-duplication window: msgIds applied are kept this long. Default 120 000. */
  readonly duplicateWindowMs?: number;
  /** `--inspect`: report processed events and snapshots to a Stately inspector (inspect.ts). */
  readonly inspect?: HostInspector;
  readonly now?: () => number;
  readonly hooks?: HostHooks;
}

/** A machine as the host or `mpdns ctl machines` shows it. */
export interface MachineView {
  readonly zone: string;
  readonly machineId: string;
  readonly kind: string;
  readonly status: unknown;
  readonly value: unknown;
  readonly context: unknown;
  readonly deadlines: Record<string, number>;
  readonly revision: number;
  readonly updatedAt: number;
  readonly writer: string;
}

export interface HostStats {
  resident: number;
  created: number;
  restored: number;
  evicted: number;
  persisted: number;
  acked: number;
  /** Redelivered work messages acked without applying (their effect was persisted already). */
  duplicates: number;
  deadlinesFired: number;
  /** Machines (resident or evicted) with a pending deadline. */
  withDeadlines: number;
  heldShards: number;
}

interface Resident {
  readonly key: string;
  readonly zone: string;
  readonly machineId: string;
  readonly kind: string;
  readonly shard: number;
  readonly actor: Actor<AnyStateMachine>;
  /** KV revision of the last write; 0 while the machine has never been persisted. */
  revision: number;
  updatedAt: number;
  /** Work messages applied, as persisted with the snapshot (applied.ts). */
  applied: Applied;
}

/** A deadline whose delivery failed is tried again this much later. */
const DEADLINE_RETRY_MS = 1000;
/** Parallel KV reads while restoring a shard. */
const RESTORE_PARALLELISM = 32;
/** First retry of a failed shard acquisition, doubling up to the maximum. */
const ACQUIRE_RETRY_MS = 200;
const ACQUIRE_RETRY_MAX_MS = 10_000;
/** How often the settled floor of each held shard is read from the broker (applied.ts). */
const FLOOR_REFRESH_MS = 1000;

function viewOf(r: PersistedMachine, revision: number): MachineView {
  const snap = r.snapshot as { status?: unknown; value?: unknown; context?: unknown };
  return {
    zone: r.zone,
    machineId: r.machineId,
    kind: r.kind,
    status: snap.status,
    value: snap.value,
    context: snap.context,
    deadlines: r.deadlines,
    revision,
    updatedAt: r.updatedAt,
    writer: r.writer,
  };
}

/** One persisted machine, read from `kv` (one KV get, no key listing). */
export async function readMachine(kv: KvBucket, zone: string, machineId: string): Promise<MachineView | undefined> {
  const key = machineKey(zone, machineId);
  const e = await kv.get(key);
  return e === undefined ? undefined : viewOf(decodeRecord(key, e.value), e.revision);
}

/**
 * Every persisted machine of `zone` in `kv`, in key order (also used by `mpdns ctl machines`).
 * A record that does not decode throws its `RecordError`, or, with `onUnreadable`, is handed to
 * it and left out of the list.
 */
export async function listZoneMachines(
  kv: KvBucket,
  zone: string,
  onUnreadable?: (err: RecordError) => void,
): Promise<MachineView[]> {
  const prefix = zoneKeyPrefix(zone);
  const keys = (await kv.keys(prefix)).filter((k) => k.startsWith(prefix)).sort();
  const out: MachineView[] = [];
  for (const key of keys) {
    const e = await kv.get(key);
    if (e === undefined) continue;
    try {
      out.push(viewOf(decodeRecord(key, e.value), e.revision));
    } catch (err) {
      if (onUnreadable === undefined || !(err instanceof RecordError)) throw err;
      onUnreadable(err);
    }
  }
  return out;
}

export class ActorHost {
  readonly replicaId: string;
  readonly shardCount: number;
  readonly queue: string;
  readonly #broker: Broker;
  readonly #kv: KvBucket;
  readonly #kinds: ReadonlyMap<string, MachineKind>;
  readonly #subjects: Subjects;
  readonly #log: Logger;
  readonly #opts: ActorHostOptions;
  readonly #now: () => number;
  readonly #mailboxes = new Mailboxes();
  readonly #residents = new Residents<Resident>();
  readonly #wheel: DeadlineWheel;
  readonly #held = new Set<number>();
  /** Bumped on every acquire and release of a shard: a stale acquisition notices and gives up. */
  readonly #epochs = new Map<number, number>();
  readonly #consumers = new Map<number, Consumer>();
  /** Settled floor of each shard's consumer, as last reported by the broker (only grows). */
  readonly #floors = new Map<number, number>();
  readonly #floorTimer: NodeJS.Timeout;
  #floorsRefreshing = false;
  readonly #policy: { idleMs: number; maxResident: number };
  readonly #sweep: NodeJS.Timeout | undefined;
  readonly #ackWaitMs: number;
  readonly #duplicateWindowMs: number;
  readonly #inflight = new Set<{ readonly msg: WorkMessage; since: number }>();
  readonly #keepAliveTimer: NodeJS.Timeout;
  #stopped = false;
  readonly #stats = { created: 0, restored: 0, evicted: 0, persisted: 0, acked: 0, duplicates: 0, deadlinesFired: 0 };

  private constructor(opts: ActorHostOptions, kv: KvBucket) {
    this.#opts = opts;
    this.#broker = opts.broker;
    this.#kv = kv;
    this.#kinds = new Map(opts.kinds.map((k) => [k.kind, k]));
    this.#subjects = new Subjects(opts.broker.namespace);
    this.replicaId = opts.replicaId ?? `host-${process.pid}`;
    this.shardCount = opts.shardCount ?? 1;
    this.queue = opts.queue ?? 'actors';
    this.#now = opts.now ?? Date.now;
    this.#log = opts.logger ?? componentLogger({ component: 'actor-host' });
    this.#policy = { idleMs: opts.idleMs ?? 60_000, maxResident: opts.maxResident ?? Infinity };
    this.#wheel = new DeadlineWheel((key, id, at, deadline) => this.#onDeadline(key, id, at, deadline), this.#now);
    this.#ackWaitMs = opts.ackWaitMs ?? 30_000;
    this.#duplicateWindowMs = opts.duplicateWindowMs ?? 120_000;
    this.#keepAliveTimer = setInterval(() => this.#keepAlive(), Math.max(50, this.#ackWaitMs / 6));
    this.#keepAliveTimer.unref();
    this.#floorTimer = setInterval(() => this.#refreshFloors(), FLOOR_REFRESH_MS);
    this.#floorTimer.unref();
    if (this.#policy.idleMs > 0) {
      this.#sweep = setInterval(() => this.#evict(), Math.max(50, this.#policy.idleMs / 2));
      this.#sweep.unref();
    }
  }

  /** Opens the snapshot bucket; the host holds no shard until acquire/attach. */
  static async open(opts: ActorHostOptions): Promise<ActorHost> {
    const kv = await opts.broker.kv(opts.bucket ?? 'machines');
    return new ActorHost(opts, kv);
  }

  /** Follows a ShardCoordinator: acquires its shards now and as they come, releases lost ones. */
  attach(coordinator: ShardCoordinator): () => void {
    // Acquisition (listing, restoring, consumer set-up) may take a while: it runs in the
    // background so the coordinator keeps renewing its leases. Release is awaited: consumption
    // must stop before the lease is given up.
    // A failed acquisition is retried with backoff for as long as the coordinator holds the
    // lease: it will not announce the shard again, and nobody else may take it meanwhile.
    let detached = false;
    const retries = new Set<NodeJS.Timeout>();
    const start = (s: number, attempt: number): void => {
      this.acquire(s).catch((err: unknown) => {
        this.#log.error({ err, shard: s, attempt }, 'acquire failed');
        const t = setTimeout(() => {
          retries.delete(t);
          if (!detached && !this.#stopped && coordinator.owned().has(s) && !this.#held.has(s)) start(s, attempt + 1);
        }, Math.min(ACQUIRE_RETRY_MAX_MS, ACQUIRE_RETRY_MS * 2 ** attempt));
        t.unref();
        retries.add(t);
      });
    };
    const offA = coordinator.on('acquired', (s) => start(s, 0));
    const offL = coordinator.on('lost', (s) => this.release(s));
    for (const s of coordinator.owned()) start(s, 0);
    return () => {
      detached = true;
      for (const t of retries) clearTimeout(t);
      offA();
      offL();
    };
  }

  /** Holds every shard (a single replica without a coordinator). */
  async acquireAll(): Promise<void> {
    const listing = await this.#kv.keys();
    for (let s = 0; s < this.shardCount; s++) await this.#acquire(s, listing);
  }

  /** Takes over a shard: re-arms the deadlines of its persisted machines, restores them, consumes its work. */
  acquire(shard: number): Promise<void> {
    return this.#acquire(shard, undefined);
  }

  async #acquire(shard: number, listing: readonly string[] | undefined): Promise<void> {
    if (this.#stopped) throw new HostStoppedError('actor host stopped');
    if (this.#held.has(shard)) return;
    this.#held.add(shard);
    const epoch = (this.#epochs.get(shard) ?? 0) + 1;
    this.#epochs.set(shard, epoch);
    const current = (): boolean => !this.#stopped && this.#epochs.get(shard) === epoch;
    try {
      await this.#restoreAndConsume(shard, listing, current);
    } catch (err) {
      // Not consuming it after all: forget the shard (its actors go too) so a retry starts clean.
      if (current()) await this.release(shard);
      throw err;
    }
  }

  async #restoreAndConsume(shard: number, listing: readonly string[] | undefined, current: () => boolean): Promise<void> {
    const keys = (listing ?? (await this.#kv.keys())).filter((k) => {
      const p = parseMachineKey(k);
      return p !== undefined && shardOf(p.zone, this.shardCount) === shard;
    });
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < keys.length && current()) {
        const key = keys[next++] as string;
        const e = await this.#kv.get(key);
        if (e === undefined) continue;
        let rec: PersistedMachine;
        try {
          rec = decodeRecord(key, e.value);
        } catch (err) {
          this.#log.warn({ err, key }, 'unreadable machine record skipped');
          continue;
        }
        this.#wheel.set(key, rec.deadlines);
        if (this.#residents.size < this.#policy.maxResident && this.#residents.get(key) === undefined) {
          await this.#mailboxes.post(rec.zone, () => Promise.resolve(this.#adopt(key, rec, e.revision, shard)));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(RESTORE_PARALLELISM, keys.length) }, worker));
    if (!current()) return;
    const consumer = await this.#broker.consume(this.queue, (msg) => this.#onWork(msg), {
      shards: [shard],
      concurrency: this.#opts.concurrency ?? 32,
      ...(this.#opts.ackWaitMs !== undefined ? { ackWaitMs: this.#opts.ackWaitMs } : {}),
      ...(this.#opts.maxDeliver !== undefined ? { maxDeliver: this.#opts.maxDeliver } : {}),
    });
    if (!current()) {
      await consumer.stop();
      return;
    }
    this.#consumers.set(shard, consumer);
    this.#log.info({ shard, machines: keys.length }, 'shard acquired');
  }

  /** Gives up a shard: stops consuming it and drops its actors without persisting anything. */
  async release(shard: number): Promise<void> {
    if (!this.#held.delete(shard)) return;
    this.#epochs.set(shard, (this.#epochs.get(shard) ?? 0) + 1);
    const consumer = this.#consumers.get(shard);
    this.#consumers.delete(shard);
    for (const r of [...this.#residents.values()]) {
      if (r.shard === shard) this.#drop(r);
    }
    this.#wheel.clearWhere((key) => this.#shardOfKey(key) === shard);
    await consumer?.stop();
    this.#log.info({ shard }, 'shard released');
  }

  /** Shards this host holds. */
  heldShards(): ReadonlySet<number> {
    return this.#held;
  }

  /** Publishes an event for a machine as durable work on the zone's shard subject. */
  submit(work: ZoneWork, opts: { msgId?: string } = {}): Promise<PublishAck> {
    const subject = this.#subjects.work(this.queue, canonicalZone(work.zone), this.shardCount);
    return this.#broker.publish(subject, encodeWork(work), opts.msgId !== undefined ? { msgId: opts.msgId } : {});
  }

  /** Delivers an event locally (no broker message), in the zone's order; resolves once persisted. */
  send(zone: string, machineId: string, kind: string, event: MachineEvent): Promise<MachineView> {
    const work: ZoneWork = { zone: canonicalZone(zone), machineId, kind, event };
    return this.#mailboxes.post(work.zone, async () => this.#viewResident(await this.#apply(work, undefined)));
  }

  /** The machine's current state: from memory if resident, else from KV (without restoring it). */
  async view(zone: string, machineId: string): Promise<MachineView | undefined> {
    const r = this.#residents.get(machineKey(zone, machineId));
    if (r !== undefined) return this.#viewResident(r);
    return readMachine(this.#kv, zone, machineId);
  }

  /** True while the machine is in memory. */
  isResident(zone: string, machineId: string): boolean {
    return this.#residents.get(machineKey(zone, machineId)) !== undefined;
  }

  stats(): HostStats {
    return {
      ...this.#stats,
      resident: this.#residents.size,
      withDeadlines: this.#wheel.size,
      heldShards: this.#held.size,
    };
  }

  /** Runs eviction now (it also runs every idleMs / 2). */
  evictNow(): void {
    this.#evict();
  }

  /** Stops consuming, lets running work finish, stops every actor and timer. Nothing is lost: all is in KV. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#sweep !== undefined) clearInterval(this.#sweep);
    clearInterval(this.#keepAliveTimer);
    clearInterval(this.#floorTimer);
    this.#wheel.stop();
    const consumers = [...this.#consumers.values()];
    this.#consumers.clear();
    await Promise.all(consumers.map((c) => c.stop()));
    await this.#mailboxes.drain();
    for (const r of [...this.#residents.values()]) this.#drop(r);
    this.#held.clear();
  }

  // --- internals ---

  #shardOfKey(key: string): number | undefined {
    const p = parseMachineKey(key);
    return p === undefined ? undefined : shardOf(p.zone, this.shardCount);
  }

  #onWork(msg: WorkMessage): Promise<void> {
    const work = decodeWork(msg.data);
    const zone = canonicalZone(work.zone);
    const inflight = { msg, since: this.#now() };
    this.#inflight.add(inflight);
    return this.#mailboxes.post(zone, async () => {
      try {
        await this.#apply({ ...work, zone }, msg);
      } finally {
        this.#inflight.delete(inflight);
      }
    });
  }

  /**
   * Restarts ack-wait of work not settled for a third of it (queued behind earlier work of its
   * zone, or in a slow KV write), so the broker does not redeliver it meanwhile (a second copy,
   * and a step towards max-deliver). One timer for all messages.
   */
  #keepAlive(): void {
    const now = this.#now();
    for (const w of this.#inflight) {
      if (w.since > now - this.#ackWaitMs / 3) continue;
      w.msg.working();
      w.since = now;
    }
  }

  /** Reads the settled floor of every consumed shard; one round at a time, failures ignored. */
  #refreshFloors(): void {
    if (this.#floorsRefreshing || this.#consumers.size === 0) return;
    this.#floorsRefreshing = true;
    const round = [...this.#consumers].map(async ([shard, consumer]) => {
      try {
        const floor = await consumer.settledFloor();
        if (floor > (this.#floors.get(shard) ?? 0)) this.#floors.set(shard, floor);
      } catch (err) {
        this.#log.debug({ err, shard }, 'settled floor not read');
      }
    });
    void Promise.all(round).finally(() => (this.#floorsRefreshing = false));
  }

  #onDeadline(key: string, id: string, at: number, deadline: number): void {
    const p = parseMachineKey(key);
    if (p === undefined || this.#stopped) return;
    const work: ZoneWork = { zone: p.zone, machineId: p.machineId, kind: '', event: { type: 'deadline', id, at } satisfies DeadlineEvent };
    this.#stats.deadlinesFired++;
    this.#mailboxes
      .post(p.zone, () => this.#apply(work, undefined))
      .catch((err: unknown) => {
        // Not persisted (e.g. the broker is unreachable): the machine did not see it; try again.
        this.#log.warn({ err, zone: p.zone, machine: p.machineId, deadline: id }, 'deadline not delivered; retrying in 1 s');
        const shard = this.#shardOfKey(key);
        if (!this.#stopped && shard !== undefined && this.#held.has(shard)) this.#wheel.retry(key, id, deadline, DEADLINE_RETRY_MS);
      });
  }

  /** One event into one machine, then persist, then ack. Runs inside the zone's mailbox. */
  async #apply(work: ZoneWork, msg: WorkMessage | undefined): Promise<Resident> {
    if (this.#stopped) throw new HostStoppedError('actor host stopped');
    const shard = shardOf(work.zone, this.shardCount);
    if (!this.#held.has(shard)) throw new ShardNotHeldError(work.zone, shard);
    const key = machineKey(work.zone, work.machineId);
    const r = await this.#load(key, work, shard);
    if (msg !== undefined && hasApplied(r.applied, msg)) return this.#ackDuplicate(r, key, work, msg, shard);
    const before = r.actor.getSnapshot() as Snapshot<unknown>;
    const event = { ...work.event, at: typeof work.event['at'] === 'number' ? work.event['at'] : this.#now() };
    r.actor.send(event);
    const after = r.actor.getSnapshot() as Snapshot<unknown> & { value?: unknown; error?: unknown };
    // A stopped actor ignores events: never ack work it did not apply.
    if (after.status === 'stopped') throw new OwnershipLostError(key);
    if (this.#opts.inspect?.connected === true) this.#opts.inspect.transition(r.actor, event);
    if (after.status === 'error') {
      this.#drop(r);
      throw new BadWorkError(`machine ${key} failed on "${event.type}": ${String(after.error)}`, { cause: after.error });
    }
    // A work message is recorded as applied even when it changed nothing, so it is not applied
    // again after a later transition.
    if (after !== before || r.revision === 0 || msg !== undefined) {
      if (msg !== undefined) r.applied = withApplied(r.applied, msg, this.#floors.get(shard) ?? 0, this.#duplicateWindowMs);
      await this.#persist(r);
      if (this.#log.isLevelEnabled('debug')) {
        this.#log.debug({ zone: r.zone, machine: r.machineId, event: event.type, state: after.value, revision: r.revision }, 'transition');
      }
    }
    if (!this.#held.has(shard)) throw new OwnershipLostError(key);
    await this.#opts.hooks?.afterPersist?.(key, work);
    if (msg !== undefined) {
      await msg.ack();
      this.#stats.acked++;
      await this.#opts.hooks?.afterAck?.(key, work);
    }
    // Only while still resident: a release (or eviction) during the awaits above stopped and
    // dropped this actor, and putting it back would hand later events to a stopped actor.
    if (this.#residents.get(key) === r) this.#residents.touch(key, r, this.#now());
    return r;
  }

  /** A redelivered message whose effect is persisted already: acked, not applied. */
  async #ackDuplicate(r: Resident, key: string, work: ZoneWork, msg: WorkMessage, shard: number): Promise<Resident> {
    if (!this.#held.has(shard)) throw new OwnershipLostError(key);
    await msg.ack();
    this.#stats.duplicates++;
    this.#log.debug({ zone: r.zone, machine: r.machineId, seq: msg.seq, deliveryCount: msg.deliveryCount }, 'applied already; acked');
    await this.#opts.hooks?.afterDuplicate?.(key, work);
    if (this.#residents.get(key) === r) this.#residents.touch(key, r, this.#now());
    return r;
  }

  async #load(key: string, work: ZoneWork, shard: number): Promise<Resident> {
    const known = this.#residents.get(key);
    if (known !== undefined && known.actor.getSnapshot().status !== 'stopped') return known;
    if (known !== undefined) this.#residents.delete(key);
    const e = await this.#kv.get(key);
    if (e !== undefined) {
      const rec = decodeRecord(key, e.value);
      this.#wheel.set(key, rec.deadlines);
      return this.#adopt(key, rec, e.revision, shard);
    }
    const kind = this.#kinds.get(work.kind);
    if (kind === undefined) throw new BadWorkError(new UnknownMachineKindError(work.kind || '(none)').message);
    const actor = createActor(kind.machine, this.#actorOptions(key));
    actor.start();
    const r: Resident = { key, zone: work.zone, machineId: work.machineId, kind: kind.kind, shard, actor, revision: 0, updatedAt: 0, applied: NOTHING_APPLIED };
    this.#stats.created++;
    this.#admit(r);
    return r;
  }

  /** Makes a persisted machine resident (restore: createActor with the snapshot). */
  #adopt(key: string, rec: PersistedMachine, revision: number, shard: number): Resident {
    const known = this.#residents.get(key);
    if (known !== undefined) return known;
    const kind = this.#kinds.get(rec.kind);
    if (kind === undefined) throw new UnknownMachineKindError(rec.kind);
    const actor = createActor(kind.machine, { ...this.#actorOptions(key), snapshot: rec.snapshot as Snapshot<unknown> });
    actor.start();
    const r: Resident = { key, zone: rec.zone, machineId: rec.machineId, kind: rec.kind, shard, actor, revision, updatedAt: rec.updatedAt, applied: rec.applied ?? NOTHING_APPLIED };
    this.#stats.restored++;
    this.#admit(r);
    return r;
  }

  #actorOptions(key: string): { id: string } {
    return { id: key };
  }

  #admit(r: Resident): void {
    this.#residents.touch(r.key, r, this.#now());
    if (this.#residents.size > this.#policy.maxResident) this.#evict();
  }

  /** The persisted form of a resident machine as it is now. */
  #recordOf(r: Resident, updatedAt: number): PersistedMachine {
    const snapshot = r.actor.getPersistedSnapshot();
    return {
      v: RECORD_VERSION,
      kind: r.kind,
      zone: r.zone,
      machineId: r.machineId,
      snapshot,
      deadlines: deadlinesOf(snapshot),
      updatedAt,
      writer: this.replicaId,
      applied: r.applied,
    };
  }

  async #persist(r: Resident): Promise<void> {
    const updatedAt = this.#now();
    const rec = this.#recordOf(r, updatedAt);
    const bytes = encodeRecord(rec);
    if (!this.#held.has(r.shard)) {
      this.#drop(r);
      throw new OwnershipLostError(r.key);
    }
    try {
      r.revision = r.revision === 0 ? await this.#kv.create(r.key, bytes) : await this.#kv.update(r.key, bytes, r.revision);
    } catch (err) {
      // Memory is now ahead of KV: forget the actor so the next event restores what KV holds.
      this.#drop(r);
      if (err instanceof RevisionMismatchError || err instanceof KeyExistsError) throw new OwnershipLostError(r.key, { cause: err });
      throw err;
    }
    r.updatedAt = updatedAt;
    this.#stats.persisted++;
    this.#wheel.set(r.key, rec.deadlines);
  }

  #viewResident(r: Resident): MachineView {
    return viewOf(this.#recordOf(r, r.updatedAt), r.revision);
  }

  #drop(r: Resident): void {
    if (this.#residents.get(r.key) === r) this.#residents.delete(r.key);
    r.actor.stop();
  }

  #evict(): void {
    const victims = this.#residents.victims(this.#policy, this.#now(), (key) => {
      const r = this.#residents.get(key);
      return r === undefined || this.#mailboxes.pending(r.zone) > 0;
    });
    for (const key of victims) {
      const r = this.#residents.get(key);
      if (r === undefined) continue;
      this.#drop(r);
      this.#stats.evicted++;
    }
  }
}
