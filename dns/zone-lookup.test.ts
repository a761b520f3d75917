// Lookup as a table of query -> expected sections in presentation form (CoreDNS
// plugin/file/lookup_test.go shape).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WireError } from './errors.ts';
import { parseName } from './name.ts';
import { typeFromString } from './types.ts';
import { rrsetRecords, type RRset } from './zone.ts';
import { lookup, negativeTtl, type LookupResult } from './zone-lookup.ts';
import { parseZone } from './zonefile/parse.ts';
import { formatRecord } from './zonefile/print.ts';

// A DNAME target of 250 octets (wire form): substitution under it overflows 255 octets for any
// first label of 5 or more.
const LONG = `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.test.`;
const zone = parseZone(
  `$TTL 300
@        SOA   ns1 host 7 7200 3600 1209600 60
@        NS    ns1
@        NS    ns.other.test.
@        MX    10 mail
@        A     192.0.2.1
ns1      A     192.0.2.2
mail     A     192.0.2.3
mail     AAAA  2001:db8::3
www      CNAME web
web      A     192.0.2.4
loop1    CNAME loop2
loop2    CNAME loop1
out      CNAME www.other.test.
dangling CNAME nothere
a.b.c    TXT   "deep"
*.wild   A     192.0.2.5
*.wild   MX    5 mail
*.cn     CNAME web
x.wild   TXT   "x exists"
_sip._tcp SRV  0 0 5060 mail
sub      NS    ns1.sub
sub      NS    ns2.sub
sub      DS    1 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
ns1.sub  A     192.0.2.10
ns2.sub  AAAA  2001:db8::10
nods     NS    ns1
tosub    CNAME deep.sub
dn       DNAME tgt
x.tgt    A     192.0.2.7
ext      DNAME other.test.
long     DNAME ${LONG}
dcut     NS    ns1
dcut     DNAME tgt
`,
  { origin: parseName('example.'), file: 'lookup.zone' },
);

interface Case {
  q: string;
  t: string;
  kind: LookupResult['kind'];
  answer?: string[];
  ns?: string[];
  extra?: string[];
  wildcard?: string;
}

const SOA = 'example.\t300\tIN\tSOA\tns1.example. host.example. 7 7200 3600 1209600 60';
const r = (s: string): string => s.replace(/\s+/g, ' ');

const cases: Case[] = [
  { q: 'example.', t: 'A', kind: 'answer', answer: ['example. 300 IN A 192.0.2.1'] },
  { q: 'EXAMPLE.', t: 'MX', kind: 'answer', answer: ['example. 300 IN MX 10 mail.example.'], extra: ['mail.example. 300 IN A 192.0.2.3', 'mail.example. 300 IN AAAA 2001:db8::3'] },
  { q: 'example.', t: 'NS', kind: 'answer', answer: ['example. 300 IN NS ns.other.test.', 'example. 300 IN NS ns1.example.'], extra: ['ns1.example. 300 IN A 192.0.2.2'] },
  { q: 'www.example.', t: 'A', kind: 'answer', answer: ['www.example. 300 IN CNAME web.example.', 'web.example. 300 IN A 192.0.2.4'] },
  { q: 'www.example.', t: 'CNAME', kind: 'answer', answer: ['www.example. 300 IN CNAME web.example.'] },
  { q: 'www.example.', t: 'AAAA', kind: 'nodata', answer: ['www.example. 300 IN CNAME web.example.'], ns: [SOA] },
  { q: 'dangling.example.', t: 'A', kind: 'nxdomain', answer: ['dangling.example. 300 IN CNAME nothere.example.'], ns: [SOA] },
  { q: 'out.example.', t: 'A', kind: 'answer', answer: ['out.example. 300 IN CNAME www.other.test.'] },
  { q: 'loop1.example.', t: 'A', kind: 'answer', answer: ['loop1.example. 300 IN CNAME loop2.example.', 'loop2.example. 300 IN CNAME loop1.example.'] },
  { q: 'web.example.', t: 'TXT', kind: 'nodata', ns: [SOA] },
  { q: 'nope.example.', t: 'A', kind: 'nxdomain', ns: [SOA] },
  { q: 'b.c.example.', t: 'A', kind: 'nodata', ns: [SOA] }, // empty non-terminal
  { q: 'c.example.', t: 'TXT', kind: 'nodata', ns: [SOA] },
  { q: 'z.b.c.example.', t: 'A', kind: 'nxdomain', ns: [SOA] },
  { q: 'a.b.c.example.', t: 'TXT', kind: 'answer', answer: ['a.b.c.example. 300 IN TXT "deep"'] },
  // Wildcards (RFC 4592): owner rewritten, existing names and their descendants block it.
  { q: 'host.wild.example.', t: 'A', kind: 'answer', answer: ['host.wild.example. 300 IN A 192.0.2.5'], wildcard: '*.wild.example.' },
  { q: 'a.b.wild.example.', t: 'MX', kind: 'answer', answer: ['a.b.wild.example. 300 IN MX 5 mail.example.'], extra: ['mail.example. 300 IN A 192.0.2.3', 'mail.example. 300 IN AAAA 2001:db8::3'], wildcard: '*.wild.example.' },
  { q: 'host.wild.example.', t: 'TXT', kind: 'nodata', ns: [SOA], wildcard: '*.wild.example.' },
  { q: 'x.wild.example.', t: 'A', kind: 'nodata', ns: [SOA] },
  { q: 'y.x.wild.example.', t: 'A', kind: 'nxdomain', ns: [SOA] },
  { q: '*.wild.example.', t: 'A', kind: 'answer', answer: ['*.wild.example. 300 IN A 192.0.2.5'] },
  { q: 'wild.example.', t: 'A', kind: 'nodata', ns: [SOA] },
  { q: 'foo.cn.example.', t: 'A', kind: 'answer', answer: ['foo.cn.example. 300 IN CNAME web.example.', 'web.example. 300 IN A 192.0.2.4'], wildcard: '*.cn.example.' },
  // SRV targets get additional A/AAAA.
  { q: '_sip._tcp.example.', t: 'SRV', kind: 'answer', answer: ['_sip._tcp.example. 300 IN SRV 0 0 5060 mail.example.'], extra: ['mail.example. 300 IN A 192.0.2.3', 'mail.example. 300 IN AAAA 2001:db8::3'] },
  { q: '_tcp.example.', t: 'SRV', kind: 'nodata', ns: [SOA] },
  // Delegations: referral with glue, no AA; DS answered from the parent side.
  { q: 'sub.example.', t: 'A', kind: 'referral', ns: ['sub.example. 300 IN NS ns1.sub.example.', 'sub.example. 300 IN NS ns2.sub.example.', 'sub.example. 300 IN DS 1 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF'], extra: ['ns1.sub.example. 300 IN A 192.0.2.10', 'ns2.sub.example. 300 IN AAAA 2001:db8::10'] },
  { q: 'sub.example.', t: 'NS', kind: 'referral', ns: ['sub.example. 300 IN NS ns1.sub.example.', 'sub.example. 300 IN NS ns2.sub.example.', 'sub.example. 300 IN DS 1 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF'], extra: ['ns1.sub.example. 300 IN A 192.0.2.10', 'ns2.sub.example. 300 IN AAAA 2001:db8::10'] },
  { q: 'www.deep.sub.example.', t: 'A', kind: 'referral', ns: ['sub.example. 300 IN NS ns1.sub.example.', 'sub.example. 300 IN NS ns2.sub.example.', 'sub.example. 300 IN DS 1 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF'], extra: ['ns1.sub.example. 300 IN A 192.0.2.10', 'ns2.sub.example. 300 IN AAAA 2001:db8::10'] },
  { q: 'ns1.sub.example.', t: 'A', kind: 'referral', ns: ['sub.example. 300 IN NS ns1.sub.example.', 'sub.example. 300 IN NS ns2.sub.example.', 'sub.example. 300 IN DS 1 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF'], extra: ['ns1.sub.example. 300 IN A 192.0.2.10', 'ns2.sub.example. 300 IN AAAA 2001:db8::10'] },
  { q: 'sub.example.', t: 'DS', kind: 'answer', answer: ['sub.example. 300 IN DS 1 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF'] },
  { q: 'nods.example.', t: 'DS', kind: 'nodata', ns: [SOA] },
  { q: 'nods.example.', t: 'A', kind: 'referral', ns: ['nods.example. 300 IN NS ns1.example.'], extra: ['ns1.example. 300 IN A 192.0.2.2'] },
  { q: 'tosub.example.', t: 'A', kind: 'referral', answer: ['tosub.example. 300 IN CNAME deep.sub.example.'], ns: ['sub.example. 300 IN NS ns1.sub.example.', 'sub.example. 300 IN NS ns2.sub.example.', 'sub.example. 300 IN DS 1 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF'], extra: ['ns1.sub.example. 300 IN A 192.0.2.10', 'ns2.sub.example. 300 IN AAAA 2001:db8::10'] },
  // DNAME (RFC 6672): the DNAME, a CNAME synthesised with its TTL, then the target's answer.
  { q: 'x.dn.example.', t: 'A', kind: 'answer', answer: ['dn.example. 300 IN DNAME tgt.example.', 'x.dn.example. 300 IN CNAME x.tgt.example.', 'x.tgt.example. 300 IN A 192.0.2.7'] },
  { q: 'y.z.dn.example.', t: 'A', kind: 'nxdomain', answer: ['dn.example. 300 IN DNAME tgt.example.', 'y.z.dn.example. 300 IN CNAME y.z.tgt.example.'], ns: [SOA] },
  { q: 'dn.example.', t: 'DNAME', kind: 'answer', answer: ['dn.example. 300 IN DNAME tgt.example.'] },
  { q: 'y.z.dn.example.', t: 'CNAME', kind: 'answer', answer: ['dn.example. 300 IN DNAME tgt.example.', 'y.z.dn.example. 300 IN CNAME y.z.tgt.example.'] },
  // A DNAME at a delegation point is the child's business: a referral, as for any cut.
  { q: 'x.dcut.example.', t: 'A', kind: 'referral', ns: ['dcut.example. 300 IN NS ns1.example.'], extra: ['ns1.example. 300 IN A 192.0.2.2'] },
  { q: 'dn.example.', t: 'A', kind: 'nodata', ns: [SOA] },
  { q: 'a.ext.example.', t: 'TXT', kind: 'answer', answer: ['ext.example. 300 IN DNAME other.test.', 'a.ext.example. 300 IN CNAME a.other.test.'] },
  { q: 'abcdefg.long.example.', t: 'A', kind: 'yxdomain', answer: [`long.example. 300 IN DNAME ${LONG}`] },
  { q: 'abc.long.example.', t: 'A', kind: 'answer', answer: [`long.example. 300 IN DNAME ${LONG}`, `abc.long.example. 300 IN CNAME abc.${LONG}`] },
  // ANY: every RRset at the name.
  { q: 'mail.example.', t: 'ANY', kind: 'answer', answer: ['mail.example. 300 IN A 192.0.2.3', 'mail.example. 300 IN AAAA 2001:db8::3'] },
  { q: 'b.c.example.', t: 'ANY', kind: 'nodata', ns: [SOA] },
  { q: 'www.other.test.', t: 'A', kind: 'outside' },
];

function present(sets: readonly RRset[]): string[] {
  return sets.flatMap(rrsetRecords).map((rr) => r(formatRecord(rr))).sort();
}

test('lookup table', { timeout: 5000 }, () => {
  for (const c of cases) {
    const res = lookup(zone, parseName(c.q), typeFromString(c.t) as number);
    const label = `${c.q} ${c.t}`;
    assert.equal(res.kind, c.kind, label);
    if (res.kind === 'outside') continue;
    let authority: RRset[] = [];
    let extra: readonly RRset[] = [];
    if (res.kind === 'nodata' || res.kind === 'nxdomain') authority = [res.soa];
    if (res.kind === 'referral') authority = res.ds === undefined ? [res.ns] : [res.ns, res.ds];
    if (res.kind === 'answer' || res.kind === 'referral') extra = res.additional;
    assert.deepEqual(present(res.answer), (c.answer ?? []).map(r).sort(), `${label}: answer`);
    assert.deepEqual(present(authority), (c.ns ?? []).map(r).sort(), `${label}: authority`);
    assert.deepEqual(present(extra), (c.extra ?? []).map(r).sort(), `${label}: additional`);
    assert.deepEqual(res.wildcards.map((w) => w.source), c.wildcard === undefined ? [] : [c.wildcard], `${label}: wildcard`);
  }
});

test('negative answers: the SOA TTL is min(TTL, MINIMUM) (RFC 2308 §3)', { timeout: 5000 }, () => {
  const soa = zone.soa;
  assert.equal(negativeTtl(soa.ttl, soa.rdata[0] as Uint8Array), 60);
  assert.equal(negativeTtl(30, soa.rdata[0] as Uint8Array), 30);
  // SOA RDATA too short to hold the MINIMUM is a WireError (dns/rdata/soa.ts), not the SOA TTL.
  assert.throws(() => negativeTtl(60, new Uint8Array(21)), WireError);
});
