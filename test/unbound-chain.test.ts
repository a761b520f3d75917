// A signed chain on loopback judged by Unbound: root → lab. → zone.lab., each zone served by
// `mpdns serve --sign` on its own port, DS records in each parent, Unbound validating from the
// root's DS. Secure (AD) for a positive answer, NXDOMAIN, NODATA, a wildcard, a DNAME (answer
// and NXDOMAIN behind it), an NSEC query and the no-DS proof of an unsigned delegation; SERVFAIL for a tampered zone; and multi-signer model 2:
// zone.lab. is served by two signers with their own keys (both in the DNSKEY RRset, a DS for
// each KSK in lab.), and Unbound validates whichever one it asks.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { readZoneRecords } from '../dns/files/load.ts';
import { generateKey, SignedZone, SignedZoneSource } from '../dns/dnssec/index.ts';
import { DnsServer } from '../dns/net/index.ts';
import { parseName } from '../dns/name.ts';
import { rdataToText } from '../dns/rdata/index.ts';
import { RRType } from '../dns/types.ts';
import { haveBinary, startDaemon, type Daemon } from './support/daemon.ts';
import { pollUntil } from './support/poll.ts';
import { freePort } from './support/ports.ts';
import { tmpDir, type TmpDir } from './support/tmp.ts';

const exec = promisify(execFile);
const MPDNS = join(import.meta.dirname, '..', 'bin', 'mpdns');
const missing = ['unbound', 'dig'].filter((b) => !haveBinary(b));
const skip = missing.length > 0 ? `needs ${missing.join(', ')}` : false;

const soa = (ns: string): string => `@ 3600 IN SOA ${ns} hostmaster 1 7200 3600 1209600 300`;

let dir: TmpDir;
const daemons: Daemon[] = [];
const servers: DnsServer[] = [];
let resolverA = 0;
let resolverB = 0;

async function mpdns(args: string[]): Promise<string> {
  const r = await exec(MPDNS, args, { timeout: 60_000 });
  return r.stdout;
}

/** Runs `mpdns sign` once to create the zone's keys and DS set; returns the DS lines. */
async function keysAndDs(zoneFile: string, origin: string, keyDir: string): Promise<string> {
  await mkdir(keyDir, { recursive: true });
  const ds = `${zoneFile}.ds`;
  await mpdns(['sign', '--zone', zoneFile, '--origin', origin, '--key-dir', keyDir, '--out', `${zoneFile}.signed`, '--ds-out', ds]);
  return readFile(ds, 'utf8');
}

async function dnskeyLines(keyDir: string): Promise<string> {
  let out = '';
  for (const f of (await readdir(keyDir)).filter((x) => x.endsWith('.key'))) {
    out += (await readFile(join(keyDir, f), 'utf8')).split('\n').filter((l) => l.includes('DNSKEY')).join('\n') + '\n';
  }
  return out;
}

/** `mpdns serve --sign` for one zone on its own port. */
async function serveSigned(name: string, file: string, origin: string, keyDir: string, nsec3 = false): Promise<number> {
  const port = await freePort();
  const d = startDaemon(name, MPDNS, [
    // The NSEC3 zones are first signed with two threads (the sign pool), the others with one.
    'serve', '--sign', '--key-dir', keyDir, ...(nsec3 ? ['--nsec3', '--threads', '2'] : []), '--zone', `${file}:${origin}`, '--listen', `127.0.0.1:${port}`,
  ]);
  daemons.push(d);
  await pollUntil(`${name} listening`, async () => {
    const r = await dig(port, origin, 'SOA', false);
    return r.status === 'NOERROR';
  }, { timeoutMs: 30_000, intervalMs: 200 });
  return port;
}

interface DigResult {
  status: string;
  ad: boolean;
  answer: string[];
  text: string;
}

async function dig(port: number, name: string, type: string, recurse = true): Promise<DigResult> {
  const args = [`@127.0.0.1`, '-p', String(port), '+dnssec', '+tries=1', '+time=8', recurse ? '+rec' : '+norec', name, type];
  const r = await exec('dig', args, { timeout: 20_000 });
  const text = r.stdout;
  const status = /status: ([A-Z]+)/.exec(text)?.[1] ?? 'NONE';
  const flags = /flags: ([a-z ]+);/.exec(text)?.[1] ?? '';
  const answer: string[] = [];
  const sec = /;; ANSWER SECTION:\n([\s\S]*?)\n\n/.exec(text)?.[1];
  if (sec !== undefined) for (const l of sec.split('\n')) answer.push(l.split(/\s+/).slice(3).join(' '));
  return { status, ad: flags.split(' ').includes('ad'), answer, text };
}

async function startUnbound(name: string, stubs: Record<string, number>, anchor: string): Promise<number> {
  const port = await freePort();
  const conf = join(dir.path, `${name}.conf`);
  let text = `server:
  interface: 127.0.0.1
  port: ${port}
  do-not-query-localhost: no
  username: ""
  chroot: ""
  directory: "${dir.path}"
  pidfile: "${join(dir.path, `${name}.pid`)}"
  use-syslog: no
  logfile: ""
  verbosity: 1
  val-log-level: 2
  do-ip6: no
  qname-minimisation: no
  aggressive-nsec: no
  harden-referral-path: no
  target-fetch-policy: "0 0 0 0 0"
  module-config: "validator iterator"
  trust-anchor: "${anchor}"
  access-control: 127.0.0.0/8 allow
  cache-max-ttl: 1
`;
  for (const [zone, p] of Object.entries(stubs)) text += `stub-zone:\n  name: "${zone}"\n  stub-addr: 127.0.0.1@${p}\n`;
  await writeFile(conf, text);
  const d = startDaemon(name, 'unbound', ['-d', '-c', conf]);
  daemons.push(d);
  await pollUntil(`${name} answering`, async () => (await dig(port, '.', 'SOA')).status !== 'NONE', { timeoutMs: 20_000, intervalMs: 200 });
  return port;
}

before(async () => {
  if (skip !== false) return;
  dir = await tmpDir('mpdns-unbound-chain-');
  const p = (f: string): string => join(dir.path, f);

  // zone.lab.: two signers (model 2), each publishing the other's keys.
  const zoneBase = `$ORIGIN zone.lab.\n${soa('ns')}\n@ 3600 IN NS ns\nns 3600 IN A 127.0.0.1\nwww 3600 IN A 192.0.2.80\n*.wild 3600 IN TXT "wildcard"\n` +
    `dn 3600 IN DNAME tgt\nx.tgt 3600 IN A 192.0.2.81\n`;
  await writeFile(p('zone.base'), zoneBase);
  await keysAndDs(p('zone.base'), 'zone.lab.', p('kA'));
  await keysAndDs(p('zone.base'), 'zone.lab.', p('kB'));
  await writeFile(p('zoneA.zone'), zoneBase + (await dnskeyLines(p('kB'))));
  await writeFile(p('zoneB.zone'), zoneBase + (await dnskeyLines(p('kA'))));
  const zoneDs = await keysAndDs(p('zoneA.zone'), 'zone.lab.', p('kA'));
  assert.equal(zoneDs.trim().split('\n').length, 2, 'a DS for each signer KSK');

  // bad.lab.: signed in-process, then one signature is broken (served by our DnsServer).
  const badOrigin = parseName('bad.lab.');
  await writeFile(p('bad.zone'), `$ORIGIN bad.lab.\n${soa('ns')}\n@ 3600 IN NS ns\nns 3600 IN A 127.0.0.1\nwww 3600 IN A 192.0.2.66\n`);
  const bad = SignedZone.sign(await readZoneRecords(p('bad.zone'), badOrigin), { origin: badOrigin, keys: [generateKey(badOrigin, 15, 257), generateKey(badOrigin, 15, 256)] });
  const broken = bad.rrsigs(parseName('www.bad.lab.'), RRType.A)[0];
  assert.ok(broken !== undefined);
  const sigBytes = broken.rdata;
  sigBytes[sigBytes.length - 1] = (sigBytes[sigBytes.length - 1] ?? 0) ^ 0x01;
  const badPort = await freePort();
  const badServer = new DnsServer({ address: '127.0.0.1', port: badPort });
  badServer.setZone(new SignedZoneSource(bad));
  await badServer.start();
  servers.push(badServer);
  const badDs = bad.dsSet().map((d) => `bad 3600 IN DS ${rdataToText(RRType.DS, d)}`).join('\n');

  // insecure.lab.: an unsigned child (plain mpdns serve).
  await writeFile(p('insecure.zone'), `$ORIGIN insecure.lab.\n${soa('ns')}\n@ 3600 IN NS ns\nns 3600 IN A 127.0.0.1\nhost 3600 IN A 192.0.2.7\n`);
  const insecurePort = await freePort();
  const ins = startDaemon('insecure', MPDNS, ['serve', '--zone', `${p('insecure.zone')}:insecure.lab.`, '--listen', `127.0.0.1:${insecurePort}`]);
  daemons.push(ins);

  // n3.lab.: NSEC3 (iterations 0, no salt), with an ENT and an unsigned delegation.
  await writeFile(
    p('n3.zone'),
    `$ORIGIN n3.lab.\n${soa('ns')}\n@ 3600 IN NS ns\nns 3600 IN A 127.0.0.1\nwww 3600 IN A 192.0.2.33\n*.wild 3600 IN TXT "wild3"\n` +
      `a.deep 3600 IN A 192.0.2.34\nunsig 3600 IN NS ns.unsig\nns.unsig 3600 IN A 127.0.0.1\n` +
      `dn 3600 IN DNAME tgt\nx.tgt 3600 IN A 192.0.2.35\n`,
  );
  const n3Ds = await keysAndDs(p('n3.zone'), 'n3.lab.', p('kN3'));

  // lab.: delegations to zone (two DS), n3 (DS), bad (DS), insecure (no DS).
  const lab =
    `$ORIGIN lab.\n${soa('ns')}\n@ 3600 IN NS ns\nns 3600 IN A 127.0.0.1\n` +
    `zone 3600 IN NS ns.zone\nns.zone 3600 IN A 127.0.0.1\n${zoneDs.replace(/^zone\.lab\.\t3600\tIN/gm, 'zone 3600 IN')}\n` +
    `bad 3600 IN NS ns.bad\nns.bad 3600 IN A 127.0.0.1\n${badDs}\n` +
    `insecure 3600 IN NS ns.insecure\nns.insecure 3600 IN A 127.0.0.1\n` +
    `n3 3600 IN NS ns.n3\nns.n3 3600 IN A 127.0.0.1\n${n3Ds.replace(/^n3\.lab\.\t3600\tIN/gm, 'n3 3600 IN')}\n`;
  await writeFile(p('lab.zone'), lab);
  const labDs = await keysAndDs(p('lab.zone'), 'lab.', p('kLab'));

  // The root.
  await writeFile(p('root.zone'), `$ORIGIN .\n${soa('ns.lab.')}\n@ 3600 IN NS ns.lab.\nlab. 3600 IN NS ns.lab.\nns.lab. 3600 IN A 127.0.0.1\n${labDs}`);
  const rootDs = (await keysAndDs(p('root.zone'), '.', p('kRoot'))).trim().split('\n')[0] ?? '';
  const anchor = rootDs.split(/\s+/).filter((_t, i) => i !== 1).join(' ');

  const rootPort = await serveSigned('root', p('root.zone'), '.', p('kRoot'));
  const labPort = await serveSigned('lab', p('lab.zone'), 'lab.', p('kLab'));
  const zoneAPort = await serveSigned('zoneA', p('zoneA.zone'), 'zone.lab.', p('kA'));
  const zoneBPort = await serveSigned('zoneB', p('zoneB.zone'), 'zone.lab.', p('kB'));
  const n3Port = await serveSigned('n3', p('n3.zone'), 'n3.lab.', p('kN3'), true);
  await pollUntil('insecure.lab listening', async () => (await dig(insecurePort, 'insecure.lab.', 'SOA', false)).status === 'NOERROR', { timeoutMs: 30_000, intervalMs: 200 });
  const common = { '.': rootPort, 'lab.': labPort, 'bad.lab.': badPort, 'insecure.lab.': insecurePort, 'n3.lab.': n3Port };
  resolverA = await startUnbound('unboundA', { ...common, 'zone.lab.': zoneAPort }, anchor);
  resolverB = await startUnbound('unboundB', { ...common, 'zone.lab.': zoneBPort }, anchor);
});

after(async () => {
  await Promise.all(daemons.map((d) => d.stop()));
  await Promise.all(servers.map((s) => s.stop()));
  await dir?.remove();
});

const cases: [string, string, string, string, boolean, RegExp | undefined][] = [
  ['positive answer', 'www.zone.lab.', 'A', 'NOERROR', true, /^A 192\.0\.2\.80$/],
  ['NXDOMAIN', 'nope.zone.lab.', 'A', 'NXDOMAIN', true, undefined],
  ['NODATA', 'www.zone.lab.', 'TXT', 'NOERROR', true, undefined],
  ['wildcard expansion', 'x.wild.zone.lab.', 'TXT', 'NOERROR', true, /^TXT "wildcard"$/],
  ['wildcard NODATA', 'x.wild.zone.lab.', 'A', 'NOERROR', true, undefined],
  ['no-DS proof of an unsigned delegation', 'insecure.lab.', 'DS', 'NOERROR', true, undefined],
  ['DNSKEY of both signers', 'zone.lab.', 'DNSKEY', 'NOERROR', true, /^DNSKEY 25[67] 3 15 /],
  ['DNAME substitution', 'x.dn.zone.lab.', 'A', 'NOERROR', true, /^(DNAME tgt\.zone\.lab\.|CNAME x\.tgt\.zone\.lab\.|A 192\.0\.2\.81)$/],
  ['NXDOMAIN through a DNAME', 'nope.dn.zone.lab.', 'A', 'NXDOMAIN', true, /^(DNAME tgt\.zone\.lab\.|CNAME nope\.tgt\.zone\.lab\.)$/],
  ['an NSEC query', 'www.zone.lab.', 'NSEC', 'NOERROR', true, /^NSEC /],
];

for (const [which, port] of [
  ['signer A', (): number => resolverA],
  ['signer B', (): number => resolverB],
] as const) {
  for (const [what, name, type, status, ad, answer] of cases) {
    test(`Unbound via ${which}: ${what} (${name} ${type}) is ${status}${ad ? ' with AD' : ''}`, { skip, timeout: 30_000 }, async () => {
      const r = await dig(port(), name, type);
      assert.equal(r.status, status, r.text);
      assert.equal(r.ad, ad, r.text);
      const data = r.answer.filter((l) => !l.startsWith('RRSIG'));
      if (answer === undefined) assert.deepEqual(data, [], r.text);
      else assert.ok(data.length > 0 && data.every((l) => answer.test(l)), r.text);
    });
  }
}

const nsec3Cases: [string, string, string, string, RegExp | undefined][] = [
  ['positive answer', 'www.n3.lab.', 'A', 'NOERROR', /^A 192\.0\.2\.33$/],
  ['NXDOMAIN', 'nope.n3.lab.', 'A', 'NXDOMAIN', undefined],
  ['NODATA', 'www.n3.lab.', 'TXT', 'NOERROR', undefined],
  ['NODATA at an empty non-terminal', 'deep.n3.lab.', 'A', 'NOERROR', undefined],
  ['wildcard expansion', 'x.wild.n3.lab.', 'TXT', 'NOERROR', /^TXT "wild3"$/],
  ['wildcard NODATA', 'x.wild.n3.lab.', 'A', 'NOERROR', undefined],
  ['no-DS proof of an unsigned delegation', 'unsig.n3.lab.', 'DS', 'NOERROR', undefined],
  ['DNAME substitution', 'x.dn.n3.lab.', 'A', 'NOERROR', /^(DNAME tgt\.n3\.lab\.|CNAME x\.tgt\.n3\.lab\.|A 192\.0\.2\.35)$/],
  ['NXDOMAIN through a DNAME', 'nope.dn.n3.lab.', 'A', 'NXDOMAIN', /^(DNAME tgt\.n3\.lab\.|CNAME nope\.tgt\.n3\.lab\.)$/],
];
for (const [what, name, type, status, answer] of nsec3Cases) {
  test(`Unbound, NSEC3 zone: ${what} (${name} ${type}) is ${status} with AD`, { skip, timeout: 30_000 }, async () => {
    const r = await dig(resolverA, name, type);
    assert.equal(r.status, status, r.text);
    assert.equal(r.ad, true, r.text);
    const data = r.answer.filter((l) => !l.startsWith('RRSIG'));
    if (answer === undefined) assert.deepEqual(data, [], r.text);
    else assert.ok(data.length > 0 && data.every((l) => answer.test(l)), r.text);
  });
}

test('Unbound: a DNSKEY RRset with both signers\' keys (4 DNSKEYs)', { skip, timeout: 30_000 }, async () => {
  const r = await dig(resolverA, 'zone.lab.', 'DNSKEY');
  assert.equal(r.answer.filter((l) => l.startsWith('DNSKEY')).length, 4, r.text);
});

test('Unbound: the unsigned child answers without AD', { skip, timeout: 30_000 }, async () => {
  const r = await dig(resolverA, 'host.insecure.lab.', 'A');
  assert.equal(r.status, 'NOERROR', r.text);
  assert.equal(r.ad, false, r.text);
  assert.deepEqual(r.answer, ['A 192.0.2.7']);
});

test('Unbound: a tampered signature is bogus (SERVFAIL)', { skip, timeout: 30_000 }, async () => {
  const r = await dig(resolverA, 'www.bad.lab.', 'A');
  assert.equal(r.status, 'SERVFAIL', r.text);
  const ok = await dig(resolverA, 'bad.lab.', 'SOA');
  assert.equal(ok.status, 'NOERROR', 'the rest of the tampered zone still validates');
  assert.equal(ok.ad, true);
});
