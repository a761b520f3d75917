// Shard leases on the embedded broker's KV: balance, disjointness, takeover of a dead replica
// within leaseTimeoutMs + renewMs, and a partitioned replica giving its shards up.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { createEmbeddedBroker } from './embedded.ts';
import { createShardCoordinator } from './shards.ts';
import type { KvBucket, ShardCoordinator } from './types.ts';

const T = { timeout: 15_000 };

async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<number> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - t0;
}

/** A KV that fails every call once `dead` is set: a replica cut off (or frozen) without cleanup. */
function severable(kv: KvBucket): { kv: KvBucket; sever(): void; lastWriteAt(): number } {
  let dead = false;
  let lastWrite = 0;
  const writes = new Set<PropertyKey>(['put', 'update', 'create']);
  const proxy = new Proxy(kv, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (dead) return Promise.reject(new Error('connection lost'));
        const result = (v as (...a: unknown[]) => unknown).apply(target, args);
        if (writes.has(prop)) void Promise.resolve(result).then(() => (lastWrite = Date.now()), () => undefined);
        return result;
      };
    },
  });
  return { kv: proxy, sever: () => (dead = true), lastWriteAt: () => lastWrite };
}

function track(c: ShardCoordinator): { events: string[] } {
  const events: string[] = [];
  c.on('acquired', (s) => void events.push(`+${s}`));
  c.on('lost', (s) => void events.push(`-${s}`));
  return { events };
}

describe('shard leases (embedded KV)', () => {
  it('balances 8 shards over two replicas and takes over a dead one within the bound', T, async () => {
    const broker = createEmbeddedBroker({ namespace: 'leases' });
    const kv = await broker.kv('shards');
    // Generous timers: a loaded 2-core CI stalls event loops for a few hundred ms at times.
    const renewMs = 400;
    const leaseTimeoutMs = 1200;
    const a = createShardCoordinator({ kv, group: 'signer', shardCount: 8, replicaId: 'a', renewMs, leaseTimeoutMs });
    const bKv = severable(kv);
    const b = createShardCoordinator({ kv: bKv.kv, group: 'signer', shardCount: 8, replicaId: 'b', renewMs, leaseTimeoutMs });
    const ta = track(a);
    const tb = track(b);
    try {
      await a.start();
      assert.equal(a.owned().size, 8, 'alone, a replica takes every shard');
      await b.start();
      await until('balance', () => a.owned().size === 4 && b.owned().size === 4);
      const union = new Set([...a.owned(), ...b.owned()]);
      assert.equal(union.size, 8, 'disjoint and complete');
      assert.ok(ta.events.some((e) => e.startsWith('-')), 'a gave shards up for b');
      const bShards = [...b.owned()];

      let firstTakeoverAt = 0;
      a.on('acquired', (s) => {
        if (firstTakeoverAt === 0 && bShards.includes(s)) firstTakeoverAt = Date.now();
      });
      bKv.sever();
      const t0 = Date.now();
      await until('takeover', () => a.owned().size === 8);
      const took = Date.now() - t0;
      process.stderr.write(`# takeover after ${took} ms (bound ${leaseTimeoutMs + renewMs} ms)\n`);
      // Safety: a takes b's shards only once b's last successful renewal is a lease timeout old.
      // (Measured from that renewal, not from sever(): on a loaded machine b's renewals can run
      // late, and then its lease rightly expires sooner after the cut.)
      const sinceRenewal = firstTakeoverAt - bKv.lastWriteAt();
      assert.ok(sinceRenewal >= leaseTimeoutMs - 20, `not before the lease expired (${sinceRenewal} ms after b's last renewal)`);
      // The cut-off replica stops working on its shards by itself, before they can be taken over.
      await until('b gives up', () => b.owned().size === 0);
      for (const s of bShards) assert.ok(tb.events.includes(`-${s}`));
    } finally {
      await a.stop();
      await b.stop();
      await broker.close();
    }
  });

  it('stop releases leases at once so another replica takes them on its next tick', T, async () => {
    const broker = createEmbeddedBroker({ namespace: 'leases2' });
    const kv = await broker.kv('shards');
    const a = createShardCoordinator({ kv, group: 'combiner', shardCount: 4, replicaId: 'a', renewMs: 100, leaseTimeoutMs: 5000 });
    const b = createShardCoordinator({ kv, group: 'combiner', shardCount: 4, replicaId: 'b', renewMs: 100, leaseTimeoutMs: 5000 });
    try {
      await a.start();
      await b.start();
      await until('balance', () => a.owned().size === 2 && b.owned().size === 2);
      await a.stop();
      assert.equal(a.owned().size, 0);
      await until('b takes all', () => b.owned().size === 4, 1000);
      assert.deepEqual((await kv.keys('combiner.alive.')).sort(), ['combiner.alive.b']);
    } finally {
      await a.stop();
      await b.stop();
      await broker.close();
    }
  });
});
