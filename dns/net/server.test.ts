// In-process server + client: framing, EDNS, TSIG, AXFR/IXFR out and in, NOTIFY in and out,
// against a tiny fixed ZoneSource (the zone lookup itself is tested in dns/).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DnsServer } from './server.ts';
import { Journal } from './journal.ts';
import { axfr, ixfr, query } from './client.ts';
import { Notifier } from './notify.ts';
import { soaWithSerial } from '../rdata/soa.ts';
import type { ZoneDiff } from '../zone.ts';
import type { SourceAnswer, ZoneSource } from '../zone-source.ts';
import { parseTsigKey } from '../tsig.ts';
import { nameToWire, type Fqdn } from '../name.ts';
import type { RR } from '../rr.ts';
import { Rcode, RRType } from '../types.ts';
import { freePort } from '../../test/support/ports.ts';
import { pollUntil } from '../../test/support/poll.ts';

const ORIGIN = 'unit.example.' as Fqdn;
const key = parseTsigKey('unit-key:hmac-sha256:dW5pdC10ZXN0LWtleS11bml0LXRlc3Qta2V5IQ==');

function soaRR(serial: number, timers: readonly number[] = [60, 30, 600, 60]): RR {
  const mname = nameToWire(`ns.${ORIGIN}` as Fqdn);
  const rname = nameToWire(`h.${ORIGIN}` as Fqdn);
  const rdata = new Uint8Array(mname.length + rname.length + 20);
  rdata.set(mname);
  rdata.set(rname, mname.length);
  const dv = new DataView(rdata.buffer);
  [serial, ...timers].forEach((v, i) => dv.setUint32(mname.length + rname.length + 4 * i, v));
  return { name: ORIGIN, type: RRType.SOA, class: 1, ttl: 60, rdata };
}

function aRR(label: string, last: number): RR {
  return { name: `${label}.${ORIGIN}` as Fqdn, type: RRType.A, class: 1, ttl: 60, rdata: Uint8Array.of(192, 0, 2, last) };
}

/** A fixed source: answers exact matches, NXDOMAIN otherwise. */
class FixedSource implements ZoneSource {
  readonly origin = ORIGIN;
  readonly journal = new Journal();
  constructor(
    public serial: number,
    public rrs: RR[],
  ) {}
  soa(): RR {
    return soaRR(this.serial);
  }
  query(qname: Fqdn, qtype: number): SourceAnswer {
    const all = [this.soa(), ...this.rrs];
    const match = all.filter((r) => r.name === qname);
    if (match.length === 0) return { rcode: Rcode.NXDOMAIN, aa: true, answer: [], authority: [this.soa()], additional: [] };
    const answer = match.filter((r) => r.type === qtype);
    return { rcode: 0, aa: true, answer, authority: answer.length === 0 ? [this.soa()] : [], additional: [] };
  }
  records(): Iterable<RR> {
    return [this.soa(), ...this.rrs];
  }
  diffsSince(serial: number): readonly ZoneDiff[] | undefined {
    return this.journal.since(serial);
  }
}

let server: DnsServer;
let port = 0;
const source = new FixedSource(1, Array.from({ length: 3000 }, (_, i) => aRR(`h${i}`, i & 0xff)));
const notifies: [string, number | undefined][] = [];

before(async () => {
  port = await freePort();
  server = new DnsServer({
    address: '127.0.0.1',
    port,
    keys: [key],
    allowNotify: ['127.0.0.0/8'],
    onNotify: (zone, serial) => notifies.push([zone, serial]),
  });
  server.setZone(source);
  await server.start();
});

after(async () => {
  await server.stop();
});

const peer = (): { address: string; port: number } => ({ address: '127.0.0.1', port });

test('queries over UDP and TCP, REFUSED outside, EDNS echoed', { timeout: 10_000 }, async () => {
  const r = await query(peer(), `h5.${ORIGIN}` as Fqdn, RRType.A);
  assert.equal(r.message.rcode, 0);
  assert.equal(r.message.aa, true);
  assert.deepEqual([...(r.message.answer[0]?.rdata ?? [])], [192, 0, 2, 5]);
  assert.equal(r.message.edns?.udpSize, 1232);
  const t = await query(peer(), `h5.${ORIGIN}` as Fqdn, RRType.A, { tcp: true, udpSize: 0 });
  assert.equal(t.transport, 'tcp');
  assert.equal(t.message.edns, undefined);
  const nx = await query(peer(), `zz.${ORIGIN}` as Fqdn, RRType.A);
  assert.equal(nx.message.rcode, Rcode.NXDOMAIN);
  const ref = await query(peer(), 'other.example.' as Fqdn, RRType.A);
  assert.equal(ref.message.rcode, Rcode.REFUSED);
});

test('AXFR needs TSIG here; signed AXFR spans many messages; IXFR from the journal', { timeout: 20_000 }, async () => {
  await assert.rejects(axfr(peer(), ORIGIN), /rcode 9/);
  const full = await axfr(peer(), ORIGIN, { tsig: key });
  assert.equal(full.kind, 'axfr');
  assert.ok(full.kind === 'axfr' && full.records.length === 3001);
  assert.ok(full.messages > 1, `multi-message (${full.messages})`);
  // A change 1 → 2: h0 removed, new added.
  const removed = [source.rrs[0] as RR];
  const added = [aRR('new', 9)];
  source.rrs = [...source.rrs.slice(1), ...added];
  source.journal.append({ fromSerial: 1, toSerial: 2, removed, added });
  source.serial = 2;
  const inc = await ixfr(peer(), ORIGIN, soaRR(1), { tsig: key });
  assert.equal(inc.kind, 'ixfr');
  assert.ok(inc.kind === 'ixfr');
  assert.equal(inc.diffs.length, 1);
  assert.deepEqual(inc.diffs[0]?.removed.map((r) => r.name), [ORIGIN, `h0.${ORIGIN}`]);
  assert.deepEqual(inc.diffs[0]?.added.map((r) => r.name), [ORIGIN, `new.${ORIGIN}`]);
  const upToDate = await ixfr(peer(), ORIGIN, soaRR(2), { tsig: key });
  assert.equal(upToDate.kind, 'uptodate');
  const fallback = await ixfr(peer(), ORIGIN, soaWithSerial(soaRR(1), 0), { tsig: key });
  assert.equal(fallback.kind, 'axfr');
  const wrongKey = parseTsigKey('unit-key:hmac-sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
  await assert.rejects(axfr(peer(), ORIGIN, { tsig: wrongKey }), /rcode 9/);
});

test('NOTIFY out is answered by NOTIFY in; unanswered NOTIFY gives up after bounded retries', { timeout: 20_000 }, async () => {
  const n = new Notifier({ targets: [peer()], tsig: key, initialDelayMs: 50 });
  const [out] = await n.notify(ORIGIN, soaRR(7));
  assert.equal(out?.ok, true);
  await pollUntil('notify delivered', () => notifies.some(([z, s]) => z === ORIGIN && s === 7));
  const deadPort = await freePort();
  const dead = new Notifier({ targets: [{ address: '127.0.0.1', port: deadPort }], maxAttempts: 3, initialDelayMs: 20, timeoutMs: 100 });
  const [gave] = await dead.notify(ORIGIN, soaRR(8));
  assert.deepEqual({ ok: gave?.ok, attempts: gave?.attempts }, { ok: false, attempts: 3 });
});

test('Secondary: AXFR first, IXFR after NOTIFY, change events', { timeout: 20_000 }, async () => {
  const { Secondary } = await import('./secondary.ts');
  const sec = new Secondary({ zone: ORIGIN, primary: peer(), tsig: key, minIntervalMs: 60_000 });
  const changes: { kind: string; serial: number }[] = [];
  sec.on('change', (c) => changes.push({ kind: c.kind, serial: c.serial }));
  try {
    sec.start();
    await pollUntil('first transfer', () => changes.length === 1);
    assert.equal(changes[0]?.kind, 'axfr');
    assert.equal(sec.serial, source.serial);
    const before = sec.records().length;
    const from = source.serial;
    const added = [aRR('sec-added', 42)];
    source.rrs = [...source.rrs, ...added];
    source.journal.append({ fromSerial: from, toSerial: from + 1, removed: [], added });
    source.serial = from + 1;
    sec.notify(from + 1);
    await pollUntil('IXFR after NOTIFY', () => changes.length === 2);
    assert.deepEqual(changes[1], { kind: 'ixfr', serial: from + 1 });
    assert.equal(sec.records().length, before + 1);
    assert.ok(sec.records().some((r) => r.name === `sec-added.${ORIGIN}`));
    sec.notify(from); // an old serial is ignored
    assert.equal(sec.stats.ixfr, 1);
  } finally {
    sec.stop();
  }
});

test('TCP: pipelined queries on one connection, idle connections closed', { timeout: 60_000 }, async () => {
  const { TcpConnection } = await import('./exchange.ts');
  const { buildRequest } = await import('./client.ts');
  const { decodeMessage } = await import('../message.ts');
  const idlePort = await freePort();
  const idle = new DnsServer({ address: '127.0.0.1', port: idlePort, tcpIdleMs: 300 });
  idle.setZone(source);
  await idle.start();
  try {
    const conn = await TcpConnection.open({ address: '127.0.0.1', port: idlePort }, 2000);
    // More than the 32 in flight at once: the rest wait (backpressure), none is dropped.
    const reqs = Array.from({ length: 200 }, (_, i) => buildRequest(`h${i}.${ORIGIN}` as Fqdn, RRType.A, { udpSize: 0 }));
    for (const r of reqs) conn.send(r.bytes);
    const ids = new Set<number>();
    for (let i = 0; i < reqs.length; i++) ids.add(decodeMessage(await conn.read(2000)).id);
    assert.deepEqual(ids, new Set(reqs.map((r) => r.id)));
    // Closed by the server's 300 ms idle timer (not early), long before this read's own deadline.
    const started = Date.now();
    await assert.rejects(conn.read(30_000), /closed/);
    const waited = Date.now() - started;
    assert.ok(waited >= 200, `closed after ${waited} ms idle`);
    conn.close();
  } finally {
    await idle.stop();
  }
});

test('TSIG: a skewed clock gets NOTAUTH with a signed BADTIME', { timeout: 10_000 }, async () => {
  const { TsigRejectedError } = await import('./errors.ts');
  const skewed = (): number => Math.floor(Date.now() / 1000) - 3600;
  const rejectedBefore = server.stats.tsigRejected;
  const err = await query(peer(), ORIGIN, RRType.SOA, { tsig: key, now: skewed, tcp: true }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof TsigRejectedError, String(err));
  assert.equal(err.tsigError, Rcode.BADTIME);
  assert.equal(server.stats.tsigRejected, rejectedBefore + 1, 'the server rejected the request');
  // The same query with a good clock is answered and verified.
  const ok = await query(peer(), ORIGIN, RRType.SOA, { tsig: key });
  assert.equal(ok.message.rcode, 0);
});

test('Secondary: retries on failure and expires after the SOA expire time', { timeout: 20_000 }, async () => {
  const { Secondary } = await import('./secondary.ts');
  class ShortLived extends FixedSource {
    override soa(): RR {
      return soaRR(this.serial, [1, 1, 2, 1]); // refresh 1 s, retry 1 s, expire 2 s
    }
  }
  const p2 = await freePort();
  const s2 = new DnsServer({ address: '127.0.0.1', port: p2, allowTransfer: ['127.0.0.1'] });
  s2.setZone(new ShortLived(5, [aRR('a', 1)]));
  await s2.start();
  const sec = new Secondary({ zone: ORIGIN, primary: { address: '127.0.0.1', port: p2 }, minIntervalMs: 200, timeoutMs: 300 });
  const expired = new Promise<string>((resolve) => sec.once('expired', resolve));
  try {
    sec.start();
    await pollUntil('first transfer', () => sec.serial === 5);
    await s2.stop();
    assert.equal(await expired, ORIGIN);
    assert.equal(sec.expired, true);
    assert.ok(sec.stats.failures >= 2, `retried (${sec.stats.failures} failures)`);
  } finally {
    sec.stop();
    await s2.stop();
  }
});

test('TCP: a client that hangs up mid-AXFR, and one that half-closes after its query', { timeout: 10_000 }, async () => {
  const { TcpConnection } = await import('./exchange.ts');
  const { buildRequest } = await import('./client.ts');
  const { frame, FrameReader } = await import('./transport.ts');
  const { connect } = await import('node:net');
  const errors: unknown[] = [];
  const p3 = await freePort();
  const s3 = new DnsServer({
    address: '127.0.0.1',
    port: p3,
    allowTransfer: ['127.0.0.1'],
    logger: { info: () => {}, debug: () => {}, warn: (o, m) => m === 'request failed' && errors.push(o) },
  });
  s3.setZone(source);
  await s3.start();
  try {
    const conn = await TcpConnection.open({ address: '127.0.0.1', port: p3 }, 2000);
    conn.send(buildRequest(ORIGIN, RRType.AXFR, { udpSize: 0 }).bytes);
    await conn.read(2000);
    conn.close();
    // Half-close: write the query, end our side, still get the answer.
    const answer = await new Promise<Uint8Array>((resolve, reject) => {
      const reader = new FrameReader();
      const s = connect({ host: '127.0.0.1', port: p3 }, () => {
        s.end(frame(buildRequest(`h7.${ORIGIN}` as Fqdn, RRType.A, { udpSize: 0 }).bytes));
      });
      s.on('data', (b: Buffer) => {
        const m = reader.push(b)[0];
        if (m !== undefined) resolve(m);
      });
      s.on('error', reject);
    });
    assert.equal(answer[7], 1, 'one answer record');
    const r = await query({ address: '127.0.0.1', port: p3 }, `h8.${ORIGIN}` as Fqdn, RRType.A);
    assert.equal(r.message.rcode, 0);
    assert.deepEqual(errors, []);
  } finally {
    await s3.stop();
  }
});
