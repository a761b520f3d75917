import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createActor } from 'xstate';
import { sequencedCounter } from './sequenced-counter.ts';

test('sequenced counter: records every increment as applied, late and repeated ones too', () => {
  const a = createActor(sequencedCounter).start();
  for (const [seq, at] of [[1, 10], [2, 11], [5, 12], [3, 13], [3, 14], [4, 15]] as const) a.send({ type: 'inc', seq, at });
  const c = a.getSnapshot().context;
  assert.deepEqual([c.count, c.lastSeq, c.repeats, c.outOfOrder], [6, 5, 1, 3]);
  assert.deepEqual(c.log, [[1, 10], [2, 11], [5, 12], [3, 13], [3, 14], [4, 15]]);
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
