// One contract suite, run against the embedded broker and against JetStream on a nats-server
// this test starts itself (free port, temp store dir).
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import {
  BucketNotFoundError,
  CodecError,
  KeyExistsError,
  NoRespondersError,
  RequestTimeoutError,
  RevisionMismatchError,
  Subjects,
  decode,
  encode,
  type Broker,
  type KvChange,
  type WorkMessage,
} from '../broker/index.ts';
import { createEmbeddedBroker } from '../broker/embedded.ts';
import { createJetStreamBroker } from '../broker/jetstream.ts';
import { startNatsServer, type NatsServer } from './support/nats.ts';
import { pollUntil } from './support/poll.ts';
import { haveBinary } from './support/daemon.ts';

const T = { timeout: 20_000 };
let n = 0;
const uniqueQueue = (): string => `q${Date.now().toString(36)}${n++}`;
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

function contract(name: string, make: () => Promise<Broker>, cleanup: () => Promise<void> = async () => {}): void {
  describe(`broker contract: ${name}`, () => {
    let broker: Broker;
    let subjects: Subjects;
    const release: (() => void)[] = [];
    before(async () => {
      broker = await make();
      subjects = new Subjects(broker.namespace);
    });
    after(async () => {
      for (const r of release) r();
      await broker.close();
      await cleanup();
    });

    it('publishes, consumes in order, and an acked message is not redelivered', T, async () => {
      const q = uniqueQueue();
      const seen: string[] = [];
      const c = await broker.consume(q, (m) => {
        seen.push(text(m.data));
        return m.ack();
      }, { ackWaitMs: 400 });
      for (const s of ['a', 'b', 'c']) await broker.publish(subjects.work(q, `zone-${s}.example.`), bytes(s));
      await pollUntil('three messages', () => seen.length >= 3);
      const ackedAt = Date.now();
      // Past two ack-waits, a late redelivery would have shown up before the marker.
      await pollUntil('two ack-waits', () => Date.now() - ackedAt > 900);
      await broker.publish(subjects.work(q, 'marker.'), bytes('marker'));
      await pollUntil('marker', () => seen.includes('marker'));
      assert.deepEqual(seen, ['a', 'b', 'c', 'marker']);
      await c.stop();
    });

    it('redelivers unsettled work after ack-wait', T, async () => {
      const q = uniqueQueue();
      const deliveries: number[] = [];
      const c = await broker.consume(q, async (m) => {
        deliveries.push(m.deliveryCount);
        if (m.deliveryCount === 1) await new Promise<void>((r) => release.push(r)); // hangs: crash-like
        else await m.ack();
      }, { ackWaitMs: 500, concurrency: 2 });
      const t0 = Date.now();
      await broker.publish(subjects.work(q, 'x.example.'), bytes('x'));
      await pollUntil('redelivery', () => deliveries.includes(2));
      assert.ok(Date.now() - t0 >= 450, 'not before ack-wait');
      assert.deepEqual(deliveries, [1, 2]);
      for (const r of release.splice(0)) r();
      await c.stop();
    });

    it('nak without delay waits the consumer backoff, then redelivers', T, async () => {
      const q = uniqueQueue();
      const at: number[] = [];
      const c = await broker.consume(q, (m) => {
        at.push(Date.now());
        if (m.deliveryCount === 1) m.nak();
        else return m.ack();
      }, { backoffMs: [600], ackWaitMs: 5000 });
      await broker.publish(subjects.work(q, 'x.'), bytes('x'));
      await pollUntil('second delivery', () => at.length >= 2);
      const gap = (at[1] ?? 0) - (at[0] ?? 0);
      assert.ok(gap >= 550, `nak backoff gap ${gap} ms, shorter than the 600 ms asked`);
      await c.stop();
    });

    it('a handler that keeps failing is dead-lettered after maxDeliver', T, async () => {
      const q = uniqueQueue();
      let calls = 0;
      const c = await broker.consume(q, () => {
        calls++;
        throw new Error('transient failure');
      }, { maxDeliver: 2, backoffMs: [50], ackWaitMs: 5000 });
      await broker.publish(subjects.work(q, 'y.'), bytes('y'), { msgId: 'y-1' });
      const dl = await pollUntil('dead letter', async () => {
        const l = await broker.deadLetters(q);
        return l.length > 0 ? l : undefined;
      });
      assert.equal(calls, 2);
      assert.equal(dl.length, 1);
      assert.match(dl[0]?.reason ?? '', /max deliveries \(2\)/);
      assert.equal(dl[0]?.msgId, 'y-1');
      assert.equal(text(dl[0]?.data ?? new Uint8Array()), 'y');
      await c.stop();
    });

    it('term writes one dead-letter record with the reason and is not redelivered', T, async () => {
      const q = uniqueQueue();
      const seen: string[] = [];
      const c = await broker.consume(q, async (m) => {
        seen.push(text(m.data));
        if (text(m.data) === 'poison') await m.term('zone not served here');
        else await m.ack();
      }, { ackWaitMs: 400 });
      await broker.publish(subjects.work(q, 'p.'), bytes('poison'));
      const dl = await pollUntil('dead letter', async () => {
        const l = await broker.deadLetters(q);
        return l.length > 0 ? l : undefined;
      });
      assert.equal(dl[0]?.reason, 'zone not served here');
      assert.equal(dl[0]?.subject, subjects.work(q, 'p.'));
      assert.equal(dl[0]?.deliveryCount, 1);
      const t = Date.now();
      await pollUntil('two ack-waits', () => Date.now() - t > 900);
      await broker.publish(subjects.work(q, 'p.'), bytes('after'));
      await pollUntil('marker', () => seen.includes('after'));
      assert.deepEqual(seen, ['poison', 'after']);
      assert.equal((await broker.deadLetters(q)).length, 1);
      await c.stop();
    });

    it('de-duplicates a retried publish with the same msgId', T, async () => {
      const q = uniqueQueue();
      const seen: string[] = [];
      const first = await broker.publish(subjects.work(q, 'd.'), bytes('once'), { msgId: 'sync-42' });
      const retry = await broker.publish(subjects.work(q, 'd.'), bytes('once'), { msgId: 'sync-42' });
      assert.equal(first.duplicate, false);
      assert.equal(retry.duplicate, true);
      assert.equal(retry.seq, first.seq);
      await broker.publish(subjects.work(q, 'd.'), bytes('marker'), { msgId: 'sync-43' });
      const c = await broker.consume(q, (m) => {
        seen.push(`${text(m.data)}:${m.msgId ?? ''}`);
      });
      await pollUntil('marker', () => seen.length >= 2);
      assert.deepEqual(seen, ['once:sync-42', 'marker:sync-43']);
      await c.stop();
    });

    it('a delivery carries its publish sequence (the same when redelivered) and store time; the settled floor follows acks', T, async () => {
      const q = uniqueQueue();
      const seen: [string, number, number][] = [];
      const stored: number[] = [];
      let holdB = true;
      const c = await broker.consume(q, (m) => {
        seen.push([text(m.data), m.seq, m.deliveryCount]);
        stored.push(m.storedAt);
        if (text(m.data) === 'b' && holdB) {
          holdB = false;
          m.nak(50);
        }
      }, { ackWaitMs: 5000 });
      const a = await broker.publish(subjects.work(q, 'a.'), bytes('a'));
      await pollUntil('a acked', async () => (await c.settledFloor()) >= a.seq);
      const b = await broker.publish(subjects.work(q, 'b.'), bytes('b'));
      await pollUntil('b redelivered and acked', () => seen.length >= 3);
      assert.deepEqual(seen, [['a', a.seq, 1], ['b', b.seq, 1], ['b', b.seq, 2]]);
      assert.ok(stored.every((t) => Math.abs(t - Date.now()) < 60_000), `stored at ${stored.join(', ')}`);
      await pollUntil('floor at b', async () => (await c.settledFloor()) >= b.seq);
      await c.stop();
      // Work in hand, not yet settled, holds the floor below itself.
      let unblock = (): void => {};
      const blocked = new Promise<void>((r) => (unblock = r));
      let started = false;
      const busy = await broker.consume(q, async () => {
        started = true;
        await blocked;
      }, { ackWaitMs: 60_000 });
      const held = await broker.publish(subjects.work(q, 'c.'), bytes('c'));
      await pollUntil('c in hand', () => started);
      assert.equal(await busy.settledFloor(), held.seq - 1);
      unblock();
      await pollUntil('floor past c', async () => (await busy.settledFloor()) >= held.seq);
      await busy.stop();
    });

    it('an undecodable message is termed and dead-lettered once, and the consumer goes on', T, async () => {
      const q = uniqueQueue();
      let calls = 0;
      const values: unknown[] = [];
      const c = await broker.consume(q, (m: WorkMessage) => {
        calls++;
        values.push(decode(m.data)); // throws CodecError on garbage
      }, { maxDeliver: 5, backoffMs: [20] });
      await broker.publish(subjects.work(q, 'g.'), new Uint8Array([0xc1, 0xff, 0x00]));
      await broker.publish(subjects.work(q, 'g.'), encode({ type: 'ok', n: 1 }));
      await pollUntil('good message', () => values.length === 1);
      const dl = await broker.deadLetters(q);
      assert.equal(calls, 2, 'the garbage was handled once, not retried');
      assert.equal(dl.length, 1);
      assert.match(dl[0]?.reason ?? '', /msgpack/);
      assert.deepEqual(values, [{ type: 'ok', n: 1 }]);
      assert.throws(() => decode(new Uint8Array([0xc1])), CodecError);
      await c.stop();
    });

    it('a queue is consumed whole or by shard, never both at once', T, async () => {
      const q = uniqueQueue();
      const whole = await broker.consume(q, () => {});
      await assert.rejects(broker.consume(q, () => {}, { shards: [0] }));
      await whole.stop();
      const q2 = uniqueQueue();
      const s01 = await broker.consume(q2, () => {}, { shards: [0, 1] });
      const s2 = await broker.consume(q2, () => {}, { shards: [2] });
      await assert.rejects(broker.consume(q2, () => {}));
      await s01.stop();
      await s2.stop();
    });

    it('KV: create, compare-and-set update, typed mismatch, delete, keys', T, async () => {
      const kv = await broker.kv(`kv${n++}`);
      const r1 = await kv.create('zone.a', bytes('1'));
      await assert.rejects(kv.create('zone.a', bytes('x')), KeyExistsError);
      const r2 = await kv.update('zone.a', bytes('2'), r1);
      assert.ok(r2 > r1);
      await assert.rejects(kv.update('zone.a', bytes('3'), r1), RevisionMismatchError);
      await assert.rejects(kv.delete('zone.a', r1), RevisionMismatchError);
      assert.deepEqual(await kv.get('zone.a'), { value: bytes('2'), revision: r2 });
      await kv.put('zone.b', bytes('b'));
      await kv.put('lease.0', bytes('l'));
      assert.deepEqual(await kv.keys('zone.'), ['zone.a', 'zone.b']);
      await kv.delete('zone.a', r2);
      assert.equal(await kv.get('zone.a'), undefined);
      assert.deepEqual(await kv.keys(), ['lease.0', 'zone.b']);
      const r3 = await kv.create('zone.a', bytes('again'));
      assert.ok(r3 > r2, 'create after delete');
    });

    it('KV open-only: a missing bucket throws BucketNotFoundError and is not created', T, async () => {
      const name = `kv${n++}`;
      await assert.rejects(broker.kv(name, { create: false }), (err: unknown) => err instanceof BucketNotFoundError && err.bucket === subjects.bucket(name));
      await assert.rejects(broker.kv(name, { create: false }), BucketNotFoundError, 'still not there');
      const rw = await broker.kv(name);
      const r = await rw.put('zone.a', bytes('1'));
      const ro = await broker.kv(name, { create: false });
      assert.deepEqual(await ro.get('zone.a'), { value: bytes('1'), revision: r });
      assert.deepEqual(await ro.keys(), ['zone.a']);
    });

    it('KV max age: an entry older than the bucket\'s max age is gone, and create works again', T, async () => {
      const kv = await broker.kv(`kv${n++}`, { maxAgeMs: 1000 });
      await kv.create('seen.a', bytes('1'));
      await assert.rejects(kv.create('seen.a', bytes('2')), KeyExistsError);
      await pollUntil('the entry expired', async () => (await kv.get('seen.a')) === undefined, { timeoutMs: 30_000, intervalMs: 100 });
      assert.deepEqual(await kv.keys('seen.'), []);
      await kv.create('seen.a', bytes('3'));
      assert.deepEqual((await kv.get('seen.a'))?.value, bytes('3'));
    });

    it('KV watch delivers changes under a prefix', T, async () => {
      const kv = await broker.kv(`kv${n++}`);
      await kv.put('a.before', bytes('0'));
      const got: KvChange[] = [];
      const w = await kv.watch('a.', (c) => got.push(c));
      const r = await kv.put('a.x', bytes('1'));
      await kv.put('b.y', bytes('2'));
      await kv.delete('a.x');
      await pollUntil('two changes', () => got.length >= 2);
      assert.deepEqual(
        got.map((c) => [c.key, c.op, c.value === undefined ? null : text(c.value)]),
        [['a.x', 'put', '1'], ['a.x', 'delete', null]],
      );
      assert.equal(got[0]?.revision, r);
      await w.stop();
      const initial: string[] = [];
      const w2 = await kv.watch('a.', (c) => initial.push(c.key), { initial: true });
      await pollUntil('initial value', () => initial.length >= 1);
      assert.deepEqual(initial, ['a.before']);
      await w2.stop();
    });

    it('request/reply, no responders, timeout', T, async () => {
      const r = await broker.respond('echo', (d) => bytes(text(d).toUpperCase()));
      assert.equal(text(await broker.request('echo', bytes('ping'), 2000)), 'PING');
      await broker.respond('silent', () => new Promise<Uint8Array>(() => {}));
      await assert.rejects(broker.request('nobody', bytes('x'), 1000), NoRespondersError);
      await assert.rejects(broker.request('silent', bytes('x'), 300), RequestTimeoutError);
      await r.stop();
    });
  });
}

contract('embedded', () => Promise.resolve(createEmbeddedBroker({ namespace: 'contract' })));

const nats = haveBinary('nats-server');
if (!nats) {
  it.skip('broker contract: jetstream (nats-server not installed)');
} else {
  let server: NatsServer | undefined;
  contract(
    'jetstream',
    async () => {
      server = await startNatsServer();
      return createJetStreamBroker({ servers: server.url, namespace: 'contract' });
    },
    async () => server?.stop(),
  );
}
