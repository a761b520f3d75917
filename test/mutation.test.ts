// Mutation test: thousands of mutated valid packets (bit flips, truncations, insertions, count
// changes, pointer corruption; seeded PRNG, reproducible) sent to the server over UDP and TCP.
// The server must keep answering valid queries in between and afterwards, and never report an
// internal failure; decodeMessage must throw nothing but WireError on the same corpus.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './support/ports.ts';
import { tmpDir, type TmpDir } from './support/tmp.ts';
import { pollUntil } from './support/poll.ts';
import { DnsServer, PrimaryZone, buildRequest, query, frame, tcpExchange } from '../dns/net/index.ts';
import { loadZone } from '../dns/files/index.ts';
import { decodeMessage } from '../dns/message.ts';
import { WireError } from '../dns/errors.ts';
import { parseTsigKey } from '../dns/tsig.ts';
import type { Fqdn } from '../dns/name.ts';
import { RRType } from '../dns/types.ts';

const SEED = 0x5eed1234;
const UDP_COUNT = 5000;
const TCP_COUNT = 1500;
const ZONE = 'mut.example.' as Fqdn;

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

/** One mutation of `base`; the kind cycles so every kind is well represented. */
function mutate(base: Uint8Array, rand: () => number, kind: number): Uint8Array {
  const int = (n: number): number => Math.floor(rand() * n);
  const b = base.slice();
  switch (kind % 6) {
    case 0: {
      // 1-4 bit flips anywhere
      const n = 1 + int(4);
      for (let i = 0; i < n; i++) {
        const p = int(b.length);
        b[p] = (b[p] ?? 0) ^ (1 << int(8));
      }
      return b;
    }
    case 1:
      return b.slice(0, int(b.length)); // truncation
    case 2: {
      // byte insertion(s)
      const p = int(b.length + 1);
      const ins = Uint8Array.from({ length: 1 + int(4) }, () => int(256));
      const out = new Uint8Array(b.length + ins.length);
      out.set(b.subarray(0, p));
      out.set(ins, p);
      out.set(b.subarray(p), p + ins.length);
      return out;
    }
    case 3: {
      // count changes: QD/AN/NS/AR set to small or huge values
      const field = 4 + 2 * int(4);
      const v = rand() < 0.5 ? int(4) : int(65536);
      b[field] = v >> 8;
      b[field + 1] = v & 0xff;
      return b;
    }
    case 4: {
      // pointer corruption: retarget an existing pointer, or plant a self/forward/loop pointer
      const ptrs: number[] = [];
      for (let i = 12; i < b.length - 1; i++) if (((b[i] ?? 0) & 0xc0) === 0xc0) ptrs.push(i);
      const p = ptrs.length > 0 && rand() < 0.6 ? (ptrs[int(ptrs.length)] as number) : 12 + int(Math.max(1, b.length - 13));
      const target = [p, p + 2, 12, int(b.length + 50), 0x3fff][int(5)] as number;
      b[p] = 0xc0 | ((target >> 8) & 0x3f);
      if (p + 1 < b.length) b[p + 1] = target & 0xff;
      return b;
    }
    default: {
      // header chaos: opcode, flags, rcode, Z bits
      b[2] = int(256) & 0x7f; // keep QR=0 so the server must look at it
      b[3] = int(256);
      return b;
    }
  }
}

let dir: TmpDir;
let server: DnsServer;
let port = 0;
const failures: unknown[] = [];
const key = parseTsigKey('mut-key.:hmac-sha256:bXV0YXRpb24tdGVzdC1rZXktbXV0YXRpb24tdGVzdCE=');

before(async () => {
  dir = await tmpDir('mpdns-mut-');
  const file = join(dir.path, 'mut.zone');
  const lines = [
    `$ORIGIN ${ZONE}`, '$TTL 300', '@ SOA ns1 host 1 3600 600 86400 300', '@ NS ns1', '@ NS ns2',
    'ns1 A 127.0.0.1', 'ns2 AAAA ::1', '@ MX 10 mail', 'mail A 192.0.2.25', 'www CNAME mail',
    '*.w TXT "wild"', 'sub NS ns.sub', 'ns.sub A 192.0.2.53',
  ];
  for (let i = 0; i < 60; i++) lines.push(`big TXT "record number ${i} with some padding to make the answer large"`);
  writeFileSync(file, lines.join('\n') + '\n');
  port = await freePort();
  server = new DnsServer({
    address: '127.0.0.1',
    port,
    keys: [key],
    logger: {
      info: () => {},
      debug: () => {},
      warn: (obj, msg) => {
        if (msg === 'request failed') failures.push(obj);
      },
    },
  });
  server.setZone(new PrimaryZone(await loadZone(file, ZONE)));
  await server.start();
});

after(async () => {
  await server?.stop();
  await dir?.remove();
});

async function baseCorpus(): Promise<Uint8Array[]> {
  const qs: [string, number][] = [
    [ZONE, RRType.SOA], [`www.${ZONE}`, RRType.A], [`x.w.${ZONE}`, RRType.TXT], [`big.${ZONE}`, RRType.TXT],
    [`a.sub.${ZONE}`, RRType.A], [`nx.${ZONE}`, RRType.AAAA], [ZONE, RRType.MX], [ZONE, RRType.AXFR],
  ];
  const out: Uint8Array[] = [];
  for (const [name, type] of qs) {
    out.push(buildRequest(name as Fqdn, type, {}).bytes);
    out.push(buildRequest(name as Fqdn, type, { udpSize: 0 }).bytes);
    out.push(buildRequest(name as Fqdn, type, { tsig: key, dnssecOk: true }).bytes);
    // Responses (with compression pointers) make good bases too, sent back as queries.
    if (type !== RRType.AXFR) {
      const r = await query({ address: '127.0.0.1', port }, name as Fqdn, type, { tcp: true });
      const q = r.bytes.slice();
      q[2] = (q[2] ?? 0) & 0x7f;
      out.push(q);
    }
  }
  return out;
}

async function stillAnswers(): Promise<void> {
  const r = await query({ address: '127.0.0.1', port }, `www.${ZONE}` as Fqdn, RRType.A, { timeoutMs: 1000, attempts: 5 });
  assert.equal(r.message.rcode, 0);
  assert.ok(r.message.answer.length >= 2, 'CNAME + A');
}

test('mutated packets: decodeMessage throws only WireError; server keeps answering over UDP and TCP', { timeout: 120_000 }, async () => {
  const bases = await baseCorpus();
  const rand = rng(SEED);
  const corpus: Uint8Array[] = [];
  for (let i = 0; i < UDP_COUNT + TCP_COUNT; i++) {
    corpus.push(mutate(bases[i % bases.length] as Uint8Array, rand, Math.floor(i / bases.length)));
  }
  // In-process: only WireError, never anything else.
  let decoded = 0;
  let rejected = 0;
  for (const [i, pkt] of corpus.entries()) {
    try {
      decodeMessage(pkt);
      decoded++;
    } catch (err) {
      assert.ok(err instanceof WireError, `packet ${i} threw ${String(err)}`);
      rejected++;
    }
  }
  assert.ok(rejected > UDP_COUNT / 10, `the corpus must contain many malformed packets (${rejected})`);
  assert.ok(decoded > 100, `and some that still decode (${decoded})`);

  // UDP: send in bursts, check a valid query in between.
  const sock = createSocket('udp4');
  let answered = 0;
  sock.on('message', () => answered++);
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  try {
    for (let i = 0; i < UDP_COUNT; i++) {
      await new Promise<void>((r) => sock.send(corpus[i] as Uint8Array, port, '127.0.0.1', () => r()));
      if (i % 500 === 499) await stillAnswers();
    }
  } finally {
    sock.close();
  }
  assert.ok(answered > 0, 'some mutated packets got FORMERR or answers');

  // TCP: pipelined mutated packets on a few connections (the server may close a connection).
  const tcpPackets = corpus.slice(UDP_COUNT);
  for (let c = 0; c < tcpPackets.length; c += 100) {
    await new Promise<void>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        for (const p of tcpPackets.slice(c, c + 100)) s.write(frame(p));
        s.end();
      });
      s.on('data', () => {});
      s.on('error', () => resolve());
      s.on('close', () => resolve());
      s.setTimeout(5000, () => s.destroy());
    });
    // Valid query over TCP after each connection.
    const q = buildRequest(`www.${ZONE}` as Fqdn, RRType.A, {});
    const resp = decodeMessage(await tcpExchange({ address: '127.0.0.1', port }, q.bytes, 3000));
    assert.equal(resp.rcode, 0);
  }
  await pollUntil('server still answers', async () => {
    await stillAnswers();
    return true;
  });
  assert.deepEqual(failures, [], 'no handler failures');
  assert.ok(server.stats.formerr > 0, 'FORMERR was sent');
});
