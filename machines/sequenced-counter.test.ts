import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createActor } from 'xstate';
import { sequencedCounter } from './sequenced-counter.ts';

test('sequenced counter: each number counts once, in any order; the watermark follows', () => {
  const a = createActor(sequencedCounter).start();
  for (const seq of [1, 2, 5, 3, 3, 2, 4, 6]) a.send({ type: 'inc', seq, at: 0 });
  const c = a.getSnapshot().context;
  assert.deepEqual([c.count, c.lastSeq, c.above, c.repeats, c.outOfOrder], [6, 6, [], 2, 1]);
  a.send({ type: 'inc', seq: 9, at: 0 });
  assert.deepEqual([a.getSnapshot().context.lastSeq, a.getSnapshot().context.above], [6, [9]]);
});

test('sequenced counter: the deadline is kept in context and handled once', () => {
  const a = createActor(sequencedCounter).start();
  a.send({ type: 'arm', ms: 500, at: 1000 });
  assert.equal(a.getSnapshot().value, 'waiting');
  assert.deepEqual(a.getSnapshot().context.deadlines, { expire: 1500 });
  a.send({ type: 'deadline', id: 'other', at: 1500 });
  assert.equal(a.getSnapshot().value, 'waiting');
  a.send({ type: 'deadline', id: 'expire', at: 1501 });
  assert.equal(a.getSnapshot().value, 'expired');
  assert.deepEqual(a.getSnapshot().context.deadlines, {});
  assert.equal(a.getSnapshot().context.firedAt, 1501);
});
