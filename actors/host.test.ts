// Actor host on the embedded broker: persist, ordering, deadlines, eviction, shard release.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEmbeddedBroker, EmbeddedHub } from '../broker/embedded.ts';
import { createShardCoordinator } from '../broker/shards.ts';
import type { Broker } from '../broker/types.ts';
import { sequencedCounter } from '../machines/sequenced-counter.ts';
import { pollUntil } from '../test/support/poll.ts';
import { ActorHost, listZoneMachines } from './host.ts';
import { componentLogger } from './logger.ts';
import { RecordError } from './errors.ts';
import { decodeRecord } from './record.ts';
import { machineKey } from './keys.ts';

const kinds = [{ kind: 'sequenced-counter', machine: sequencedCounter }];
const logger = componentLogger({ component: 'actor-host-test' });

async function openHost(opts: Partial<Parameters<typeof ActorHost.open>[0]> = {}, hub = new EmbeddedHub()) {
  const broker = createEmbeddedBroker({ hub });
  const host = await ActorHost.open({ broker, kinds, shardCount: 4, logger, ...opts });
  return { broker, host, hub };
}

test('a local event is persisted to KV before send resolves, with CAS revisions', { timeout: 10_000 }, async () => {
  const { broker, host } = await openHost();
  try {
    await host.acquireAll();
    const v1 = await host.send('Example.COM', 'c1', 'sequenced-counter', { type: 'inc', seq: 1 });
    assert.equal((v1.context as { count: number }).count, 1);
    const kv = await broker.kv('machines');
    const e = await kv.get(machineKey('example.com.', 'c1'));
    assert.ok(e !== undefined);
    const rec = decodeRecord('k', e.value);
    assert.equal(rec.kind, 'sequenced-counter');
    assert.equal(rec.zone, 'example.com.');
    assert.equal((rec.snapshot as { context: { count: number } }).context.count, 1);
    await host.send('example.com.', 'c1', 'sequenced-counter', { type: 'inc', seq: 2 });
    const e2 = await kv.get(machineKey('example.com.', 'c1'));
    assert.ok(e2 !== undefined && e2.revision > e.revision);
    // An event the machine ignores (no transition) writes nothing.
    await host.send('example.com.', 'c1', 'sequenced-counter', { type: 'deadline', id: 'none' });
    const e3 = await kv.get(machineKey('example.com.', 'c1'));
    assert.equal(e3?.revision, e2.revision);
    const listed = await listZoneMachines(kv, 'example.com');
    assert.deepEqual(listed.map((m) => [m.machineId, m.value]), [['c1', 'counting']]);
  } finally {
    await host.stop();
    await broker.close();
  }
});

test('work messages of one zone are applied in order under concurrency', { timeout: 20_000 }, async () => {
  const { broker, host } = await openHost({ concurrency: 64 });
  try {
    await host.acquireAll();
    const zones = ['a.example.', 'b.example.', 'c.example.', 'd.example.', 'e.example.'];
    const perZone = 200;
    const pubs: Promise<unknown>[] = [];
    for (let seq = 1; seq <= perZone; seq++) {
      for (const zone of zones) {
        pubs.push(host.submit({ zone, machineId: 'ctr', kind: 'sequenced-counter', event: { type: 'inc', seq } }));
      }
    }
    await Promise.all(pubs);
    await pollUntil('every event applied', async () => {
      for (const zone of zones) {
        const v = await host.view(zone, 'ctr');
        if ((v?.context as { count?: number } | undefined)?.count !== perZone) return false;
      }
      return true;
    });
    for (const zone of zones) {
      const ctx = (await host.view(zone, 'ctr'))?.context as { outOfOrder: number; repeats: number; lastSeq: number };
      assert.deepEqual([ctx.outOfOrder, ctx.repeats, ctx.lastSeq], [0, 0, perZone], zone);
    }
    assert.equal(host.stats().acked, zones.length * perZone);
  } finally {
    await host.stop();
    await broker.close();
  }
});

test('a deadline in context fires at its absolute time, also after restore in another host', { timeout: 15_000 }, async () => {
  const hub = new EmbeddedHub();
  const a = await openHost({}, hub);
  const b = await openHost({}, hub);
  try {
    await a.host.acquireAll();
    const armed = await a.host.send('t.example.', 'timer', 'sequenced-counter', { type: 'arm', ms: 1500 });
    const deadline = (armed.context as { deadlines: { expire: number } }).deadlines.expire;
    assert.equal(armed.value, 'waiting');
    await a.host.stop(); // host A gone before the deadline; only KV knows about it
    const restoreAt = Date.now();
    await b.host.acquireAll();
    assert.equal(b.host.isResident('t.example.', 'timer'), true, 'restored on acquire');
    const fired = await pollUntil('deadline fired', async () => {
      const v = await b.host.view('t.example.', 'timer');
      return v?.value === 'expired' ? v : undefined;
    });
    const firedAt = (fired.context as { firedAt: number }).firedAt;
    assert.ok(firedAt >= deadline, `fired ${firedAt - deadline} ms early`);
    assert.ok(restoreAt < deadline, 'restore happened before the deadline');
    assert.deepEqual(fired.deadlines, {});
  } finally {
    await a.host.stop();
    await b.host.stop();
    await a.broker.close();
    await b.broker.close();
  }
});

test('idle actors are evicted and restored on demand; an evicted actor still gets its deadline', { timeout: 15_000 }, async () => {
  const { broker, host } = await openHost({ idleMs: 200 });
  try {
    await host.acquireAll();
    for (let i = 0; i < 20; i++) {
      await host.send(`z${i}.example.`, 'ctr', 'sequenced-counter', { type: 'inc', seq: 1 });
    }
    await host.send('w.example.', 'timer', 'sequenced-counter', { type: 'arm', ms: 1200 });
    assert.equal(host.stats().resident, 21);
    await pollUntil('all evicted', () => host.stats().resident === 0);
    assert.equal(host.isResident('w.example.', 'timer'), false);
    // Restored on demand from KV, state intact.
    const v = await host.send('z3.example.', 'ctr', 'sequenced-counter', { type: 'inc', seq: 2 });
    assert.equal((v.context as { count: number }).count, 2);
    assert.ok(host.stats().restored >= 1);
    // The timer wheel wakes the evicted machine when its deadline is due.
    await pollUntil('evicted timer fired', async () => (await host.view('w.example.', 'timer'))?.value === 'expired');
  } finally {
    await host.stop();
    await broker.close();
  }
});

test('maxResident caps the actors in memory', { timeout: 15_000 }, async () => {
  const { broker, host } = await openHost({ maxResident: 10, idleMs: 0 });
  try {
    await host.acquireAll();
    for (let i = 0; i < 50; i++) await host.send(`m${i}.example.`, 'ctr', 'sequenced-counter', { type: 'inc', seq: 1 });
    assert.ok(host.stats().resident <= 10, `resident ${host.stats().resident}`);
    assert.ok(host.stats().evicted >= 40);
    const v = await host.view('m0.example.', 'ctr');
    assert.equal((v?.context as { count: number }).count, 1);
  } finally {
    await host.stop();
    await broker.close();
  }
});

test('a released shard drops its actors without persisting and stops consuming', { timeout: 10_000 }, async () => {
  const { broker, host } = await openHost({ shardCount: 1 });
  try {
    await host.acquire(0);
    await host.send('r.example.', 'ctr', 'sequenced-counter', { type: 'inc', seq: 1 });
    await host.release(0);
    assert.equal(host.stats().resident, 0);
    await assert.rejects(host.send('r.example.', 'ctr', 'sequenced-counter', { type: 'inc', seq: 2 }), {
      name: 'ShardNotHeldError',
    });
    const kv = await broker.kv('machines');
    const listed = await listZoneMachines(kv, 'r.example.');
    assert.equal((listed[0]?.context as { count: number }).count, 1);
  } finally {
    await host.stop();
    await broker.close();
  }
});

test('a shard released while an event is between persist and ack does not leave a stopped actor behind', { timeout: 10_000 }, async () => {
  // The race: the zone's event is persisted, then (while it waits to ack) the shard is released
  // and its actors stopped; the shard comes back. The stopped actor must not become resident
  // again, or later events go to it, are ignored, and are acked without being applied.
  const ref: { host?: ActorHost } = {};
  let releaseDuringNext = false;
  const opened = await openHost({
    shardCount: 1,
    hooks: {
      afterPersist: async () => {
        if (!releaseDuringNext) return;
        releaseDuringNext = false;
        await ref.host?.release(0);
      },
    },
  });
  const { broker, host } = opened;
  ref.host = host;
  try {
    await host.acquire(0);
    await host.send('race.example.', 'ctr', 'sequenced-counter', { type: 'inc', seq: 1 });
    releaseDuringNext = true;
    await host.send('race.example.', 'ctr', 'sequenced-counter', { type: 'inc', seq: 2 });
    await host.acquire(0);
    const v3 = await host.send('race.example.', 'ctr', 'sequenced-counter', { type: 'inc', seq: 3 });
    assert.equal((v3.context as { count: number }).count, 3, 'the third event was applied');
    const kv = await broker.kv('machines');
    const listed = await listZoneMachines(kv, 'race.example.');
    assert.equal((listed[0]?.context as { count: number }).count, 3, 'and persisted');
  } finally {
    await host.stop();
    await broker.close();
  }
});

test('a shard whose acquisition fails is retried while the coordinator holds its lease', { timeout: 15_000 }, async () => {
  const hub = new EmbeddedHub();
  const broker = createEmbeddedBroker({ hub });
  // The first consumer set-up fails, as a broker hiccup would; later ones work.
  let failures = 1;
  const flaky: Broker = Object.create(broker) as Broker;
  flaky.consume = (...args: Parameters<Broker['consume']>) => {
    if (failures-- > 0) return Promise.reject(new Error('consumer set-up failed'));
    return broker.consume(...args);
  };
  const host = await ActorHost.open({ broker: flaky, kinds, shardCount: 1, logger });
  const coordinator = createShardCoordinator({ kv: await broker.kv('shards'), group: 'actors', shardCount: 1, renewMs: 100, leaseTimeoutMs: 300 });
  const detach = host.attach(coordinator);
  try {
    await coordinator.start();
    await pollUntil('the shard consumed after a retry', () => host.heldShards().has(0) && failures < 0, { timeoutMs: 10_000 });
    await host.submit({ zone: 'retry.example.', machineId: 'ctr', kind: 'sequenced-counter', event: { type: 'inc', seq: 1 } });
    const kv = await broker.kv('machines');
    await pollUntil('the event applied', async () => {
      const listed = await listZoneMachines(kv, 'retry.example.');
      return (listed[0]?.context as { count: number } | undefined)?.count === 1;
    });
  } finally {
    detach();
    await coordinator.stop();
    await host.stop();
    await broker.close();
  }
});

test('an undecodable work message is dead-lettered once, and the consumer goes on', { timeout: 10_000 }, async () => {
  const { broker, host } = await openHost({ shardCount: 1 });
  try {
    await host.acquireAll();
    await broker.publish('mpdns.work.actors.0.bad', new TextEncoder().encode('not msgpack'));
    await broker.publish('mpdns.work.actors.0.bad', new Uint8Array([0x80])); // empty map: no zone
    await host.submit({ zone: 'ok.example.', machineId: 'ctr', kind: 'sequenced-counter', event: { type: 'inc', seq: 1 } });
    await host.submit({ zone: 'ok.example.', machineId: 'x', kind: 'no-such-kind', event: { type: 'inc', seq: 1 } });
    await pollUntil('good work applied', async () => (await host.view('ok.example.', 'ctr'))?.revision);
    const dead = await pollUntil('three dead letters', async () => {
      const d = await broker.deadLetters('actors');
      return d.length === 3 ? d : undefined;
    });
    const reasons = dead.map((d) => d.reason).sort();
    assert.match(reasons[0] ?? '', /expected one msgpack value/);
    assert.match(reasons[1] ?? '', /unknown machine kind "no-such-kind"/);
    assert.match(reasons[2] ?? '', /work message lacks a zone/);
  } finally {
    await host.stop();
    await broker.close();
  }
});

test('listZoneMachines: an unreadable record throws, or with onUnreadable is reported and skipped', { timeout: 10_000 }, async () => {
  const { broker, host } = await openHost();
  try {
    await host.acquireAll();
    await host.send('u.example.', 'good', 'sequenced-counter', { type: 'inc', seq: 1 });
    const kv = await broker.kv('machines');
    await kv.put(machineKey('u.example.', 'bad'), Uint8Array.of(0xff, 0x00, 0x13, 0x37));
    await assert.rejects(listZoneMachines(kv, 'u.example.'), RecordError);
    const unreadable: string[] = [];
    const listed = await listZoneMachines(kv, 'u.example.', (err) => unreadable.push(err.key));
    assert.deepEqual(listed.map((m) => m.machineId), ['good']);
    assert.deepEqual(unreadable, [machineKey('u.example.', 'bad')]);
  } finally {
    await host.stop();
    await broker.close();
  }
});

test('a work message redelivered after its effect was persisted is acked, not applied again; one that changed nothing is recorded too', { timeout: 15_000 }, async () => {
  // The first persist of seq 2 "crashes" before its ack (the hook throws): the message is
  // redelivered with its effect already in KV.
  let failOnce = true;
  const { broker, host } = await openHost({
    shardCount: 1,
    hooks: {
      afterPersist: (_key, work) => {
        if (work.event['seq'] === 2 && failOnce) {
          failOnce = false;
          throw new Error('crash between persist and ack');
        }
      },
    },
  });
  try {
    await host.acquireAll();
    const submit = (event: { type: string; [k: string]: unknown }) =>
      host.submit({ zone: 'dup.example.', machineId: 'ctr', kind: 'sequenced-counter', event });
    await submit({ type: 'inc', seq: 1 });
    const two = await submit({ type: 'inc', seq: 2 });
    const noop = await submit({ type: 'deadline', id: 'none' }); // no transition
    await pollUntil('the redelivery acked as a duplicate', () => host.stats().duplicates === 1, { timeoutMs: 10_000 });
    const v = await host.view('dup.example.', 'ctr');
    const ctx = v?.context as { count: number; repeats: number; log: [number, number][] };
    assert.deepEqual([ctx.count, ctx.repeats, ctx.log.map(([s]) => s)], [2, 0, [1, 2]]);
    const rec = decodeRecord(machineKey('dup.example.', 'ctr'), (await (await broker.kv('machines')).get(machineKey('dup.example.', 'ctr')))?.value ?? new Uint8Array());
    const applied = rec.applied ?? { floor: 0, seqs: [] };
    for (const seq of [two.seq, noop.seq]) assert.ok(seq <= applied.floor || applied.seqs.includes(seq), `seq ${seq} recorded`);
  } finally {
    await host.stop();
    await broker.close();
  }
});

test('a second stored copy of a message (a publisher retry the broker did not drop) is acked, not applied', { timeout: 15_000 }, async () => {
  // A hub whose duplicate window is 0 ms keeps both copies, as nats-server 2.9 does after a
  // crash when the first copy was consumed already.
  const { broker, host } = await openHost({ shardCount: 1 }, new EmbeddedHub(0));
  try {
    await host.acquireAll();
    const work = { zone: 'retry.example.', machineId: 'ctr', kind: 'sequenced-counter', event: { type: 'inc', seq: 1 } };
    const first = await host.submit(work, { msgId: 'retry-1' });
    await pollUntil('the first copy applied', () => host.stats().acked === 1);
    const second = await host.submit(work, { msgId: 'retry-1' });
    assert.notEqual(second.seq, first.seq, 'two copies stored');
    await pollUntil('the copy acked as a duplicate', () => host.stats().duplicates === 1);
    const ctx = (await host.view('retry.example.', 'ctr'))?.context as { count: number; repeats: number };
    assert.deepEqual([ctx.count, ctx.repeats], [1, 0]);
  } finally {
    await host.stop();
    await broker.close();
  }
});
