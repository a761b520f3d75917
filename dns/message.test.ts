import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { WireError } from './errors.ts';
import { decodeMessage, encodeMessage, makeQuery, makeResponse, type Message } from './message.ts';
import { parseName } from './name.ts';
import { rdataFromText } from './rdata/index.ts';
import type { RR } from './rr.ts';
import { Opcode, RRType } from './types.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fromHex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const origin = parseName('example.');
const rr = (name: string, type: number, text: string, ttl = 300): RR => ({
  name: parseName(name, origin),
  type,
  class: 1,
  ttl,
  rdata: rdataFromText(type, text, origin),
});

function sample(): Message {
  const q = makeQuery(parseName('www.example.'), RRType.A, { id: 1234, rd: true });
  return {
    ...makeResponse(q),
    aa: true,
    answer: [rr('www', RRType.CNAME, 'host'), rr('host', RRType.A, '192.0.2.1')],
    authority: [rr('@', RRType.SOA, 'ns1 host 1 2 3 4 5'), rr('@', RRType.MX, '10 mail')],
  };
}

test('encodes with compression into the exact bytes and decodes back', { timeout: 5000 }, () => {
  const bytes = encodeMessage(sample());
  assert.equal(
    hex(bytes),
    '04d28500000100020002000103777777076578616d706c650000010001c00c000500010000012c000704686f7374c010' +
      'c029000100010000012c0004c0000201c010000600010000012c001c036e7331c010c029000000010000000200000003' +
      '0000000400000005c010000f00010000012c0009000a046d61696cc01000002904d0000000000000',
  );
  const back = decodeMessage(bytes);
  assert.deepEqual(back, sample());
  // dns-packet agrees on what we wrote.
  const dp = dnsPacket.decode(Buffer.from(bytes));
  assert.equal(dp.answers?.[0]?.type, 'CNAME');
  assert.equal((dp.answers?.[0] as { data: string }).data, 'host.example');
  assert.equal((dp.authorities?.[1] as { data: { exchange: string } }).data.exchange, 'mail.example');
});

test('opcode NOTIFY and UPDATE, 12-bit rcode through EDNS', { timeout: 5000 }, () => {
  for (const opcode of [Opcode.NOTIFY, Opcode.UPDATE]) {
    const m = { ...makeQuery(parseName('example.'), RRType.SOA, { id: 7, opcode }), aa: true };
    const b = encodeMessage(m);
    assert.equal((b[2] as number) >> 3, opcode);
    assert.equal(decodeMessage(b).opcode, opcode);
  }
  const r = { ...makeResponse(makeQuery(parseName('example.'), RRType.SOA)), rcode: 16 };
  const d = decodeMessage(encodeMessage(r));
  assert.equal(d.rcode, 16);
  assert.equal(d.edns?.extRcode, 1);
});

test('compression is off on request, and names in RDATA of other types stay uncompressed', { timeout: 5000 }, () => {
  const m = { ...sample(), answer: [rr('host', RRType.SRV, '0 0 53 host'), rr('host', RRType.NSEC, 'host A')] };
  const c = encodeMessage(m);
  const u = encodeMessage(m, { compress: false });
  assert.ok(u.length > c.length);
  assert.deepEqual(decodeMessage(c), decodeMessage(u));
  // SRV target written in full (RFC 2782): the owner is compressed, the target is not.
  assert.ok(hex(c).includes('0000000000350468' + '6f7374076578616d706c6500'));
});

test('truncation drops whole RRsets, sets TC and keeps OPT', { timeout: 5000 }, () => {
  const answer: RR[] = [];
  for (let i = 0; i < 40; i++) answer.push(rr('big', RRType.TXT, `"${'x'.repeat(50)}${i}"`));
  const m = { ...sample(), answer: [rr('host', RRType.A, '192.0.2.1'), ...answer], authority: [] };
  const b = encodeMessage(m, { maxSize: 512 });
  assert.ok(b.length <= 512);
  const d = decodeMessage(b);
  assert.equal(d.tc, true);
  assert.equal(d.answer.length, 1, 'the TXT RRset does not fit and is dropped whole');
  assert.ok(d.edns !== undefined);
  assert.throws(() => encodeMessage(m, { maxSize: 10 }), WireError);
});

test('malformed packets raise WireError', { timeout: 5000 }, () => {
  const q = encodeMessage(makeQuery(parseName('www.example.'), RRType.A, { id: 1, udpSize: 0 }));
  const cases: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['short header', q.slice(0, 11)],
    ['truncated question', q.slice(0, q.length - 1)],
    ['counts too large', fromHex('0001 0000 0001 0005 0000 0000 0377777700 00010001')],
    ['pointer loop', fromHex('0001 0000 0001 0000 0000 0000 c00c 00010001')],
    ['forward pointer', fromHex('0001 0000 0001 0000 0000 0000 c00e 00010001 00')],
    ['oversize label', fromHex('0001 0000 0001 0000 0000 0000 40' + '61'.repeat(64) + '00 00010001')],
    ['bad label type', fromHex('0001 0000 0001 0000 0000 0000 8161 00 00010001')],
    ['trailing garbage', Uint8Array.from([...q, 0])],
    ['rdata past end', fromHex('0001 8000 0000 0001 0000 0000 00 0001 0001 00000000 0005 c0000201')],
    ['OPT in answer', fromHex('0001 8000 0000 0001 0000 0000 00 0029 1000 00000000 0000')],
    ['two OPTs', fromHex('0001 8000 0000 0000 0000 0002 00 0029 1000 00000000 0000 00 0029 1000 00000000 0000')],
  ];
  const long = Array.from({ length: 5 }, () => '3f' + '61'.repeat(63)).join('');
  cases.push(['name over 255', fromHex('0001 0000 0001 0000 0000 0000' + long + '00 00010001')]);
  for (const [what, bytes] of cases) assert.throws(() => decodeMessage(bytes), WireError, what);
  assert.equal(decodeMessage(Uint8Array.from([...q, 0]), { allowTrailing: true }).id, 1);
});
