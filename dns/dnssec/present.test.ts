import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { parseName } from '../name.ts';
import { rdataToText } from '../rdata/index.ts';
import { RRType } from '../types.ts';
import { generateKey } from './keys.ts';
import { encodeNsec } from './nsec.ts';
import { encodeNsec3 } from './nsec3.ts';
import { fastRdataText } from './present.ts';
import { prepareSign, runSignJob } from './sign.ts';

test('fast RRSIG, NSEC and NSEC3 text equals rdataToText', { timeout: 5000 }, () => {
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
  for (const salt of [new Uint8Array(0), Uint8Array.of(0xab, 0x01)]) {
    for (const types of [[], [1, 2, 6, 46, 48, 51], [1, 65285]]) {
      const rdata = encodeNsec3({ hashAlgorithm: 1, flags: 1, iterations: 12, salt, nextHashed: new Uint8Array(20).fill(0x5a), types });
      assert.equal(fastRdataText(RRType.NSEC3, rdata), rdataToText(RRType.NSEC3, rdata));
    }
  }
});

test('fast text names types inside RDATA with the caller\'s namer (TYPEnnn for other software)', () => {
  const generic = (t: number): string => (t >= 0xff00 ? `TYPE${t}` : t === 1 ? 'A' : `T${t}`);
  const nsec = encodeNsec(parseName('b.test.'), [1, 65285]);
  assert.equal(fastRdataText(RRType.NSEC, nsec, generic), 'b.test. A TYPE65285');
  // The bit map text is cached per namer: the default namer still gives the mnemonic.
  assert.equal(fastRdataText(RRType.NSEC, nsec), 'b.test. A HSYNC');
  const key = generateKey(parseName('test.'), 15, 256);
  const sig = runSignJob(prepareSign(parseName('test.'), 65285, 1, 300, [Uint8Array.of(0)], key, { inception: 1_800_000_000, expiration: 1_801_234_567 }));
  assert.match(fastRdataText(RRType.RRSIG, sig.rdata, generic), /^TYPE65285 15 1 300 /);
  assert.match(fastRdataText(RRType.RRSIG, sig.rdata), /^HSYNC 15 1 300 /);
});

test('malformed RDATA takes the general printer: fast text never differs from rdataToText', () => {
  const nsec3NoHash = Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 6, 0x40);
  const longName = new Uint8Array([...Array.from({ length: 5 }, () => [63, ...new Array<number>(63).fill(0x61)]).flat(), 0, 0, 1, 0x40]);
  const key = generateKey(parseName('test.'), 15, 256);
  const sig = runSignJob(prepareSign(parseName('test.'), RRType.A, 1, 300, [Uint8Array.of(1, 2, 3, 4)], key, { inception: 1_800_000_000, expiration: 1_801_234_567 }));
  const noSignature = sig.rdata.subarray(0, 18 + 6); // header and signer name "test.", nothing after
  for (const [type, rdata] of [
    [RRType.NSEC3, nsec3NoHash],
    [RRType.NSEC, longName],
    [RRType.RRSIG, noSignature],
  ] as const) {
    let expected: string;
    try {
      expected = rdataToText(type, rdata);
    } catch {
      assert.throws(() => fastRdataText(type, rdata));
      continue;
    }
    assert.equal(fastRdataText(type, rdata), expected);
  }
});
