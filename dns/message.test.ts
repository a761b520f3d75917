import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { WireError } from './errors.ts';
import { decodeMessage, encodeMessage, makeQuery, makeResponse, type Message } from './message.ts';
import { parseName, type Fqdn } from './name.ts';
import { rdataFromText, rdataToText } from './rdata/index.ts';
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

test('names inside RDATA arrive compressed and are expanded, case preserved', { timeout: 5000 }, () => {
  // Answer: example. MX 10 Mail.<ptr to example.>; authority: example. SOA with both names compressed;
  // additional: SRV whose target is compressed (RFC 3597 §4 says receivers decompress it).
  const bytes = fromHex(
    '0001 8400 0001 0001 0001 0001' +
      '076578616d706c6500 000f 0001' + // question example. MX IN (offset 12)
      'c00c 000f 0001 0000012c 0009 000a 044d61696c c00c' + // MX 10 Mail.example. (Mail at 39)
      'c00c 0006 0001 0000012c 0021 036e7331 c00c 04686f7374 c00c 00000001 00000002 00000003 00000004 00000005' +
      'c00c 0021 0001 0000012c 0008 0000 0000 0035 c027', // SRV 0 0 53 -> Mail.example.
  );
  const m = decodeMessage(bytes);
  assert.equal(hex(m.answer[0]?.rdata ?? new Uint8Array()), '000a044d61696c076578616d706c6500');
  assert.equal(hex(m.authority[0]?.rdata ?? new Uint8Array()).slice(0, 54), '036e7331076578616d706c650004686f7374076578616d706c6500');
  assert.equal(hex(m.additional[0]?.rdata ?? new Uint8Array()), '000000000035044d61696c076578616d706c6500');
  // A compression pointer inside RDATA of a type that may not carry one stays opaque bytes,
  // and a pointer inside RDATA pointing forward is an error.
  const fwd = fromHex('0001 8400 0000 0001 0000 0000' + '00 000f 0001 0000012c 0004 000a c01f' + '00');
  assert.throws(() => decodeMessage(fwd, { allowTrailing: true }), WireError);
});

test('TSIG must be last; its offset is reported and it is kept out of additional', { timeout: 5000 }, () => {
  const q = makeQuery(parseName('example.'), RRType.SOA, { id: 9, udpSize: 0 });
  const tsigRR: RR = rr('key.example.', RRType.TSIG, 'hmac-sha256. 1700000000 300 0011 9 0 ""', 0);
  const withTsig: Message = { ...q, additional: [rr('a.example.', RRType.A, '192.0.2.1')], tsig: { rr: { ...tsigRR, class: 255 }, offset: 0 } };
  const bytes = encodeMessage(withTsig);
  const d = decodeMessage(bytes);
  assert.equal(d.additional.length, 1);
  assert.equal(d.tsig?.rr.type, RRType.TSIG);
  assert.equal(d.tsig?.rr.class, 255);
  const offset = d.tsig?.offset ?? 0;
  assert.equal(bytes[offset], 3, 'the TSIG owner name starts at the reported offset');
  assert.equal(Buffer.from(bytes.subarray(offset + 1, offset + 4)).toString(), 'key');
  // Move the TSIG before the A record: decoding must refuse it.
  const a = encodeMessage({ ...q, additional: [rr('a.example.', RRType.A, '192.0.2.1')] }, { compress: false });
  const t = bytes.subarray(offset);
  const tsigFirst = new Uint8Array(a.length + t.length);
  tsigFirst.set(a.subarray(0, 29));
  tsigFirst.set(t, 29);
  tsigFirst.set(a.subarray(29), 29 + t.length);
  tsigFirst[11] = 2;
  assert.throws(() => decodeMessage(tsigFirst), WireError);
});

const label = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,10}$/);
const name = fc
  .array(fc.oneof(label, fc.constantFrom('www', 'mail', 'example', 'ns1')), { minLength: 0, maxLength: 4 })
  .map((ls) => parseName(ls.length === 0 ? '.' : ls.join('.') + '.'));
const rrArb: fc.Arbitrary<RR> = fc.oneof(
  fc.record({ name, type: fc.constant(RRType.A), class: fc.constant(1), ttl: fc.nat(), rdata: fc.uint8Array({ minLength: 4, maxLength: 4 }) }),
  fc.record({ name, type: fc.constant(RRType.NS), class: fc.constant(1), ttl: fc.nat(), rdata: name.map((n) => rdataFromText(RRType.NS, n)) }),
  fc.record({
    name,
    type: fc.constant(RRType.MX),
    class: fc.constant(1),
    ttl: fc.nat(),
    rdata: fc.tuple(fc.integer({ min: 0, max: 65535 }), name).map(([p, n]) => rdataFromText(RRType.MX, `${p} ${n}`)),
  }),
  fc.record({
    name,
    type: fc.constant(RRType.SOA),
    class: fc.constant(1),
    ttl: fc.nat(),
    rdata: fc.tuple(name, name, fc.nat()).map(([a, b, s]) => rdataFromText(RRType.SOA, `${a} ${b} ${s} 1 2 3 4`)),
  }),
  fc.record({ name, type: fc.integer({ min: 65400, max: 65500 }), class: fc.constantFrom(1, 3, 255), ttl: fc.nat(), rdata: fc.uint8Array({ maxLength: 40 }) }),
);
const msgArb: fc.Arbitrary<Message> = fc.record({
  id: fc.integer({ min: 0, max: 65535 }),
  qr: fc.boolean(),
  opcode: fc.constantFrom(0, 4, 5),
  aa: fc.boolean(),
  tc: fc.boolean(),
  rd: fc.boolean(),
  ra: fc.boolean(),
  ad: fc.boolean(),
  cd: fc.boolean(),
  rcode: fc.integer({ min: 0, max: 15 }),
  question: fc.array(fc.record({ name, type: fc.integer({ min: 1, max: 65535 }), class: fc.constant(1) }), { maxLength: 2 }),
  answer: fc.array(rrArb, { maxLength: 6 }),
  authority: fc.array(rrArb, { maxLength: 3 }),
  additional: fc.array(rrArb, { maxLength: 3 }),
});

test('property: decode(encode(m)) == m, with and without compression; encode is stable', { timeout: 30000 }, () => {
  fc.assert(
    fc.property(msgArb, fc.boolean(), (m, compress) => {
      const plain = JSON.parse(JSON.stringify(m)) as unknown;
      const bytes = encodeMessage(m, { compress });
      const back = decodeMessage(bytes);
      assert.deepEqual(JSON.parse(JSON.stringify(back)) as unknown, plain);
      assert.deepEqual(encodeMessage(back, { compress }), bytes);
      // dns-packet, an independent decoder, reads the same owner names and NS/MX targets.
      const dp = dnsPacket.decode(Buffer.from(bytes));
      const abs = (n: string): string => (n === '.' || n === '' ? '.' : `${n}.`);
      m.answer.forEach((rr, i) => {
        const a = dp.answers?.[i] as { name: string; data: unknown } | undefined;
        assert.equal(abs(a?.name ?? ''), rr.name);
        if (rr.type === RRType.NS) assert.equal(abs(a?.data as string), rdataToText(RRType.NS, rr.rdata));
        if (rr.type === RRType.MX) assert.equal(abs((a?.data as { exchange: string }).exchange), rdataToText(RRType.MX, rr.rdata).split(' ')[1]);
      });
    }),
    { numRuns: 400 },
  );
});

test('property: mutated messages decode or raise WireError, never anything else', { timeout: 30000 }, () => {
  fc.assert(
    fc.property(msgArb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), fc.nat(), (m, muts, cut) => {
      const bytes = encodeMessage(m).slice();
      for (const [i, v] of muts) bytes[i % bytes.length] = v;
      const input = bytes.subarray(0, bytes.length - (cut % 4));
      try {
        decodeMessage(input);
      } catch (err) {
        if (!(err instanceof WireError)) throw err;
      }
    }),
    { numRuns: 3000 },
  );
});

test('regression vectors: test/vectors/malformed-messages.json all raise WireError', { timeout: 5000 }, () => {
  const file = JSON.parse(readFileSync(new URL('../test/vectors/malformed-messages.json', import.meta.url), 'utf8')) as {
    vectors: { name: string; hex: string }[];
  };
  assert.ok(file.vectors.length >= 20);
  for (const v of file.vectors) assert.throws(() => decodeMessage(fromHex(v.hex)), WireError, v.name);
});

test('0x20: a mixed-case question decodes canonical and re-encodes byte-exact', { timeout: 10_000 }, () => {
  const q = encodeMessage(makeQuery('WwW.ExAmPlE.' as Fqdn, RRType.A, { id: 3, udpSize: 0 }));
  const m = decodeMessage(q);
  assert.equal(m.question[0]?.name, 'www.example.');
  const a: RR = { name: parseName('www.example.'), type: RRType.A, class: 1, ttl: 60, rdata: Uint8Array.of(192, 0, 2, 1) };
  const r = encodeMessage({ ...makeResponse(m), answer: [a] });
  assert.deepEqual([...r.subarray(12, q.length)], [...q.subarray(12)]);
  // The answer owner still compresses against the question: a 2-byte pointer to offset 12.
  assert.deepEqual([...r.subarray(q.length, q.length + 2)], [0xc0, 12]);
  // A lower-case question keeps no extra bytes.
  assert.equal(decodeMessage(encodeMessage(makeQuery(parseName('www.example.'), RRType.A))).question[0]?.wire, undefined);
});
