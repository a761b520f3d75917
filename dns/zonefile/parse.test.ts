import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ParseError } from '../errors.ts';
import { parseName } from '../name.ts';
import { rdataToText } from '../rdata/codec.ts';
import type { RR } from '../rr.ts';
import { RRType, typeToString } from '../types.ts';
import { loadZoneFile, parseRecords, parseZone } from './parse.ts';
import { parseTtl } from './ttl.ts';

const origin = parseName('example.');
const SOA_NS = '@ 3600 IN SOA ns1 host 1 7200 3600 1209600 300\n@ 3600 IN NS ns1\nns1 3600 IN A 192.0.2.1\n';

function lines(rrs: RR[]): string[] {
  return rrs.map((r) => `${r.name} ${r.ttl} ${typeToString(r.type)} ${rdataToText(r.type, r.rdata)}`);
}

/** Asserts that parsing throws one ParseError with exactly this `file:line:col: ` prefix. */
function failsAt(text: string, where: string, reason: RegExp, files: Record<string, string> = {}): void {
  assert.throws(
    () => parseZone(text, { origin, file: 'z.zone', readFile: (p) => { const f = files[p]; if (f === undefined) throw new Error('ENOENT'); return f; } }),
    (e: unknown) => {
      assert.ok(e instanceof ParseError, `not a ParseError: ${String(e)}`);
      assert.ok(e.message.startsWith(`${where}: `), `"${e.message}" does not start with "${where}: "`);
      assert.match(e.message, reason);
      return true;
    },
  );
}

test('TTL syntax: seconds and units', { timeout: 5000 }, () => {
  assert.equal(parseTtl('3600'), 3600);
  assert.equal(parseTtl('1h30m'), 5400);
  assert.equal(parseTtl('1w'), 604800);
  assert.equal(parseTtl('2D'), 172800);
  assert.equal(parseTtl('1h30'), 3630);
  assert.equal(parseTtl('0'), 0);
  for (const bad of ['', 'h', '1x', '2147483648', '1h-1', '9999999999w']) assert.throws(() => parseTtl(bad), ParseError, bad);
});

test('$ORIGIN, @, relative names, omitted owner, TTL and class, TTL/class order', { timeout: 5000 }, () => {
  const got = parseRecords(
    [
      '$TTL 1h',
      '@ IN SOA ns1 host.example. 1 7200 3600 1209600 300',
      '  NS ns1 ; owner from the previous line',
      'www 300 IN A 192.0.2.1',
      '    IN 60 AAAA 2001:db8::1',
      '$ORIGIN sub.example.',
      'a A 192.0.2.2',
      '@ TXT "at sub"',
      '$ORIGIN deeper',
      'b 5 MX 10 @',
    ].join('\n'),
    { origin },
  );
  assert.deepEqual(lines(got), [
    'example. 3600 SOA ns1.example. host.example. 1 7200 3600 1209600 300',
    'example. 3600 NS ns1.example.',
    'www.example. 300 A 192.0.2.1',
    'www.example. 60 AAAA 2001:db8::1',
    'a.sub.example. 3600 A 192.0.2.2',
    'sub.example. 3600 TXT "at sub"',
    'b.deeper.sub.example. 5 MX 10 deeper.sub.example.',
  ]);
});

test('default TTL without $TTL: last explicit TTL, SOA MINIMUM for a first SOA', { timeout: 5000 }, () => {
  const warnings: string[] = [];
  const got = parseRecords('@ SOA ns1 host 1 7200 3600 1209600 300\n NS ns1\nns1 120 A 192.0.2.1\nns2 A 192.0.2.2\n', { origin, file: 'f', onWarning: (w) => warnings.push(w) });
  assert.deepEqual(got.map((r) => r.ttl), [300, 300, 120, 120]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] as string, /^f:1:1: .*MINIMUM 300/);
  // $TTL wins over the last explicit TTL.
  assert.deepEqual(parseRecords('$TTL 7\na 9 A 192.0.2.1\nb A 192.0.2.2\n', { origin }).map((r) => r.ttl), [9, 7]);
  failsAt('www A 192.0.2.1\n', 'z.zone:1:1', /no TTL/);
});

test('parentheses, comments, quoted strings with ; and escapes, TYPEnnn, CLASS1, \\# and HSYNC3', { timeout: 5000 }, () => {
  const text = [
    '$TTL 300',
    '@ SOA ( ns1 host ; comment inside',
    '        1 7200 3600',
    '        1209600 300 )',
    '@ NS ns1',
    't TXT "a;b" "quote\\"d" ( "split"',
    '   "lines" )',
    'u TYPE65534 \\# 3 010203',
    'v CLASS1 TYPE1 \\# 4 c0000201',
    'x\\.y A 192.0.2.9',
    '@ HSYNC3 ON alpha agent.alpha.example. .',
    '@ TYPE65285 \\# 30 01 05616c706861 056167656e7405616c706861076578616d706c6500 012e',
  ].join('\n');
  const got = parseRecords(text, { origin });
  assert.deepEqual(lines(got).slice(2), [
    't.example. 300 TXT "a;b" "quote\\"d" "split" "lines"',
    'u.example. 300 TYPE65534 \\# 3 010203',
    'v.example. 300 A 192.0.2.1',
    'x\\.y.example. 300 A 192.0.2.9',
    'example. 300 HSYNC ON alpha agent.alpha.example. .',
    'example. 300 HSYNC ON alpha agent.alpha.example. .',
  ]);
  assert.deepEqual(got[6]?.rdata, got[7]?.rdata);
  // Duplicates (the two HSYNC above) are kept once in a zone.
  assert.equal(parseZone(text, { origin }).get(origin, RRType.HSYNC)?.rdata.length, 1);
});

test('$INCLUDE is relative to the including file, takes an origin, and restores ours', { timeout: 5000 }, () => {
  const files: Record<string, string> = {
    'zones/main.zone': `$TTL 60\n${SOA_NS}$INCLUDE sub/hosts.inc\n$INCLUDE sub/hosts.inc other.test.\nafter A 192.0.2.100\n`,
    'zones/sub/hosts.inc': 'h1 A 192.0.2.11\n$INCLUDE more.inc\n',
    'zones/sub/more.inc': 'h2 A 192.0.2.12\n',
  };
  const readFile = (p: string): string => {
    const f = files[p];
    if (f === undefined) throw new Error(`ENOENT ${p}`);
    return f;
  };
  const got = parseRecords(files['zones/main.zone'] as string, { origin, file: 'zones/main.zone', readFile });
  assert.deepEqual(got.slice(3).map((r) => `${r.name} ${r.ttl}`), [
    'h1.example. 60',
    'h2.example. 60',
    'h1.other.test. 60',
    'h2.other.test. 60',
    'after.example. 60',
  ]);
  // As a zone, the records included under other.test. are outside: the error points into the include.
  assert.throws(() => loadZoneFile('zones/main.zone', origin, readFile), (e: unknown) => e instanceof ParseError && e.message.startsWith('zones/sub/hosts.inc:1:1: record outside the zone origin example.: h1.other.test.'));
  assert.equal(loadZoneFile('zones/main.zone', origin, (p) => readFile(p).replace('$INCLUDE sub/hosts.inc other.test.', '')).size, 6);
});

test('every bad input is one ParseError at the exact file:line:column', { timeout: 5000 }, () => {
  failsAt(`${SOA_NS}www IN A 192.0.2.300\n`, 'z.zone:4:10', /bad A RDATA/);
  failsAt(`${SOA_NS}www IN BOGUS 1\n`, 'z.zone:4:8', /unknown RR type "BOGUS"/);
  failsAt(`${SOA_NS}www 1x A 192.0.2.1\n`, 'z.zone:4:5', /bad TTL "1x"/);
  failsAt(`${SOA_NS}www 300 IN\n`, 'z.zone:4:9', /missing RR type/);
  failsAt(`${SOA_NS}mx MX 10\n`, 'z.zone:4:7', /bad MX RDATA/);
  failsAt(`${SOA_NS}mx MX 10 a.example. extra\n`, 'z.zone:4:21', /trailing data/);
  failsAt(`${SOA_NS}t TXT "open\n`, 'z.zone:4:7', /unterminated quoted string/);
  failsAt(`${SOA_NS}t TXT ( "a"\n "b"\n`, 'z.zone:4:7', /"\(" not closed/);
  failsAt(`${SOA_NS}a..b A 192.0.2.1\n`, 'z.zone:4:1', /bad owner name/);
  failsAt(`${SOA_NS}x.org. A 192.0.2.1\n`, 'z.zone:4:1', /record outside the zone origin example\.: x\.org\. 3600 IN A/);
  failsAt(`${SOA_NS}ns1 CNAME www\n`, 'z.zone:4:1', /CNAME and other data at the same name: ns1\.example\./);
  failsAt(`${SOA_NS}@ SOA ns1 host 2 7200 3600 1209600 300\n`, 'z.zone:4:1', /more than one SOA/);
  failsAt(`${SOA_NS}www CH A 192.0.2.1\n`, 'z.zone:4:8', /class CH differs/);
  failsAt(`${SOA_NS}$TTL\n`, 'z.zone:4:1', /\$TTL needs a TTL/);
  failsAt(`${SOA_NS}$TTL 1y\n`, 'z.zone:4:6', /bad TTL/);
  failsAt(`${SOA_NS}$ORIGIN a..b.\n`, 'z.zone:4:9', /bad name "a\.\.b\."/);
  failsAt(`${SOA_NS}$ORIGIN a. b.\n`, 'z.zone:4:12', /unexpected "b\." after \$ORIGIN/);
  failsAt(`${SOA_NS}$GENERATE 1-2 h$ A 192.0.2.$\n`, 'z.zone:4:1', /unknown directive \$GENERATE/);
  failsAt(`   A 192.0.2.1\n`, 'z.zone:1:4', /no owner name/);
  failsAt(`${SOA_NS}$INCLUDE missing.inc\n`, 'z.zone:4:10', /cannot read \$INCLUDE file "missing\.inc"/);
  failsAt(`${SOA_NS}$INCLUDE bad.inc\n`, 'bad.inc:2:9', /bad AAAA RDATA/, { 'bad.inc': 'ok A 192.0.2.1\nno AAAA 192.0.2.1\n' });
  failsAt(`${SOA_NS}$INCLUDE loop.inc\n`, 'loop.inc:1:1', /nested deeper than 16/, { 'loop.inc': '$INCLUDE loop.inc\n' });
  failsAt('$TTL 60\n@ NS ns1\nns1 A 192.0.2.1\n', 'z.zone:1:1', /has no SOA/);
  failsAt('$TTL 60\n@ SOA ns1 host 1 2 3 4 5\nns1 A 192.0.2.1\n', 'z.zone:1:1', /no NS records at the apex/);
  // Without a readFile callback $INCLUDE is refused.
  assert.throws(() => parseZone(`${SOA_NS}$INCLUDE x\n`, { origin, file: 'z.zone' }), /^ParseError: z\.zone:4:1: \$INCLUDE is not allowed/);
});

test('a zone that fails never half-loads: the error is thrown, nothing is returned', { timeout: 5000 }, () => {
  let z;
  try {
    z = parseZone(`${SOA_NS}good A 192.0.2.7\nbad A nope\n`, { origin, file: 'z.zone' });
  } catch (err) {
    assert.ok(err instanceof ParseError);
  }
  assert.equal(z, undefined);
});

test('warnings carry positions: TTL unified to the RRset TTL', { timeout: 5000 }, () => {
  const warnings: string[] = [];
  const z = parseZone(`${SOA_NS}m 300 A 192.0.2.1\nm 600 A 192.0.2.2\n`, { origin, file: 'w.zone', onWarning: (w) => warnings.push(w) });
  assert.deepEqual(warnings, ['w.zone:5:1: TTL 600 differs from the RRset\'s TTL 300: set to the RRset\'s TTL']);
  assert.equal(z.get(parseName('m.example.'), RRType.A)?.ttl, 300);
});

test('the sample zones in examples/ load', { timeout: 5000 }, async () => {
  const { readFileSync } = await import('node:fs');
  const read = (p: string): string => readFileSync(p, 'utf8');
  const customer = loadZoneFile('examples/customer.zone', parseName('customer.zone.'), read);
  assert.equal(customer.get(parseName('customer.zone.'), RRType.HSYNC)?.rdata.length, 3);
  assert.deepEqual([...customer.cuts], ['shop.customer.zone.']);
  const alpha = loadZoneFile('examples/alpha.example.zone', parseName('alpha.example.'), read);
  assert.match(rdataToText(RRType.URI, alpha.get(parseName('_dns._tcp.agent.alpha.example.'), RRType.URI)?.rdata[0] as Uint8Array), /dns:\/\/dns\.agent\.alpha\.example:5359\//);
  assert.ok(alpha.get(parseName('dns.agent.alpha.example.'), RRType.JWK));
});

test('errors show input on one bounded line: a huge token is cut, a BOM or control character escaped', { timeout: 5000 }, () => {
  const huge = 'a'.repeat(70_000);
  assert.throws(() => parseZone(`${SOA_NS}${huge} A 192.0.2.1\n`, { origin, file: 'z.zone' }), (e: unknown) => {
    assert.ok(e instanceof ParseError);
    assert.ok(e.message.length < 600, `message of ${e.message.length} characters`);
    assert.match(e.message, /^z\.zone:4:1: .*… \(\d+ more characters\)$/);
    return true;
  });
  failsAt(`${SOA_NS}\ufeffwww A 192.0.2.1\n`, 'z.zone:4:1', /\\ufeff/);
  failsAt(`${SOA_NS}www A 192.0.2.1\u0007\n`, 'z.zone:4:7', /\\u0007/);
});

test('data below a DNAME loads with a warning naming it (RFC 6672 §2.4)', { timeout: 5000 }, () => {
  const warnings: string[] = [];
  const z = parseZone(`${SOA_NS}dn DNAME t.example.\nx.dn A 192.0.2.1\ny.z.dn TXT "y"\nother A 192.0.2.2\n`, { origin, file: 'z.zone', onWarning: (w) => warnings.push(w) });
  assert.equal(z.size, 7);
  assert.deepEqual(warnings.map((w) => /: (\S+) has data below the DNAME at (\S+):/.exec(w)?.slice(1).join(' ')).sort(), ['x.dn.example. dn.example.', 'y.z.dn.example. dn.example.']);
});
