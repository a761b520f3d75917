import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeadlineWheel, deadlinesOf } from './deadlines.ts';
import { pollUntil } from '../test/support/poll.ts';

test('deadlinesOf reads context.deadlines and ignores anything else', () => {
  assert.deepEqual(deadlinesOf({ context: { deadlines: { a: 5, b: 'x', c: NaN } } }), { a: 5 });
  assert.deepEqual(deadlinesOf({ context: {} }), {});
  assert.deepEqual(deadlinesOf(null), {});
});

test('the wheel fires due deadlines in time order, once, and skips superseded ones', { timeout: 5000 }, async () => {
  const fired: string[] = [];
  const t0 = Date.now();
  const w = new DeadlineWheel((key, id) => fired.push(`${key}/${id}`));
  try {
    w.set('k1', { a: t0 + 120, b: t0 + 40 });
    w.set('k2', { a: t0 + 80 });
    w.set('k3', { a: t0 + 60 });
    w.set('k3', { a: t0 + 100 }); // moved
    w.set('k4', { a: t0 + 50 });
    w.clear('k4'); // forgotten
    w.set('k5', { gone: t0 - 1000 }); // overdue: fires at once
    await pollUntil('all fired', () => fired.length === 5);
    assert.deepEqual(fired, ['k5/gone', 'k1/b', 'k2/a', 'k3/a', 'k1/a']);
    // Still in context unchanged after firing: not delivered again; moved: delivered again.
    w.set('k2', { a: t0 + 80 });
    w.set('k3', { a: Date.now() + 20 });
    await pollUntil('moved one fired', () => fired.length === 6);
    assert.equal(fired[5], 'k3/a');
    assert.equal(w.size, 0);
  } finally {
    w.stop();
  }
});

test('a deadline whose delivery failed fires again after the retry delay, unless it moved meanwhile', { timeout: 10_000 }, async () => {
  const fired: { key: string; id: string; deadline: number }[] = [];
  const w = new DeadlineWheel((key, id, _now, deadline) => fired.push({ key, id, deadline }));
  try {
    const at = Date.now() - 10;
    w.set('k', { beat: at });
    w.set('m', { beat: at });
    await pollUntil('both fired', () => fired.length === 2);
    w.retry('k', 'beat', at, 30);
    w.retry('m', 'beat', at, 30);
    w.set('m', { beat: Date.now() + 60_000 }); // the machine moved on: the retry of m is dropped
    await pollUntil('k fired again', () => fired.length === 3);
    assert.deepEqual(fired[2], { key: 'k', id: 'beat', deadline: at });
    w.retry('k', 'beat', at - 1, 0); // not the deadline that fired: ignored
    assert.deepEqual(w.pending('k'), {});
    assert.deepEqual(Object.keys(w.pending('m')), ['beat']);
  } finally {
    w.stop();
  }
});
