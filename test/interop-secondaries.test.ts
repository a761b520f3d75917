// NSD and Knot as TSIG-secured secondaries of `mpdns serve`: AXFR, then an edit + SIGHUP →
// NOTIFY → IXFR (Knot) and a transfer (NSD); every name/type answered the same by all three.
// And the reverse: mpdns's client and Secondary transferring from NSD.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './support/ports.ts';
import { tmpDir, type TmpDir } from './support/tmp.ts';
import { pollUntil } from './support/poll.ts';
import { haveBinary, startDaemon, type Daemon } from './support/daemon.ts';
import { kdig } from './net-kdig.ts';
import { soaWithSerial } from '../dns/index.ts';
import { axfr, ixfr, Secondary } from '../dns/net/index.ts';
import { parseTsigKey } from '../dns/tsig.ts';
import type { Fqdn } from '../dns/name.ts';
import { RRType } from '../dns/types.ts';

const SECRET = 'aW50ZXJvcC10ZXN0LWtleS1mb3ItbXBkbnMtc2VydmUhIQ==';
const KEY = `xfr-key.:hmac-sha256:${SECRET}`;
const ZONE = 'interop.example.';
const REPO = join(import.meta.dirname, '..');

function zoneText(serial: number, edited: boolean): string {
  return `$ORIGIN ${ZONE}
$TTL 300
@        IN SOA ns1 hostmaster ${serial} 3600 600 86400 300
@        NS  ns1
@        NS  ns2.elsewhere.example.
@        MX  10 mail
@        TXT "v=spf1 -all"
ns1      A   127.0.0.1
mail     A   192.0.2.25
${edited ? 'www      A   192.0.2.81' : 'www      A   192.0.2.80'}
www      AAAA 2001:db8::80
alias    CNAME www
*.wild   TXT "wildcard"
sub      NS  ns.sub
ns.sub   A   192.0.2.53
${edited ? 'new      A   192.0.2.99\nnew      TXT "added in v2"' : 'old      A   192.0.2.98'}
srv      SRV 0 5 443 www
`;
}

/** Names and types asked of every server (present, absent, wildcard, delegation, NXDOMAIN). */
const QUESTIONS: [string, string][] = [
  [ZONE, 'SOA'], [ZONE, 'NS'], [ZONE, 'MX'], [ZONE, 'TXT'], [ZONE, 'A'],
  [`ns1.${ZONE}`, 'A'], [`mail.${ZONE}`, 'A'], [`www.${ZONE}`, 'A'], [`www.${ZONE}`, 'AAAA'],
  [`www.${ZONE}`, 'MX'], [`alias.${ZONE}`, 'A'], [`x.wild.${ZONE}`, 'TXT'], [`new.${ZONE}`, 'A'],
  [`new.${ZONE}`, 'TXT'], [`old.${ZONE}`, 'A'], [`nothere.${ZONE}`, 'A'], [`srv.${ZONE}`, 'SRV'],
  [`host.sub.${ZONE}`, 'A'], [`sub.${ZONE}`, 'NS'], [`ns.sub.${ZONE}`, 'A'], [`alias.${ZONE}`, 'CNAME'],
  [`*.wild.${ZONE}`, 'TXT'], [`wild.${ZONE}`, 'TXT'], [`srv.${ZONE}`, 'A'],
];

const missing = ['nsd', 'knotd', 'kdig'].filter((b) => !haveBinary(b));
const skip = missing.length > 0 ? `missing binaries: ${missing.join(', ')}` : false;

let dir: TmpDir;
const daemons: Daemon[] = [];
let mp = 0;
let nsdPort = 0;
let knotPort = 0;
let mpdns: Daemon;
let knot: Daemon;
let nsd: Daemon;
const zoneFile = (): string => join(dir.path, 'interop.zone');

async function soaSerial(port: number): Promise<number | undefined> {
  const r = await kdig('127.0.0.1', port, ZONE, 'SOA');
  const f = r.answer[0]?.split(' ');
  return f === undefined ? undefined : Number(f[6]);
}

function nsdConf(): string {
  return `server:
  ip-address: 127.0.0.1@${nsdPort}
  username: ""
  chroot: ""
  zonesdir: "${dir.path}/nsd"
  xfrdfile: "${dir.path}/nsd/xfrd.state"
  zonelistfile: "${dir.path}/nsd/zone.list"
  database: ""
  pidfile: "${dir.path}/nsd/nsd.pid"
  verbosity: 2
remote-control:
  control-enable: no
key:
  name: "xfr-key."
  algorithm: hmac-sha256
  secret: "${SECRET}"
zone:
  name: ${ZONE}
  zonefile: "${dir.path}/nsd/interop.zone"
  request-xfr: 127.0.0.1@${mp} xfr-key.
  allow-notify: 127.0.0.1 xfr-key.
  provide-xfr: 127.0.0.1 xfr-key.
  store-ixfr: yes
`;
}

function knotConf(): string {
  return `server:
  rundir: "${dir.path}/knot"
  user: root
  listen: 127.0.0.1@${knotPort}
  pidfile: "${dir.path}/knot/knot.pid"
log:
  - target: stdout
    any: info
database:
  storage: "${dir.path}/knot"
key:
  - id: xfr-key.
    algorithm: hmac-sha256
    secret: ${SECRET}
remote:
  - id: primary
    address: 127.0.0.1@${mp}
    key: xfr-key.
acl:
  - id: notify_from_primary
    address: 127.0.0.1
    key: xfr-key.
    action: notify
template:
  - id: default
    storage: "${dir.path}/knot"
zone:
  - domain: ${ZONE}
    master: primary
    acl: notify_from_primary
    zonefile-sync: -1
    zonefile-load: none
    journal-content: changes
`;
}

before(async () => {
  if (skip !== false) return;
  dir = await tmpDir('mpdns-interop-');
  [mp, nsdPort, knotPort] = [await freePort(), await freePort(), await freePort()];
  mkdirSync(join(dir.path, 'nsd'));
  mkdirSync(join(dir.path, 'knot'));
  writeFileSync(zoneFile(), zoneText(2026112701, false));
  writeFileSync(join(dir.path, 'nsd.conf'), nsdConf());
  writeFileSync(join(dir.path, 'knot.conf'), knotConf());
  mpdns = startDaemon('mpdns', process.execPath, [
    join(REPO, 'bin/mpdns'), 'serve', '--zone', `${zoneFile()}:${ZONE}`, '--listen', `127.0.0.1:${mp}`,
    '--notify', `127.0.0.1:${nsdPort}`, '--notify', `127.0.0.1:${knotPort}`, '--tsig', KEY,
  ]);
  daemons.push(mpdns);
  await pollUntil('mpdns serve answering', async () => (await soaSerial(mp)) === 2026112701, { timeoutMs: 20_000 });
  nsd = startDaemon('nsd', 'nsd', ['-d', '-c', join(dir.path, 'nsd.conf')]);
  knot = startDaemon('knotd', 'knotd', ['-c', join(dir.path, 'knot.conf')]);
  daemons.push(nsd, knot);
});

after(async () => {
  for (const d of daemons.reverse()) await d.stop();
  await dir?.remove();
});

test('NSD and Knot transfer from mpdns serve with TSIG, then IXFR after an edit', { skip, timeout: 90_000 }, async () => {
  await pollUntil('NSD has v1', async () => (await soaSerial(nsdPort)) === 2026112701, { timeoutMs: 30_000 });
  await pollUntil('Knot has v1', async () => (await soaSerial(knotPort)) === 2026112701, { timeoutMs: 30_000 });
  assert.match(knot.output(), /AXFR, incoming.*finished/);

  // An unsigned transfer is refused: a key is required.
  const refused = await kdig('127.0.0.1', mp, ZONE, 'AXFR');
  assert.equal(refused.answer.length, 0);
  assert.match(refused.raw, /NOTAUTH|REFUSED|failed/);

  writeFileSync(zoneFile(), zoneText(2026112702, true));
  mpdns.proc.kill('SIGHUP');
  await pollUntil('Knot has v2', async () => (await soaSerial(knotPort)) === 2026112702, { timeoutMs: 30_000 });
  await pollUntil('NSD has v2', async () => (await soaSerial(nsdPort)) === 2026112702, { timeoutMs: 30_000 });
  assert.match(knot.output(), /IXFR, incoming.*finished/, 'Knot logs an incoming IXFR');
  // Both secondaries asked for IXFR and got one (mpdns logs every transfer it sends).
  await pollUntil('two IXFRs logged', () => (mpdns.output().match(/"requested":"IXFR","sent":"ixfr"/g) ?? []).length >= 2);

  for (const [name, type] of QUESTIONS) {
    const [a, b, c] = await Promise.all([mp, nsdPort, knotPort].map((p) => kdig('127.0.0.1', p, name, type)));
    // Authority and additional data on positive answers is optional (NSD adds the apex NS,
    // Knot and mpdns answer minimally): compare authority only where it is the answer
    // (NXDOMAIN, NODATA, referral).
    const norm = (r: Awaited<ReturnType<typeof kdig>>): string =>
      JSON.stringify({
        status: r.status,
        aa: r.flags.includes('aa'),
        answer: [...r.answer].sort(),
        authority: r.answer.length === 0 ? [...r.authority].sort() : [],
      });
    assert.equal(norm(a!), norm(b!), `${name} ${type}: mpdns vs NSD\n${a!.raw}\n${b!.raw}`);
    assert.equal(norm(a!), norm(c!), `${name} ${type}: mpdns vs Knot\n${a!.raw}\n${c!.raw}`);
  }
});

test('mpdns client and Secondary transfer from NSD with TSIG', { skip, timeout: 60_000 }, async () => {
  const key = parseTsigKey(KEY);
  const zone = ZONE as Fqdn;
  await pollUntil('NSD has v2', async () => (await soaSerial(nsdPort)) === 2026112702, { timeoutMs: 30_000 });
  const fromNsd = await axfr({ address: '127.0.0.1', port: nsdPort }, zone, { tsig: key });
  const fromUs = await axfr({ address: '127.0.0.1', port: mp }, zone, { tsig: key });
  assert.equal(fromNsd.kind, 'axfr');
  assert.equal(fromNsd.serial, 2026112702);
  const set = (rrs: { name: string; type: number; rdata: Uint8Array }[]): string[] =>
    rrs.map((r) => `${r.name} ${r.type} ${Buffer.from(r.rdata).toString('hex')}`).sort();
  assert.ok(fromNsd.kind === 'axfr' && fromUs.kind === 'axfr');
  assert.deepEqual(set(fromNsd.records), set(fromUs.records));
  assert.ok(fromNsd.records.some((r) => r.type === RRType.TXT && r.name === `new.${ZONE}`));

  // IXFR from NSD: an up-to-date serial gets the single SOA; v1 gets the diff NSD stored
  // (store-ixfr) from the IXFR it received from mpdns.
  const soa = fromNsd.records[0]!;
  const up = await ixfr({ address: '127.0.0.1', port: nsdPort }, zone, soa, { tsig: key });
  assert.equal(up.kind, 'uptodate');
  const inc = await ixfr({ address: '127.0.0.1', port: nsdPort }, zone, soaWithSerial(soa, 2026112701), { tsig: key });
  assert.equal(inc.kind, 'ixfr', 'NSD serves the stored IXFR');
  assert.ok(inc.kind === 'ixfr');
  assert.deepEqual(inc.diffs.map((d) => [d.fromSerial, d.toSerial]), [[2026112701, 2026112702]]);
  const names = (rrs: { name: string; type: number }[]): string[] =>
    rrs.filter((r) => r.type !== RRType.SOA).map((r) => `${r.name}/${r.type}`).sort();
  assert.deepEqual(names(inc.diffs[0]!.removed), [`old.${ZONE}/1`, `www.${ZONE}/1`]);
  assert.deepEqual(names(inc.diffs[0]!.added), [`new.${ZONE}/1`, `new.${ZONE}/16`, `www.${ZONE}/1`]);

  // A bad key is refused.
  const bad = parseTsigKey(`xfr-key.:hmac-sha256:${Buffer.from('wrong-secret-wrong-secret!').toString('base64')}`);
  await assert.rejects(axfr({ address: '127.0.0.1', port: nsdPort }, zone, { tsig: bad }));

  const sec = new Secondary({ zone, primary: { address: '127.0.0.1', port: nsdPort }, tsig: key });
  try {
    const changed = new Promise((resolve) => sec.once('change', resolve));
    sec.start();
    await changed;
    assert.equal(sec.serial, 2026112702);
    assert.deepEqual(set(sec.records()), set(fromUs.records));
  } finally {
    sec.stop();
  }
});
