import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordError } from './errors.ts';
import { appliedOf, hasApplied, NOTHING_APPLIED, withApplied, type Delivery } from './applied.ts';

const d = (seq: number, msgId?: string, storedAt = 0): Delivery => ({ seq, storedAt, ...(msgId !== undefined ? { msgId } : {}) });
const W = 120_000;

test('applied sequences: a late message below the newest is still new; the floor prunes', () => {
  let a = withApplied(NOTHING_APPLIED, d(7), 0, W);
  a = withApplied(a, d(9), 0, W);
  assert.equal(hasApplied(a, d(9)), true);
  assert.equal(hasApplied(a, d(8)), false, 'late and never applied: not a duplicate');
  a = withApplied(a, d(8), 0, W);
  assert.deepEqual(a, { floor: 0, seqs: [7, 9, 8] });
  // The shard settled up to 8: 7 and 8 leave the list, and anything at or below 8 is settled.
  a = withApplied(a, d(12), 8, W);
  assert.deepEqual(a, { floor: 8, seqs: [9, 12] });
  assert.equal(hasApplied(a, d(3)), true);
  assert.equal(hasApplied(a, d(10)), false);
  // A floor read earlier than the record's never lowers it.
  assert.equal(withApplied(a, d(13), 2, W).floor, 8);
});

test('applied msgIds: a publisher retry stored under a new sequence is known within the duplicate window', () => {
  let a = withApplied(NOTHING_APPLIED, d(5, 'z-1', 1000), 0, W);
  assert.equal(hasApplied(a, d(40, 'z-1', 3000)), true, 'same msgId, new sequence');
  assert.equal(hasApplied(a, d(41, 'z-2', 3000)), false);
  a = withApplied(a, d(50, 'z-2', 1000 + W), 0, W);
  assert.deepEqual(a.ids, [['z-1', 1000], ['z-2', 1000 + W]]);
  a = withApplied(a, d(60, 'z-3', 1001 + W), 0, W);
  assert.deepEqual(a.ids, [['z-2', 1000 + W], ['z-3', 1001 + W]], 'stored more than the window before the newest: forgotten');
});

test('applied sequences: decoded from a record, absent in old records, checked', () => {
  assert.deepEqual(appliedOf('k', undefined), NOTHING_APPLIED);
  assert.deepEqual(appliedOf('k', { floor: 3, seqs: [5] }), { floor: 3, seqs: [5] });
  assert.deepEqual(appliedOf('k', { floor: 3, seqs: [5], ids: [['a', 1]] }), { floor: 3, seqs: [5], ids: [['a', 1]] });
  assert.throws(() => appliedOf('k', { floor: '3', seqs: [] }), RecordError);
  assert.throws(() => appliedOf('k', { floor: 3, seqs: ['x'] }), RecordError);
  assert.throws(() => appliedOf('k', { floor: 3, seqs: [], ids: [['a']] }), RecordError);
});
