import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WireError } from '../errors.ts';
import type { Fqdn } from '../name.ts';
import { RRType } from '../types.ts';
import { rdataFromText, rdataToText } from './codec.ts';
import { soaMinimum, soaRdataWithSerial, soaSerial, soaTimers, soaWithSerial } from './soa.ts';

const ORIGIN = 'example.' as Fqdn;
const rdata = rdataFromText(RRType.SOA, 'ns1 hostmaster 2026120401 7200 1800 1209600 300', ORIGIN);

test('SOA fields: serial and timers are read from the RDATA', () => {
  assert.equal(soaSerial(rdata), 2026120401);
  assert.deepEqual(soaTimers(rdata), { refresh: 7200, retry: 1800, expire: 1209600, minimum: 300 });
  assert.equal(soaMinimum(rdata), 300);
  // The shortest SOA RDATA: two root names.
  const root = rdataFromText(RRType.SOA, '. . 4294967295 1 2 3 4');
  assert.equal(root.length, 22);
  assert.equal(soaSerial(root), 4294967295);
  assert.deepEqual(soaTimers(root), { refresh: 1, retry: 2, expire: 3, minimum: 4 });
});

test('SOA fields: setting the serial copies the RDATA, wraps modulo 2^32 and touches nothing else', () => {
  const next = soaRdataWithSerial(rdata, 2026120402);
  assert.equal(soaSerial(next), 2026120402);
  assert.equal(soaSerial(rdata), 2026120401, 'the input is not changed');
  assert.equal(rdataToText(RRType.SOA, next), 'ns1.example. hostmaster.example. 2026120402 7200 1800 1209600 300');
  assert.equal(soaSerial(soaRdataWithSerial(rdata, 2 ** 32 + 5)), 5);
  const rr = { name: ORIGIN, type: RRType.SOA, class: 1, ttl: 3600, rdata };
  const moved = soaWithSerial(rr, 7);
  assert.deepEqual({ ...moved, rdata: undefined }, { ...rr, rdata: undefined });
  assert.equal(soaSerial(moved.rdata), 7);
});

test('SOA fields: RDATA shorter than two root names and five fields is a WireError', () => {
  for (const len of [0, 4, 20, 21]) {
    const short = new Uint8Array(len);
    assert.throws(() => soaSerial(short), WireError, `serial of ${len} octets`);
    assert.throws(() => soaTimers(short), WireError, `timers of ${len} octets`);
    assert.throws(() => soaMinimum(short), WireError, `minimum of ${len} octets`);
    assert.throws(() => soaRdataWithSerial(short, 1), WireError, `set serial of ${len} octets`);
  }
  assert.equal(soaSerial(new Uint8Array(22).fill(1)), 0x01010101);
});
