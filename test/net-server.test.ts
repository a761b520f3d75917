// `mpdns serve` checked from outside with kdig: a table of query → expected answer, TCP fallback,
// EDNS, REFUSED/FORMERR/NOTIMP, TSIG good/bad/missing, and bad command lines.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './support/ports.ts';
import { tmpDir, type TmpDir } from './support/tmp.ts';
import { pollUntil } from './support/poll.ts';
import { haveBinary, startDaemon, type Daemon } from './support/daemon.ts';
import { kdig, kdigRaw } from './net-kdig.ts';
import { buildRequest, query, udpExchange, tcpExchange, axfr } from '../dns/net/index.ts';
import { decodeMessage } from '../dns/message.ts';
import { parseTsigKey } from '../dns/tsig.ts';
import type { Fqdn } from '../dns/name.ts';
import { Opcode, Rcode, RRType } from '../dns/types.ts';

const REPO = join(import.meta.dirname, '..');
const SECRET = 'bmV0LXNlcnZlci10ZXN0LWtleS1uZXQtc2VydmVyLXRlc3Q=';
const KEY = `t-key.:hmac-sha256:${SECRET}`;
const KEY512 = `t512.:hmac-sha512:${SECRET}`;
const skip = haveBinary('kdig') ? false : 'kdig (knot-dnsutils) is not installed';

const SRV = `$ORIGIN srv.example.
$TTL 300
@      SOA   ns1 hostmaster 7 3600 600 86400 300
@      NS    ns1
@      NS    ns2
@      MX    10 mail
ns1    A     127.0.0.1
ns2    A     127.0.0.2
mail   A     192.0.2.25
www    A     192.0.2.80
alias  CNAME www
chain  CNAME alias
ext    CNAME www.other.example.
*.wild A     192.0.2.77
sub    NS    ns.sub
ns.sub A     192.0.2.53
${Array.from({ length: 60 }, (_, i) => `big TXT "text record ${i} padded out so that the whole RRset is far bigger than 1232"`).join('\n')}
`;
const DEEP = `deep.srv.example. 60 IN SOA ns1.srv.example. h.srv.example. 3 60 60 600 60
deep.srv.example. 60 IN NS ns1.srv.example.
a.deep.srv.example. 60 IN A 198.51.100.1
`;

let dir: TmpDir;
let port = 0;
let daemon: Daemon;

before(async () => {
  if (skip !== false) return;
  dir = await tmpDir('mpdns-netsrv-');
  writeFileSync(join(dir.path, 'srv.zone'), SRV);
  writeFileSync(join(dir.path, 'deep.zone'), DEEP);
  port = await freePort();
  daemon = startDaemon('mpdns', process.execPath, [
    join(REPO, 'bin/mpdns'), 'serve',
    '--zone', join(dir.path, 'srv.zone'), // origin from $ORIGIN
    '--zone', join(dir.path, 'deep.zone'), // no $ORIGIN: origin from the SOA owner
    '--listen', `127.0.0.1:${port}`, '--tsig', KEY, '--tsig', KEY512,
  ]);
  await pollUntil('mpdns serve answers', async () => (await kdig('127.0.0.1', port, 'srv.example.', 'SOA')).status === 'NOERROR', {
    timeoutMs: 20_000,
  });
});

after(async () => {
  await daemon?.stop();
  await dir?.remove();
});

interface Case {
  q: [string, string];
  status: string;
  aa: boolean;
  answer: string[];
  authority?: string[];
  additional?: string[];
}

const SOA = 'srv.example. 300 IN SOA ns1.srv.example. hostmaster.srv.example. 7 3600 600 86400 300';
const CASES: Case[] = [
  { q: ['srv.example.', 'SOA'], status: 'NOERROR', aa: true, answer: [SOA] },
  { q: ['SRV.Example.', 'SOA'], status: 'NOERROR', aa: true, answer: [SOA] },
  { q: ['www.srv.example.', 'A'], status: 'NOERROR', aa: true, answer: ['www.srv.example. 300 IN A 192.0.2.80'] },
  {
    q: ['chain.srv.example.', 'A'],
    status: 'NOERROR',
    aa: true,
    answer: [
      'chain.srv.example. 300 IN CNAME alias.srv.example.',
      'alias.srv.example. 300 IN CNAME www.srv.example.',
      'www.srv.example. 300 IN A 192.0.2.80',
    ],
  },
  { q: ['alias.srv.example.', 'CNAME'], status: 'NOERROR', aa: true, answer: ['alias.srv.example. 300 IN CNAME www.srv.example.'] },
  { q: ['ext.srv.example.', 'A'], status: 'NOERROR', aa: true, answer: ['ext.srv.example. 300 IN CNAME www.other.example.'] },
  { q: ['x.y.wild.srv.example.', 'A'], status: 'NOERROR', aa: true, answer: ['x.y.wild.srv.example. 300 IN A 192.0.2.77'] },
  { q: ['x.wild.srv.example.', 'AAAA'], status: 'NOERROR', aa: true, answer: [], authority: [SOA] },
  { q: ['nx.srv.example.', 'A'], status: 'NXDOMAIN', aa: true, answer: [], authority: [SOA] },
  { q: ['www.srv.example.', 'AAAA'], status: 'NOERROR', aa: true, answer: [], authority: [SOA] },
  {
    q: ['host.sub.srv.example.', 'A'],
    status: 'NOERROR',
    aa: false,
    answer: [],
    authority: ['sub.srv.example. 300 IN NS ns.sub.srv.example.'],
    additional: ['ns.sub.srv.example. 300 IN A 192.0.2.53'],
  },
  { q: ['a.deep.srv.example.', 'A'], status: 'NOERROR', aa: true, answer: ['a.deep.srv.example. 60 IN A 198.51.100.1'] },
  { q: ['deep.srv.example.', 'SOA'], status: 'NOERROR', aa: true, answer: ['deep.srv.example. 60 IN SOA ns1.srv.example. h.srv.example. 3 60 60 600 60'] },
  { q: ['www.example.org.', 'A'], status: 'REFUSED', aa: false, answer: [] },
  { q: ['example.', 'SOA'], status: 'REFUSED', aa: false, answer: [] },
];

test('query → answer table (kdig)', { skip, timeout: 60_000 }, async () => {
  for (const c of CASES) {
    const r = await kdig('127.0.0.1', port, c.q[0], c.q[1]);
    const what = `${c.q.join(' ')}\n${r.raw}`;
    assert.equal(r.status, c.status, what);
    assert.equal(r.flags.includes('aa'), c.aa, `aa: ${what}`);
    assert.deepEqual(r.answer, c.answer, what);
    if (c.authority !== undefined) assert.deepEqual(r.authority, c.authority, what);
    if (c.additional !== undefined) assert.deepEqual(r.additional, c.additional, what);
  }
});

test('TC over UDP and TCP fallback; EDNS echo and BADVERS', { skip, timeout: 30_000 }, async () => {
  const truncated = await kdig('127.0.0.1', port, 'big.srv.example.', 'TXT', ['+notcp', '+ignore', '+noedns']);
  assert.ok(truncated.flags.includes('tc'), truncated.raw);
  assert.ok(truncated.answer.length < 60);
  const full = await kdig('127.0.0.1', port, 'big.srv.example.', 'TXT', ['+noedns']);
  assert.equal(full.answer.length, 60, full.raw);
  assert.match(full.raw, /\(TCP\)/);
  const edns = await kdig('127.0.0.1', port, 'www.srv.example.', 'A', ['+edns', '+bufsize=4096']);
  assert.match(edns.raw, /EDNS PSEUDOSECTION:\s*\n;; Version: 0; flags: ; UDP size: 1232 B/);
  const badvers = await kdig('127.0.0.1', port, 'www.srv.example.', 'A', ['+edns=1']);
  assert.equal(badvers.status, 'BADVERS', badvers.raw);
  // Our client: TC → TCP on its own.
  const r = await query({ address: '127.0.0.1', port }, 'big.srv.example.' as Fqdn, RRType.TXT, { udpSize: 0 });
  assert.equal(r.transport, 'tcp');
  assert.equal(r.message.answer.length, 60);
});

test('FORMERR, NOTIMP, silence for garbage; still answering after', { skip, timeout: 30_000 }, async () => {
  const peer = { address: '127.0.0.1', port };
  // Two questions in one query.
  const one = buildRequest('www.srv.example.' as Fqdn, RRType.A, { udpSize: 0 }).bytes;
  const two = new Uint8Array(one.length + one.length - 12);
  two.set(one);
  two.set(one.subarray(12), one.length);
  two[5] = 2;
  assert.equal(decodeMessage(await udpExchange(peer, two, 2000)).rcode, Rcode.FORMERR);
  // A question that runs past the end.
  const cut = one.slice(0, one.length - 3);
  const resp = await udpExchange(peer, cut, 2000);
  assert.equal(resp[3]! & 0x0f, Rcode.FORMERR);
  assert.equal(resp[0], cut[0]);
  // Unknown opcode (STATUS).
  const status = await query(peer, 'srv.example.' as Fqdn, RRType.SOA, { opcode: Opcode.STATUS });
  assert.equal(status.message.rcode, Rcode.NOTIMP);
  // A 5-byte packet gets no answer (header unreadable).
  await assert.rejects(udpExchange(peer, Uint8Array.of(1, 2, 3, 4, 5), 300));
  // TCP: a garbage frame, then a valid query on a fresh connection.
  const tcpResp = await tcpExchange(peer, one, 2000);
  assert.equal(decodeMessage(tcpResp).answer.length, 1);
  const after = await kdig('127.0.0.1', port, 'www.srv.example.', 'A');
  assert.equal(after.status, 'NOERROR');
});

test('TSIG: good key transfers, bad or missing key gets NOTAUTH', { skip, timeout: 30_000 }, async () => {
  const good = await kdigRaw(['@127.0.0.1', '-p', String(port), '-y', `hmac-sha256:t-key.:${SECRET}`, 'srv.example.', 'AXFR']);
  assert.match(good, /srv\.example\.\s+300\s+IN\s+SOA/);
  assert.match(good, /big\.srv\.example\./);
  const sha512 = await kdigRaw(['@127.0.0.1', '-p', String(port), '-y', `hmac-sha512:t512.:${SECRET}`, 'srv.example.', 'AXFR']);
  assert.match(sha512, /big\.srv\.example\./);
  assert.doesNotMatch(sha512, /NOTAUTH|BADSIG|failed/i);
  const wrong = Buffer.from('another-secret-another-secret').toString('base64');
  const bad = await kdigRaw(['@127.0.0.1', '-p', String(port), '-y', `hmac-sha256:t-key.:${wrong}`, 'srv.example.', 'AXFR']);
  assert.match(bad, /NOTAUTH|BADSIG/);
  assert.doesNotMatch(bad, /IN\s+A\s+192\.0\.2\.80/);
  const unknownKey = await kdigRaw(['@127.0.0.1', '-p', String(port), '-y', `hmac-sha256:other.:${SECRET}`, 'srv.example.', 'AXFR']);
  assert.match(unknownKey, /NOTAUTH|BADKEY/);
  const missing = await kdigRaw(['@127.0.0.1', '-p', String(port), 'srv.example.', 'AXFR']);
  assert.match(missing, /NOTAUTH/);
  assert.match(daemon.output(), /TSIG verification failed/);
  assert.match(daemon.output(), /transfer refused/);
  // Signed ordinary query: kdig verifies the signed answer.
  const signedQuery = await kdigRaw(['@127.0.0.1', '-p', String(port), '-y', `hmac-sha256:t-key.:${SECRET}`, 'www.srv.example.', 'A']);
  assert.match(signedQuery, /status: NOERROR/);
  assert.match(signedQuery, /TSIG PSEUDOSECTION/);
  // Our client, with the key.
  const ours = await axfr({ address: '127.0.0.1', port }, 'srv.example.' as Fqdn, { tsig: parseTsigKey(KEY) });
  assert.equal(ours.kind, 'axfr');
  assert.equal(ours.kind === 'axfr' && ours.records.length, 74);
});

test('bad command lines exit 2 with one message; bad zone file exits 1 with FILE:LINE:COL', { skip, timeout: 60_000 }, async () => {
  const run = (args: string[]) => spawnSync(process.execPath, [join(REPO, 'bin/mpdns'), 'serve', ...args], { encoding: 'utf8', timeout: 20_000 });
  const noListen = run(['--zone', 'x.zone']);
  assert.equal(noListen.status, 2);
  assert.match(noListen.stderr, /--listen ADDR:PORT is required/);
  assert.equal(noListen.stderr.trim().split('\n').length, 1);
  const badTsig = run(['--zone', 'x.zone', '--listen', '127.0.0.1:1', '--tsig', 'k:hmac-md4:AAAA']);
  assert.equal(badTsig.status, 2);
  assert.match(badTsig.stderr, /--tsig: unsupported TSIG algorithm/);
  const unknown = run(['--bogus']);
  assert.equal(unknown.status, 2);
  const threadsAlone = run(['--zone', 'x.zone', '--listen', '127.0.0.1:1', '--threads', '2']);
  assert.equal(threadsAlone.status, 2);
  assert.match(threadsAlone.stderr, /--key-dir, --nsec3 and --threads need --sign/);
  const hugeJournal = run(['--zone', 'x.zone', '--listen', '127.0.0.1:1', '--journal', '99999999999']);
  assert.equal(hugeJournal.status, 2);
  assert.match(hugeJournal.stderr, /--journal 99999999999: at most 1000000/);
  const badThreads = run(['--zone', 'x.zone', '--listen', '127.0.0.1:1', '--sign', '--key-dir', dir.path, '--threads', '0']);
  assert.equal(badThreads.status, 2);
  assert.match(badThreads.stderr, /--threads must be a positive integer, not "0"/);
  const help = run(['--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--allow-transfer CIDR/);
  const once = join(dir.path, 'once.zone');
  writeFileSync(once, '$ORIGIN once.example.\n$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n');
  const twice = run(['--zone', once, '--zone', once, '--listen', `127.0.0.1:${await freePort()}`]);
  assert.equal(twice.status, 1);
  assert.match(twice.stderr, /once\.zone: zone once\.example\. is already served from \S+once\.zone$/m);
  const badFile = join(dir.path, 'bad.zone');
  writeFileSync(badFile, '$ORIGIN bad.example.\n$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 300.1.1.1\n');
  const p = await freePort();
  const bad = run(['--zone', badFile, '--listen', `127.0.0.1:${p}`]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, new RegExp(`${badFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:5:\\d+: `));
});

test('a port in use: exit 1 with the reason (EADDRINUSE), not just the address', { skip, timeout: 30_000 }, async () => {
  const { createSocket } = await import('node:dgram');
  const p = await freePort();
  const udp = createSocket('udp4');
  await new Promise<void>((resolve) => udp.bind(p, '127.0.0.1', resolve));
  try {
    const r = spawnSync(process.execPath, [join(REPO, 'bin/mpdns'), 'serve', '--zone', join(dir.path, 'deep.zone'), '--listen', `127.0.0.1:${p}`], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr, `mpdns serve: cannot listen on UDP 127.0.0.1:${p}: EADDRINUSE: address already in use\n`);
  } finally {
    udp.close();
  }
});

test('SIGHUP: a broken file keeps the old zone (error logged); a fixed one with a higher serial is served', { skip, timeout: 60_000 }, async () => {
  const file = join(dir.path, 'srv.zone');
  writeFileSync(file, SRV.replace('www    A     192.0.2.80', 'www    A     192.0.2.800'));
  daemon.proc.kill('SIGHUP');
  await pollUntil('reload error logged', () =>
    daemon.output().split('\n').some((l) => l.includes('reload failed, old zone kept') && /srv\.zone:\d+:\d+: /.test(l)),
  );
  const still = await kdig('127.0.0.1', port, 'www.srv.example.', 'A');
  assert.deepEqual(still.answer, ['www.srv.example. 300 IN A 192.0.2.80']);
  writeFileSync(file, SRV.replace(' 7 3600 ', ' 8 3600 ').replace('192.0.2.80', '192.0.2.88'));
  daemon.proc.kill('SIGHUP');
  await pollUntil('new serial served', async () => (await kdig('127.0.0.1', port, 'srv.example.', 'SOA')).answer[0]?.includes(' 8 3600 '));
  const changed = await kdig('127.0.0.1', port, 'www.srv.example.', 'A');
  assert.deepEqual(changed.answer, ['www.srv.example. 300 IN A 192.0.2.88']);
  // IXFR from serial 7 now carries exactly that change.
  const { ixfr } = await import('../dns/net/index.ts');
  const { soaWithSerial } = await import('../dns/index.ts');
  const key = parseTsigKey(KEY);
  const soa = (await axfr({ address: '127.0.0.1', port }, 'srv.example.' as Fqdn, { tsig: key }));
  assert.ok(soa.kind === 'axfr');
  const inc = await ixfr({ address: '127.0.0.1', port }, 'srv.example.' as Fqdn, soaWithSerial(soa.records[0]!, 7), { tsig: key });
  assert.ok(inc.kind === 'ixfr', inc.kind);
  assert.equal(inc.diffs.length, 1);
  assert.deepEqual(inc.diffs[0]!.added.filter((r) => r.type === RRType.A).map((r) => [...r.rdata].join('.')), ['192.0.2.88']);
});

test('0x20: the question comes back byte-exact in mixed case (UDP, TCP, dig)', { skip, timeout: 30_000 }, async () => {
  const peer = { address: '127.0.0.1', port };
  const req = buildRequest('WwW.SrV.ExAmPlE.' as Fqdn, RRType.A, { udpSize: 0 }).bytes;
  const qEnd = req.length; // header + one question, no EDNS
  for (const resp of [await udpExchange(peer, req, 2000), await tcpExchange(peer, req, 2000)]) {
    assert.deepEqual([...resp.subarray(12, qEnd)], [...req.subarray(12, qEnd)]);
    const m = decodeMessage(resp);
    assert.equal(m.rcode, Rcode.NOERROR);
    assert.equal(m.question[0]?.name, 'www.srv.example.');
    assert.equal(m.answer.length, 1);
  }
  // kdig lower-cases the name it sends; dig sends it as typed and prints the echoed question.
  if (haveBinary('dig')) {
    const dig = spawnSync('dig', ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=2', 'WwW.SrV.ExAmPlE.', 'A'], { encoding: 'utf8' });
    assert.match(dig.stdout, /;; QUESTION SECTION:\n;WwW\.SrV\.ExAmPlE\.\s+IN\s+A\n/);
    assert.match(dig.stdout, /status: NOERROR/);
  }
});

test('SIGHUP: zone-file warnings of a reload are logged like those of the first load', { skip, timeout: 30_000 }, async () => {
  const file = join(dir.path, 'deep.zone');
  const before = daemon.output();
  writeFileSync(file, DEEP.replace(' 3 60 60 600 60', ' 4 60 60 600 60') + 'a.deep.srv.example. 120 IN A 198.51.100.2\n');
  daemon.proc.kill('SIGHUP');
  await pollUntil('new deep serial served', async () => (await kdig('127.0.0.1', port, 'deep.srv.example.', 'SOA')).answer[0]?.includes(' 4 60 '));
  const logged = daemon.output().slice(before.length).split('\n');
  assert.ok(
    logged.some((l) => l.includes('"level":40') && l.includes("differs from the RRset's TTL")),
    `no TTL warning in the reload log:\n${logged.join('\n')}`,
  );
});

test('serve logs through the root logger: MPDNS_LOG_LEVEL=warn keeps warnings and drops info lines', { skip, timeout: 60_000 }, async () => {
  const file = join(dir.path, 'dname.zone');
  writeFileSync(file, '$ORIGIN dn.example.\n$TTL 60\n@ SOA ns h 1 60 60 600 60\n@ NS ns\nns A 192.0.2.1\nd DNAME t.example.\nx.d A 192.0.2.2\n');
  const p = await freePort();
  const d = startDaemon('mpdns-warn', process.execPath, [join(REPO, 'bin/mpdns'), 'serve', '--zone', file, '--listen', `127.0.0.1:${p}`], {
    env: { ...process.env, MPDNS_LOG_LEVEL: 'warn' },
  });
  try {
    await pollUntil('mpdns serve answers', async () => (await kdig('127.0.0.1', p, 'dn.example.', 'SOA')).status === 'NOERROR', { timeoutMs: 20_000 });
    const lines = d.output().trim().split('\n').map((l) => JSON.parse(l) as { level: number; msg: string; component?: string });
    assert.ok(lines.some((l) => l.level === 40 && l.component === 'serve' && /below the DNAME/.test(l.msg)), d.output());
    assert.ok(lines.every((l) => l.level >= 40), `no info lines at MPDNS_LOG_LEVEL=warn: ${d.output()}`);
  } finally {
    await d.stop();
  }
  // The long-running server of this file logs at the default level, info.
  assert.match(daemon.output(), /"msg":"serving"/);
});
