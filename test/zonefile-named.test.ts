// Our zone-file parser against BIND's: named-checkzone -D prints the zone as BIND loaded it; we
// parse that output with our own parser and compare record by record (owner, TTL, class, type,
// RDATA bytes) with what our parser made of the original file. The zones are varied on purpose:
// every standard type both sides know, escapes, parentheses, $INCLUDE, wildcards, delegations,
// unknown types in RFC 3597 form. HSYNC/HSYNCPARAM are unknown to BIND: named gets them as `\#`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { parseName, type Fqdn } from '../dns/name.ts';
import { genericText } from '../dns/rdata/codec.ts';
import type { RR } from '../dns/rr.ts';
import { classToString, RRType, typeToString } from '../dns/types.ts';
import { loadZoneFile, parseRecords, parseZone } from '../dns/zonefile/parse.ts';
import { printZone } from '../dns/zonefile/print.ts';
import { generateZone } from './support/genzone.ts';
import { haveBinary } from './support/daemon.ts';
import { tmpDir, type TmpDir } from './support/tmp.ts';

const run = promisify(execFile);
const haveNamed = haveBinary('named-checkzone');
const skip = haveNamed ? false : 'named-checkzone (bind9-utils) is not installed';

const b64 = (n: number, seed: number): string => Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + seed) & 0xff)).toString('base64');
const hex = (n: number, seed: number): string => Buffer.from(Array.from({ length: n }, (_, i) => (i * 53 + seed) & 0xff)).toString('hex');

const TYPES_ZONE = `; every standard type both parsers know
$ORIGIN types.example.
$TTL 1h
@           SOA   ns1 hostmaster.types.example. ( 2026112701 ; serial
                  2h 1h 2w 5m )
            NS    ns1
            NS    ns2.elsewhere.test.
ns1         A     192.0.2.1
ns1         AAAA  2001:db8::1
mb          MB    mb.host.test.
mg          MG    mg
mr          MR    mr.host.test.
ptr         PTR   target.example.org.
hinfo       HINFO "PC Intel" "Linux 6"
minfo       MINFO rmail emailbx.types.example.
mx          MX    10 mx1
txt         TXT   "with ; semicolon" "quote \\" inside" "\\065\\066C" unquoted "" "tab\\009here"
rp          RP    mbox.rp txt.rp
afsdb       AFSDB 1 afs.host.test.
key         KEY   256 3 13 ${b64(64, 1)}
loc         LOC   52 22 23.000 N 4 53 32.000 E -2.00m 1m 10000m 10m
srv         SRV   0 5 5060 sip.types.example.
naptr       NAPTR 100 10 "U" "E2U+sip" "!^.*$!sip:info@example.com!" .
kx          KX    10 kx.host.test.
dname       DNAME other.test.
sshfp       SSHFP 4 2 ${hex(32, 2)}
rrsig       RRSIG A 13 2 300 20991231000000 20251201000000 12345 types.example. ${b64(64, 3)}
nsec        NSEC  next.types.example. A NS SOA RRSIG NSEC TYPE65534
dnskey      DNSKEY 257 3 13 ( ${b64(33, 4)}
                  ${b64(33, 5)} )
nsec3param  NSEC3PARAM 1 0 0 -
tlsa        TLSA  3 1 1 ${hex(32, 6)}
smimea      SMIMEA 3 1 1 ${hex(32, 7)}
cds         CDS   12345 13 2 ${hex(32, 8)}
cdnskey     CDNSKEY 257 3 13 ${b64(64, 9)}
openpgpkey  OPENPGPKEY ${b64(40, 10)}
csync       CSYNC 2026112701 3 A NS AAAA
zonemd      ZONEMD 2026112701 1 1 ${hex(48, 11)}
svcb        SVCB  1 svc.host.test. alpn=h2,h3 port=8443 ipv4hint=192.0.2.7,192.0.2.8 ipv6hint=2001:db8::7
svcb0       SVCB  0 svc.host.test.
https       HTTPS 1 . alpn=h2 no-default-alpn
spf         SPF   "v=spf1 -all"
uri         URI   10 1 "https://example.org/path"
caa         CAA   0 issue "ca.example.net; account=1"
unknown     TYPE65534 \\# 4 deadbeef
empty       TYPE65533 \\# 0
generic     CLASS1 TYPE1 \\# 4 c0000263
cname       CNAME ns1
esc\\.aped   A     192.0.2.20
sp\\032ace   A     192.0.2.21
back\\\\slash TXT   "backslash label"
\\(paren\\)   TXT   "parens"
UPPER       A     192.0.2.22
*.wild      A     192.0.2.23
*.wild      TXT   "wildcard"
deleg       NS    ns.deleg
deleg       NS    ns.other.test.
deleg       DS    12345 13 2 ${hex(32, 12)}
ns.deleg    A     192.0.2.30
ttl1 1d12h  A     192.0.2.40
ttl2 IN 90  A     192.0.2.41
ttl3 90 IN  A     192.0.2.42
$INCLUDE types-include.inc
$INCLUDE types-include.inc inc2.types.example.
after       A     192.0.2.50
`;

const TYPES_INCLUDE = `; included twice, once under another origin
host1  A    192.0.2.60
       AAAA 2001:db8::60
$ORIGIN deeper
host2  TXT  "in the include"
`;

function hsyncAsGeneric(text: string, origin: Fqdn): string {
  // BIND 9.18 does not know HSYNC/HSYNCPARAM: give it the same records in RFC 3597 form.
  return parseRecords(text, { origin })
    .map((rr) => {
      const t = rr.type === RRType.HSYNC || rr.type === RRType.HSYNCPARAM ? `TYPE${rr.type} ${genericText(rr.rdata)}` : null;
      return t === null ? null : `${rr.name} ${rr.ttl} IN ${t}`;
    })
    .filter((l) => l !== null)
    .join('\n');
}

function keyOf(rr: RR): string {
  return `${rr.name} ${rr.ttl} ${classToString(rr.class)} ${typeToString(rr.type)} ${Buffer.from(rr.rdata).toString('hex')}`;
}

function compare(ours: readonly RR[], theirs: readonly RR[]): { onlyOurs: string[]; onlyTheirs: string[] } {
  const a = new Set(ours.map(keyOf));
  const b = new Set(theirs.map(keyOf));
  return { onlyOurs: [...a].filter((k) => !b.has(k)).sort(), onlyTheirs: [...b].filter((k) => !a.has(k)).sort() };
}

/** BIND reads $INCLUDE relative to its working directory (we: relative to the including file). */
async function named(origin: string, file: string): Promise<string> {
  try {
    const { stdout } = await run('named-checkzone', ['-i', 'none', '-k', 'ignore', '-D', '-o', '-', origin, file], { cwd: dirname(file), timeout: 60_000, maxBuffer: 64 << 20 });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`named-checkzone rejected ${file}:\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: err });
  }
}

let dir: TmpDir;
before(async () => {
  dir = await tmpDir('mpdns-zonefile-');
});
after(async () => {
  await dir.remove();
});

interface Case {
  readonly name: string;
  readonly origin: string;
  readonly file: string;
  /** The file BIND reads (defaults to `file`). */
  readonly namedFile?: string;
}

async function check(c: Case): Promise<RR[]> {
  const origin = parseName(c.origin);
  const read = (p: string): string => readFileSync(p, 'utf8');
  const zone = loadZoneFile(c.file, origin, read);
  const ours = [...zone.records()];
  const theirs = parseRecords(await named(c.origin, c.namedFile ?? c.file), { origin, file: 'named-checkzone output' });
  const diff = compare(ours, theirs);
  assert.deepEqual(diff, { onlyOurs: [], onlyTheirs: [] }, `${c.name}: records differ from named-checkzone`);
  assert.equal(ours.length, theirs.length);
  // And our printer's output reads back to the same zone.
  const again = parseZone(printZone(zone, { relative: true }), { origin, file: 'printed' });
  assert.deepEqual(compare(ours, [...again.records()]), { onlyOurs: [], onlyTheirs: [] }, `${c.name}: print/parse round trip`);
  return ours;
}

test('every standard type, escapes, parentheses, $INCLUDE, wildcards, delegations, \\#', { timeout: 60_000, skip }, async () => {
  const file = join(dir.path, 'types.zone');
  writeFileSync(file, TYPES_ZONE);
  writeFileSync(join(dir.path, 'types-include.inc'), TYPES_INCLUDE);
  const ours = await check({ name: 'types', origin: 'types.example.', file });
  assert.ok(ours.length >= 60, `only ${ours.length} records`);
  const types = new Set(ours.map((r) => r.type));
  for (const t of ['LOC', 'NAPTR', 'SVCB', 'HTTPS', 'CSYNC', 'URI', 'CAA', 'ZONEMD', 'TYPE65534']) {
    assert.ok([...types].some((x) => typeToString(x) === t), `${t} missing`);
  }
});

test('examples/customer.zone (HSYNC and HSYNCPARAM given to BIND as \\#)', { timeout: 60_000, skip }, async () => {
  const text = readFileSync('examples/customer.zone', 'utf8');
  const origin = parseName('customer.zone.');
  const namedText = text.replace(/^.*\b(HSYNC|HSYNCPARAM)\b.*$/gm, '') + '\n' + hsyncAsGeneric(text, origin) + '\n';
  const namedFile = join(dir.path, 'customer-generic.zone');
  writeFileSync(namedFile, namedText);
  const ours = await check({ name: 'customer', origin: 'customer.zone.', file: 'examples/customer.zone', namedFile });
  assert.equal(ours.filter((r) => r.type === RRType.HSYNC).length, 3);
  assert.equal(ours.filter((r) => r.type === RRType.HSYNCPARAM).length, 1);
});

test('a generated 5,000-record zone, and TTL unification of one RRset', { timeout: 60_000, skip }, async () => {
  const gen = generateZone({ origin: 'gen.example.', records: 5000, seed: 7 });
  const file = join(dir.path, 'gen.zone');
  // Two TTLs in one RRset: both sides keep the first (BIND: "TTL set to prior TTL").
  writeFileSync(file, gen.text + 'multi 300 A 192.0.2.1\nmulti 600 A 192.0.2.2\n');
  const ours = await check({ name: 'generated', origin: 'gen.example.', file });
  assert.deepEqual(ours.filter((r) => r.name === 'multi.gen.example.').map((r) => r.ttl), [300, 300]);
});

test('the comparison can fail: a changed record is reported on both sides', { timeout: 60_000, skip }, async () => {
  const file = join(dir.path, 'types.zone');
  writeFileSync(file, TYPES_ZONE);
  writeFileSync(join(dir.path, 'types-include.inc'), TYPES_INCLUDE);
  const origin = parseName('types.example.');
  const ours = [...loadZoneFile(file, origin, (p) => readFileSync(p, 'utf8')).records()];
  const altered = join(dir.path, 'altered.zone');
  writeFileSync(altered, TYPES_ZONE.replace('192.0.2.20', '192.0.2.99'));
  const theirs = parseRecords(await named('types.example.', altered), { origin });
  const diff = compare(ours, theirs);
  assert.equal(diff.onlyOurs.length, 1);
  assert.equal(diff.onlyTheirs.length, 1);
  assert.match(diff.onlyOurs[0] as string, /^esc\\\.aped\.types\.example\. /);
});
