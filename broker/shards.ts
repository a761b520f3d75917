// Shard leases on a KV bucket (nats-server 2.9 has no per-key TTL): a lease is a KV entry
// `<group>.lease.<shard>` = {owner, renewedAt}, held by compare-and-set on its revision and renewed
// every `renewMs`. A lease whose renewal is older than `leaseTimeoutMs` may be taken over by CAS.
// Replicas heartbeat `<group>.alive.<replica>`; each holds at most ceil(N / live replicas) shards.
//
// Takeover bound: a replica that dies renewed at most `renewMs` before; its leases expire
// `leaseTimeoutMs` after that renewal and a survivor's next tick (every `renewMs`) takes them, so
// takeover happens at most `leaseTimeoutMs + renewMs` after the death (3 s with the defaults),
// plus KV round trips. Assumes replica clocks agree to well within `leaseTimeoutMs - renewMs`.
import { randomBytes } from 'node:crypto';
import { decode, encode } from './codec.ts';
import { BrokerError, RevisionMismatchError } from './errors.ts';
import { checkName, fnv1a32 } from './subjects.ts';
import type { KvBucket, Logger, ShardCoordinator, ShardEvent, ShardListener } from './types.ts';

export interface ShardCoordinatorOptions {
  /** Bucket holding leases and heartbeats (e.g. `await broker.kv('shards')`). */
  kv: KvBucket;
  /** Replicas of one role share a group, e.g. `signer`. */
  group: string;
  shardCount: number;
  replicaId?: string;
  /** Renewal and heartbeat period. Default 1000 ms. */
  renewMs?: number;
  /** A lease not renewed for this long may be taken over. Default 2000 ms; must exceed renewMs. */
  leaseTimeoutMs?: number;
  logger?: Logger;
  now?: () => number;
}

interface Lease {
  owner: string;
  renewedAt: number;
}

function readLease(value: Uint8Array): Lease | undefined {
  try {
    const v = decode(value);
    if (typeof v !== 'object' || v === null) return undefined;
    const { owner, renewedAt } = v as Record<string, unknown>;
    return typeof owner === 'string' && typeof renewedAt === 'number' ? { owner, renewedAt } : undefined;
  } catch {
    return undefined;
  }
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Creates a coordinator; call `start()` after registering listeners. */
export function createShardCoordinator(opts: ShardCoordinatorOptions): ShardCoordinator {
  return new KvShardCoordinator(opts);
}

class KvShardCoordinator implements ShardCoordinator {
  readonly replicaId: string;
  readonly shardCount: number;
  private readonly kv: KvBucket;
  private readonly group: string;
  private readonly renewMs: number;
  private readonly leaseTimeoutMs: number;
  private readonly logger: Logger;
  private readonly now: () => number;
  /** Held shards → revision of our last write and when it succeeded. */
  private readonly held = new Map<number, { revision: number; renewedAt: number }>();
  private readonly listeners: Record<ShardEvent, Set<ShardListener>> = { acquired: new Set(), lost: new Set() };
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private ticking: Promise<void> = Promise.resolve();

  constructor(opts: ShardCoordinatorOptions) {
    this.kv = opts.kv;
    this.group = checkName('group', opts.group);
    this.shardCount = opts.shardCount;
    if (!Number.isInteger(this.shardCount) || this.shardCount < 1 || this.shardCount > 1024) {
      throw new BrokerError(`shard count must be an integer in 1..1024, got ${this.shardCount}`);
    }
    this.replicaId = opts.replicaId ?? randomBytes(6).toString('hex');
    this.renewMs = opts.renewMs ?? 1000;
    this.leaseTimeoutMs = opts.leaseTimeoutMs ?? 2000;
    if (this.leaseTimeoutMs <= this.renewMs) throw new BrokerError('leaseTimeoutMs must exceed renewMs');
    this.logger = opts.logger ?? silent;
    this.now = opts.now ?? Date.now;
  }

  owned(): ReadonlySet<number> {
    return new Set(this.held.keys());
  }

  on(event: ShardEvent, listener: ShardListener): () => void {
    this.listeners[event].add(listener);
    return () => this.listeners[event].delete(listener);
  }

  private leaseKey(shard: number): string {
    return `${this.group}.lease.${shard}`;
  }

  private aliveKey(replica: string): string {
    return `${this.group}.alive.${replica}`;
  }

  private async emit(event: ShardEvent, shard: number): Promise<void> {
    this.logger.info({ group: this.group, replica: this.replicaId, shard }, `shard ${event}`);
    for (const l of this.listeners[event]) {
      try {
        await l(shard);
      } catch (err) {
        this.logger.error({ group: this.group, shard, event, err }, 'shard listener failed');
      }
    }
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.runTick();
  }

  private runTick(): Promise<void> {
    this.ticking = this.tick()
      .catch((err: unknown) => this.logger.warn({ group: this.group, err }, 'shard lease tick failed'))
      .finally(() => {
        if (!this.running) return;
        this.timer = setTimeout(() => void this.runTick(), this.renewMs);
        this.timer.unref();
      });
    return this.ticking;
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.ticking;
    for (const [shard, h] of [...this.held]) {
      this.held.delete(shard);
      await this.emit('lost', shard);
      await this.kv.delete(this.leaseKey(shard), h.revision).catch(() => undefined);
    }
    await this.kv.delete(this.aliveKey(this.replicaId)).catch(() => undefined);
  }

  /** Live replicas (recent heartbeat), ourselves included; also drops long-dead heartbeats. */
  private async liveReplicas(now: number): Promise<number> {
    let live = 1;
    for (const key of await this.kv.keys(`${this.group}.alive.`)) {
      if (key === this.aliveKey(this.replicaId)) continue;
      const e = await this.kv.get(key);
      const at = e !== undefined ? readLease(e.value)?.renewedAt : undefined;
      if (e === undefined || at === undefined) continue;
      if (now - at <= this.leaseTimeoutMs) live++;
      else if (now - at > 30 * this.leaseTimeoutMs) await this.kv.delete(key, e.revision).catch(() => undefined);
    }
    return live;
  }

  private async tick(): Promise<void> {
    const now = this.now();
    const me: Lease = { owner: this.replicaId, renewedAt: now };
    let target: number;
    try {
      await this.kv.put(this.aliveKey(this.replicaId), encode(me));
      target = Math.ceil(this.shardCount / (await this.liveReplicas(now)));
    } catch (err) {
      // KV unreachable: still give up leases we can no longer prove we hold (below), take none.
      this.logger.warn({ group: this.group, err }, 'shard heartbeat failed');
      target = 0;
    }

    for (const [shard, h] of [...this.held]) {
      try {
        const revision = await this.kv.update(this.leaseKey(shard), encode(me), h.revision);
        this.held.set(shard, { revision, renewedAt: now });
      } catch (err) {
        const takenOver = err instanceof RevisionMismatchError;
        // Without a renewal we can no longer prove we hold it once the next tick would be too late.
        if (takenOver || now + this.renewMs >= h.renewedAt + this.leaseTimeoutMs) {
          this.held.delete(shard);
          this.logger.warn({ group: this.group, shard, err }, 'shard lease lost');
          await this.emit('lost', shard);
        }
      }
    }

    if (target === 0) return;
    // Too many (another replica joined): stop work first, then free the lease for others.
    const extra = [...this.held.keys()].sort((a, b) => b - a).slice(0, Math.max(0, this.held.size - target));
    for (const shard of extra) {
      const h = this.held.get(shard);
      this.held.delete(shard);
      await this.emit('lost', shard);
      if (h !== undefined) await this.kv.delete(this.leaseKey(shard), h.revision).catch(() => undefined);
    }

    const start = fnv1a32(this.replicaId) % this.shardCount;
    for (let i = 0; i < this.shardCount && this.held.size < target; i++) {
      const shard = (start + i) % this.shardCount;
      if (this.held.has(shard)) continue;
      const revision = await this.tryAcquire(shard, me);
      if (revision === undefined) continue;
      this.held.set(shard, { revision, renewedAt: now });
      await this.emit('acquired', shard);
    }
  }

  private async tryAcquire(shard: number, me: Lease): Promise<number | undefined> {
    const key = this.leaseKey(shard);
    try {
      const e = await this.kv.get(key);
      if (e === undefined) return await this.kv.create(key, encode(me));
      const lease = readLease(e.value);
      const expired = lease === undefined || me.renewedAt - lease.renewedAt > this.leaseTimeoutMs;
      if (!expired && lease.owner !== this.replicaId) return undefined;
      if (lease !== undefined && lease.owner !== this.replicaId) {
        this.logger.info({ group: this.group, shard, from: lease.owner }, 'taking over expired shard lease');
      }
      return await this.kv.update(key, encode(me), e.revision);
    } catch (err) {
      this.logger.debug({ group: this.group, shard, err }, 'shard lease not acquired');
      return undefined;
    }
  }
}
