import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalRdata, compareRdata, compareRRs, rrsetKey, sortCanonical } from './canonical.ts';
import { parseName } from './name.ts';
import { rdataFromText } from './rdata/index.ts';
import type { RR } from './rr.ts';
import { RRType } from './types.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fromHex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

test('canonical RDATA lower-cases names in the RFC 4034 §6.2 types, not in NSEC', { timeout: 5000 }, () => {
  // MX 10 MAIL.Example. with upper-case bytes as they may arrive from the wire.
  const mx = fromHex('000a044d41494c074578616d706c6500');
  assert.equal(hex(canonicalRdata(RRType.MX, mx)), '000a046d61696c076578616d706c6500');
  assert.equal(hex(mx), '000a044d41494c074578616d706c6500', 'input untouched');
  const rrsigUpper = rdataFromText(RRType.RRSIG, 'A 13 2 3600 20261201000000 20261101000000 1 example. AAAA');
  const upper = rrsigUpper.slice();
  upper[18 + 1] = 0x45; // 'E' in the signer name
  assert.deepEqual(canonicalRdata(RRType.RRSIG, upper), rrsigUpper);
  const nsec = fromHex('04484f53540000000140');
  assert.equal(canonicalRdata(RRType.NSEC, nsec), nsec, 'NSEC next name keeps its case (RFC 6840 §5.1)');
  const srv = fromHex('000000000035' + '0448' + '4f5354' + '00');
  assert.equal(hex(canonicalRdata(RRType.SRV, srv)), '000000000035' + '0468' + '6f7374' + '00');
  const naptr = rdataFromText(RRType.NAPTR, '1 1 "S" "SIP" "" _SIP._udp.example.');
  assert.equal(hex(canonicalRdata(RRType.NAPTR, naptr)), hex(naptr));
  const txt = fromHex('024142');
  assert.equal(canonicalRdata(RRType.TXT, txt), txt);
});

test('RR order: owner, type, then canonical RDATA; shorter RDATA prefix first', { timeout: 5000 }, () => {
  const mk = (name: string, type: number, text: string): RR => ({
    name: parseName(name),
    type,
    class: 1,
    ttl: 60,
    rdata: rdataFromText(type, text),
  });
  const sorted = [
    mk('example.', RRType.A, '10.0.0.1'),
    mk('example.', RRType.A, '10.0.0.2'),
    mk('example.', RRType.NS, 'a.example.'),
    mk('example.', RRType.NS, 'b.example.'),
    mk('example.', RRType.TXT, '"a"'),
    mk('example.', RRType.TXT, '"a" "b"'),
    mk('a.example.', RRType.A, '10.0.0.1'),
    mk('Z.a.example.', RRType.A, '10.0.0.1'),
    mk('z.example.', RRType.A, '10.0.0.1'),
  ];
  assert.deepEqual(sortCanonical([...sorted].reverse()), sorted);
  const a = sorted[0] as RR;
  const b = sorted[1] as RR;
  assert.ok(compareRRs(a, b) < 0 && compareRRs(b, a) > 0 && compareRRs(a, a) === 0);
  assert.ok(compareRdata(fromHex('01'), fromHex('0100')) < 0);
  assert.equal(rrsetKey(a), rrsetKey({ name: parseName('EXAMPLE.'), type: RRType.A, class: 1 }));
  assert.notEqual(rrsetKey(a), rrsetKey(sorted[2] as RR));
});
