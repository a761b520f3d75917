import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DnsError } from './errors.ts';
import { serialAdd, serialCompare, serialGt, serialMax } from './serial.ts';

test('RFC 1982 comparison including wrap-around and the undefined case', { timeout: 5000 }, () => {
  assert.equal(serialCompare(1, 2), -1);
  assert.equal(serialCompare(2, 1), 1);
  assert.equal(serialCompare(5, 5), 0);
  assert.equal(serialCompare(0xffffffff, 0), -1, '0 follows 2^32-1');
  assert.equal(serialCompare(0, 0xffffffff), 1);
  assert.equal(serialCompare(0, 0x80000000), undefined);
  assert.equal(serialCompare(0x80000000, 0), undefined);
  assert.equal(serialCompare(0, 0x7fffffff), -1);
  assert.equal(serialGt(0, 0xffffffff), true);
  assert.equal(serialGt(0, 0x80000000), false);
  assert.equal(serialMax(0xfffffff0, 3), 3);
  assert.throws(() => serialCompare(-1, 0), DnsError);
  assert.throws(() => serialCompare(2 ** 32, 0), DnsError);
});

test('serialAdd wraps and bounds the increment', { timeout: 5000 }, () => {
  assert.equal(serialAdd(0xffffffff, 1), 0);
  assert.equal(serialAdd(10, 0x7fffffff), (10 + 0x7fffffff) % 2 ** 32);
  assert.throws(() => serialAdd(1, 0x80000000), DnsError);
  assert.throws(() => serialAdd(1, -1), DnsError);
});

test('property: s + n > s for every 0 < n < 2^31, and comparison is antisymmetric', { timeout: 10000 }, () => {
  const serial = fc.integer({ min: 0, max: 0xffffffff });
  fc.assert(fc.property(serial, fc.integer({ min: 1, max: 0x7fffffff }), (s, n) => serialGt(serialAdd(s, n), s)));
  fc.assert(
    fc.property(serial, serial, (a, b) => {
      const x = serialCompare(a, b);
      const y = serialCompare(b, a);
      return x === undefined ? y === undefined : x === -(y ?? 0) || (x === 0 && y === 0);
    }),
  );
});
