import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { parseName } from '../name.ts';
import { rdataToText } from '../rdata/index.ts';
import { RRType } from '../types.ts';
import { generateKey } from './keys.ts';
import { encodeNsec } from './nsec.ts';
import { fastRdataText } from './present.ts';
import { prepareSign, runSignJob } from './sign.ts';

test('fast RRSIG and NSEC text equals rdataToText', { timeout: 5000 }, () => {
  const zone = parseName('ex\\.ample.test.');
  const key = generateKey(zone, 15, 256);
  const sig = runSignJob(prepareSign(parseName('*.w.test.'), RRType.TXT, 1, 300, [Uint8Array.of(1, 0x61)], key, { inception: 1_800_000_000, expiration: 1_801_234_567 }));
  assert.equal(fastRdataText(RRType.RRSIG, sig.rdata), rdataToText(RRType.RRSIG, sig.rdata));
  const other = generateKey(parseName('test.'), 13, 257);
  const sig2 = runSignJob(prepareSign(parseName('test.'), RRType.DNSKEY, 1, 300, [other.dnskey], other, { inception: 1_800_000_000, expiration: 1_801_234_567 }));
  assert.equal(fastRdataText(RRType.RRSIG, sig2.rdata), rdataToText(RRType.RRSIG, sig2.rdata));
  assert.equal(fastRdataText(RRType.RRSIG, sig.rdata), rdataToText(RRType.RRSIG, sig.rdata));
  for (const [next, types] of [
    ['a.b.test.', [1, 2, 6, 46, 47, 48]],
    ['x\\000y.test.', [1, 65285, 256]],
    ['z.test.', []],
  ] as const) {
    const rdata = encodeNsec(parseName(next), types);
    assert.equal(fastRdataText(RRType.NSEC, rdata), rdataToText(RRType.NSEC, rdata));
  }
});
