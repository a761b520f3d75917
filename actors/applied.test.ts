import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordError } from './errors.ts';
import { appliedOf, hasApplied, NOTHING_APPLIED, withApplied } from './applied.ts';

test('applied sequences: a late message below the newest is still new; the floor prunes', () => {
  let a = withApplied(NOTHING_APPLIED, 7, 0);
  a = withApplied(a, 9, 0);
  assert.equal(hasApplied(a, 9), true);
  assert.equal(hasApplied(a, 8), false, 'late and never applied: not a duplicate');
  a = withApplied(a, 8, 0);
  assert.deepEqual(a, { floor: 0, seqs: [7, 9, 8] });
  // The shard settled up to 8: 7 and 8 leave the list, and anything at or below 8 is settled.
  a = withApplied(a, 12, 8);
  assert.deepEqual(a, { floor: 8, seqs: [9, 12] });
  assert.equal(hasApplied(a, 3), true);
  assert.equal(hasApplied(a, 10), false);
  // A floor read earlier than the record's never lowers it.
  assert.equal(withApplied(a, 13, 2).floor, 8);
});

test('applied sequences: decoded from a record, absent in old records, checked', () => {
  assert.deepEqual(appliedOf('k', undefined), NOTHING_APPLIED);
  assert.deepEqual(appliedOf('k', { floor: 3, seqs: [5] }), { floor: 3, seqs: [5] });
  assert.throws(() => appliedOf('k', { floor: '3', seqs: [] }), RecordError);
  assert.throws(() => appliedOf('k', { floor: 3, seqs: ['x'] }), RecordError);
});
