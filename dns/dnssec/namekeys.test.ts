import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import { compareNames, nameFromLabelBytes, nameToWire, parentName } from '../name.ts';
import { nameSortKey, ownerWire, parentOf } from './namekeys.ts';

const label = fc.oneof(
  fc.stringMatching(/^[a-z0-9-]{1,6}$/).map((s) => Uint8Array.from(s, (c) => c.charCodeAt(0))),
  fc.uint8Array({ minLength: 1, maxLength: 4 }),
);
const name = fc.array(label, { minLength: 0, maxLength: 4 }).map((ls) => nameFromLabelBytes(ls));

test('sort keys order names as RFC 4034 §6.1 compareNames does; wire form matches', { timeout: 10_000 }, () => {
  fc.assert(
    fc.property(name, name, (a, b) => {
      const ka = nameSortKey(a);
      const kb = nameSortKey(b);
      const byKey = ka < kb ? -1 : ka > kb ? 1 : 0;
      assert.equal(byKey, Math.sign(compareNames(a, b)), `${a} vs ${b}`);
      assert.deepEqual(ownerWire(a), nameToWire(a));
      assert.equal(parentOf(a), parentName(a));
    }),
    { numRuns: 2000 },
  );
});
