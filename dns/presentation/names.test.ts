import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { NameError } from '../errors.ts';
import { parseName } from '../name.ts';
import { parseNameFast } from './names.ts';

const outcome = (f: () => string): string => {
  try {
    return f();
  } catch (err) {
    assert.ok(err instanceof NameError, String(err));
    return 'NameError';
  }
};

test('parseNameFast gives exactly what parseName gives', { timeout: 20000 }, () => {
  const origin = parseName('Bench.Example.');
  const fixed = ['www', 'WWW.sub', 'a.b.', 'A.B.', '@', '.', '', 'a..b', 'x'.repeat(63), 'x'.repeat(64), 'a\\.b', 'é', '_srv._tcp', '-'];
  for (const t of fixed) {
    assert.equal(outcome(() => parseNameFast(t, origin)), outcome(() => parseName(t, origin)), t);
    assert.equal(outcome(() => parseNameFast(t)), outcome(() => parseName(t)), t);
  }
  const long = Array.from({ length: 60 }, () => 'abc').join('.');
  assert.equal(outcome(() => parseNameFast(long, origin)), outcome(() => parseName(long, origin)));
  const label = fc.stringMatching(/^[A-Za-z0-9_\\.-]{0,70}$/);
  fc.assert(
    fc.property(label, fc.constantFrom(origin, parseName('.'), parseName('x'.repeat(60) + '.' + 'y'.repeat(60) + '.' + 'z'.repeat(60) + '.')), (t, o) => {
      assert.equal(outcome(() => parseNameFast(t, o)), outcome(() => parseName(t, o)), t);
    }),
    { numRuns: 2000 },
  );
});
