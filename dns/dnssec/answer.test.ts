import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { nameToWire, parseName } from '../name.ts';
import type { RR } from '../rr.ts';
import { Rcode, RRType, typeToString } from '../types.ts';
import { answerQuery } from './answer.ts';
import { generateKey } from './keys.ts';
import { base32hex, decodeNsec3, nsec3Hash } from './nsec3.ts';
import { decodeRrsig } from './rrsig.ts';
import { SignedZone, type Denial } from './signer.ts';
import { verifyRrsig } from './verify.ts';
import { a, cat, ns, rr, txt, u32 } from '../../test/support/records.ts';

const origin = parseName('example.');
const records: RR[] = [
  rr('example.', RRType.SOA, cat(nameToWire(parseName('ns1.example.')), nameToWire(parseName('h.example.')), u32(1), u32(7200), u32(3600), u32(1209600), u32(300))),
  ns('example.', 'ns1.example.'),
  a('ns1.example.', '192.0.2.1'),
  a('www.example.', '192.0.2.2'),
  a('a.b.c.example.', '192.0.2.3'),
  txt('*.w.example.', 'wild'),
  rr('alias.example.', RRType.CNAME, nameToWire(parseName('www.example.'))),
  ns('sub.example.', 'ns.sub.example.'),
  a('ns.sub.example.', '192.0.2.9'),
  ns('sec.example.', 'ns.sec.example.'),
  a('ns.sec.example.', '192.0.2.10'),
  rr('sec.example.', RRType.DS, cat(Uint8Array.of(0, 1, 15, 2), new Uint8Array(32).fill(7))),
];

/** `owner TYPE` of each RR; RRSIGs as `owner RRSIG(TYPE)`. Every RRSIG is verified. */
function show(z: SignedZone, section: readonly RR[]): string[] {
  const dnskeys = z.rrset(origin, RRType.DNSKEY).map((r) => r.rdata);
  return section.map((r) => {
    if (r.type !== RRType.RRSIG) return `${r.name} ${typeToString(r.type)}`;
    const covered = decodeRrsig(r.rdata).typeCovered;
    const set = section.filter((x) => x.name === r.name && x.type === covered);
    const v = verifyRrsig(set, r, dnskeys);
    assert.ok(v.ok, `RRSIG ${r.name} ${typeToString(covered)}: ${JSON.stringify(v)}`);
    return `${r.name} RRSIG(${typeToString(covered)})`;
  });
}

const nsec: Denial = { kind: 'nsec' };
const z = SignedZone.sign(records, { origin, keys: [generateKey(origin, 15, 257), generateKey(origin, 15, 256)], denial: nsec });

const cases: [string, string, number, number, boolean, string[], string[]][] = [
  // name, qtype, rcode, aa, answer, authority
  ['positive', 'www.example.', RRType.A, Rcode.NOERROR, true, ['www.example. A', 'www.example. RRSIG(A)'], []],
  ['nodata', 'www.example.', RRType.TXT, Rcode.NOERROR, true, [], ['example. SOA', 'example. RRSIG(SOA)', 'www.example. NSEC', 'www.example. RRSIG(NSEC)']],
  ['ENT nodata', 'b.c.example.', RRType.A, Rcode.NOERROR, true, [], ['example. SOA', 'example. RRSIG(SOA)', 'alias.example. NSEC', 'alias.example. RRSIG(NSEC)']],
  ['nxdomain', 'nope.example.', RRType.A, Rcode.NXDOMAIN, true, [], ['example. SOA', 'example. RRSIG(SOA)', 'a.b.c.example. NSEC', 'a.b.c.example. RRSIG(NSEC)', 'example. NSEC', 'example. RRSIG(NSEC)']],
  ['wildcard', 'x.w.example.', RRType.TXT, Rcode.NOERROR, true, ['x.w.example. TXT', 'x.w.example. RRSIG(TXT)'], ['*.w.example. NSEC', '*.w.example. RRSIG(NSEC)']],
  ['wildcard nodata', 'x.w.example.', RRType.A, Rcode.NOERROR, true, [], ['example. SOA', 'example. RRSIG(SOA)', '*.w.example. NSEC', '*.w.example. RRSIG(NSEC)']],
  ['cname', 'alias.example.', RRType.A, Rcode.NOERROR, true, ['alias.example. CNAME', 'alias.example. RRSIG(CNAME)', 'www.example. A', 'www.example. RRSIG(A)'], []],
  ['unsigned referral', 'host.sub.example.', RRType.A, Rcode.NOERROR, false, [], ['sub.example. NS', 'sub.example. NSEC', 'sub.example. RRSIG(NSEC)']],
  ['signed referral', 'host.sec.example.', RRType.A, Rcode.NOERROR, false, [], ['sec.example. NS', 'sec.example. DS', 'sec.example. RRSIG(DS)']],
  ['DS from the parent side', 'sec.example.', RRType.DS, Rcode.NOERROR, true, ['sec.example. DS', 'sec.example. RRSIG(DS)'], []],
  ['DNSKEY', 'example.', RRType.DNSKEY, Rcode.NOERROR, true, ['example. DNSKEY', 'example. DNSKEY', 'example. RRSIG(DNSKEY)'], []],
];

for (const [what, qname, qtype, rcode, aa, answer, authority] of cases) {
  test(`NSEC answer: ${what}`, { timeout: 5000 }, () => {
    const r = answerQuery(z, parseName(qname), qtype, true);
    assert.equal(r.rcode, rcode);
    assert.equal(r.aa, aa);
    assert.deepEqual(show(z, r.answer), answer);
    assert.deepEqual(show(z, r.authority), authority);
  });
}

test('without DO: no RRSIG, no NSEC', { timeout: 5000 }, () => {
  const r = answerQuery(z, parseName('nope.example.'), RRType.A, false);
  assert.deepEqual(show(z, [...r.answer, ...r.authority]), ['example. SOA']);
  const ref = answerQuery(z, parseName('host.sub.example.'), RRType.A, false);
  assert.deepEqual(show(z, ref.additional), ['ns.sub.example. A']);
});

/** NSEC3 records of a section that match (`=`) or cover (`~`) each name. */
function nsec3Proves(rrs: readonly RR[], needs: [string, '=' | '~'][]): void {
  const n3 = rrs.filter((x) => x.type === RRType.NSEC3);
  for (const [name, how] of needs) {
    const h = base32hex(nsec3Hash(parseName(name), 0, new Uint8Array(0)));
    const ok = n3.some((x) => {
      const owner = x.name.slice(0, x.name.indexOf('.'));
      const next = base32hex(decodeNsec3(x.rdata).nextHashed);
      if (how === '=') return owner === h;
      return owner < next ? owner < h && h < next : h > owner || h < next;
    });
    assert.ok(ok, `no NSEC3 ${how === '=' ? 'matches' : 'covers'} ${name}`);
  }
}

test('NSEC3 answers prove what RFC 5155 §7.2 asks', { timeout: 5000 }, () => {
  const z3 = SignedZone.sign(records, { origin, keys: [generateKey(origin, 13, 257)], denial: { kind: 'nsec3', iterations: 0, salt: new Uint8Array(0), optOut: false } });
  const nx = answerQuery(z3, parseName('nope.example.'), RRType.A, true);
  assert.equal(nx.rcode, Rcode.NXDOMAIN);
  show(z3, nx.authority);
  nsec3Proves(nx.authority, [['example.', '='], ['nope.example.', '~'], ['*.example.', '~']]);
  nsec3Proves(answerQuery(z3, parseName('www.example.'), RRType.TXT, true).authority, [['www.example.', '=']]);
  nsec3Proves(answerQuery(z3, parseName('b.c.example.'), RRType.TXT, true).authority, [['b.c.example.', '=']]);
  const w = answerQuery(z3, parseName('x.y.w.example.'), RRType.TXT, true);
  show(z3, w.answer);
  nsec3Proves(w.authority, [['y.w.example.', '~']]);
  const wn = answerQuery(z3, parseName('x.w.example.'), RRType.A, true);
  nsec3Proves(wn.authority, [['w.example.', '='], ['x.w.example.', '~'], ['*.w.example.', '=']]);
  nsec3Proves(answerQuery(z3, parseName('host.sub.example.'), RRType.A, true).authority, [['sub.example.', '=']]);
});

// DNAME, MX additional data, a CNAME into a delegation, and the chain's own types.
const more: RR[] = [
  ...records,
  rr('dn.example.', RRType.DNAME, nameToWire(parseName('tgt.example.'))),
  a('x.tgt.example.', '192.0.2.7'),
  rr('example.', RRType.MX, cat(Uint8Array.of(0, 10), nameToWire(parseName('www.example.')))),
  rr('tosec.example.', RRType.CNAME, nameToWire(parseName('host.sec.example.'))),
  ns('nsx.example.', 'ns1.example.'),
];
const zm = SignedZone.sign(more, { origin, keys: [generateKey(origin, 15, 257), generateKey(origin, 15, 256)], denial: nsec });

test('DNAME (RFC 6672): the signed DNAME, an unsigned synthesised CNAME, then the target', { timeout: 5000 }, () => {
  const r = answerQuery(zm, parseName('x.dn.example.'), RRType.A, true);
  assert.equal(r.rcode, Rcode.NOERROR);
  assert.equal(r.aa, true);
  assert.deepEqual(show(zm, r.answer), ['dn.example. DNAME', 'dn.example. RRSIG(DNAME)', 'x.dn.example. CNAME', 'x.tgt.example. A', 'x.tgt.example. RRSIG(A)']);
  // A query for the CNAME itself stops at the synthesised CNAME, whatever its target.
  const c = answerQuery(zm, parseName('nope.dn.example.'), RRType.CNAME, true);
  assert.equal(c.rcode, Rcode.NOERROR);
  assert.deepEqual(show(zm, c.answer), ['dn.example. DNAME', 'dn.example. RRSIG(DNAME)', 'nope.dn.example. CNAME']);
  const nx = answerQuery(zm, parseName('nope.dn.example.'), RRType.A, true);
  assert.equal(nx.rcode, Rcode.NXDOMAIN);
  assert.deepEqual(show(zm, nx.answer), ['dn.example. DNAME', 'dn.example. RRSIG(DNAME)', 'nope.dn.example. CNAME']);
  // The denial is about the target (the NSEC covering nope.tgt.example.), not the DNAME's subtree.
  // (one NSEC covers both nope.tgt.example. and the wildcard *.tgt.example.)
  assert.deepEqual(show(zm, nx.authority), ['example. SOA', 'example. RRSIG(SOA)', 'sub.example. NSEC', 'sub.example. RRSIG(NSEC)']);
  // A 245-octet name becomes 246 under tgt.example.: fits; a 255-octet one would be 256: YXDOMAIN.
  const fits = `${'x'.repeat(63)}.${'y'.repeat(63)}.${'z'.repeat(63)}.${'w'.repeat(40)}.dn.example.`;
  assert.equal(answerQuery(zm, parseName(fits), RRType.A, true).rcode, Rcode.NXDOMAIN);
  const over = answerQuery(zm, parseName(`${'x'.repeat(63)}.${'y'.repeat(63)}.${'z'.repeat(63)}.${'w'.repeat(50)}.dn.example.`), RRType.A, true);
  assert.equal(over.rcode, Rcode.YXDOMAIN);
  assert.deepEqual(show(zm, over.answer), ['dn.example. DNAME', 'dn.example. RRSIG(DNAME)']);
});

test('NSEC and RRSIG queries are answered from the chain; DS only with DO; additional data; CNAME into a cut', { timeout: 5000 }, () => {
  const n = answerQuery(zm, parseName('www.example.'), RRType.NSEC, true);
  assert.deepEqual(show(zm, n.answer), ['www.example. NSEC', 'www.example. RRSIG(NSEC)']);
  const sigs = answerQuery(zm, parseName('www.example.'), RRType.RRSIG, false);
  assert.deepEqual(sigs.answer.map((x) => `${x.name} ${typeToString(decodeRrsig(x.rdata).typeCovered)}`).sort(), ['www.example. A', 'www.example. NSEC']);
  const noDo = answerQuery(zm, parseName('host.sec.example.'), RRType.A, false);
  assert.deepEqual(show(zm, noDo.authority), ['sec.example. NS']);
  // A referral's in-zone (non-glue) NS target address is signed data: its RRSIG comes along.
  const ref = answerQuery(zm, parseName('host.nsx.example.'), RRType.A, true);
  assert.deepEqual(show(zm, ref.additional), ['ns1.example. A', 'ns1.example. RRSIG(A)']);
  const mx = answerQuery(zm, parseName('example.'), RRType.MX, true);
  assert.deepEqual(show(zm, mx.additional), ['www.example. A', 'www.example. RRSIG(A)']);
  const nsAnswer = answerQuery(zm, parseName('example.'), RRType.NS, false);
  assert.deepEqual(show(zm, nsAnswer.additional), ['ns1.example. A']);
  const c = answerQuery(zm, parseName('tosec.example.'), RRType.A, true);
  assert.equal(c.aa, true);
  assert.deepEqual(show(zm, c.answer), ['tosec.example. CNAME', 'tosec.example. RRSIG(CNAME)']);
  assert.deepEqual(show(zm, c.authority), ['sec.example. NS', 'sec.example. DS', 'sec.example. RRSIG(DS)']);
  assert.deepEqual(show(zm, c.additional), ['ns.sec.example. A']);
});

test('negative answers carry the SOA (and its RRSIG) with TTL min(SOA TTL, MINIMUM)', { timeout: 5000 }, () => {
  const r = answerQuery(zm, parseName('nope.example.'), RRType.A, true);
  const soaTtl = zm.rrset(origin, RRType.SOA)[0]?.ttl ?? 0;
  assert.ok(soaTtl > 300, 'the test zone has an SOA TTL above its MINIMUM');
  const soaAndSig = r.authority.filter((x) => x.type === RRType.SOA || (x.type === RRType.RRSIG && decodeRrsig(x.rdata).typeCovered === RRType.SOA));
  assert.equal(soaAndSig.length, 2, 'the SOA and its RRSIG');
  for (const x of soaAndSig) assert.equal(x.ttl, 300, `${typeToString(x.type)} TTL`);
  // Without DO: the SOA alone, capped the same way.
  assert.deepEqual(answerQuery(zm, parseName('nope.example.'), RRType.A, false).authority.map((x) => `${typeToString(x.type)} ${x.ttl}`), ['SOA 300']);
});
