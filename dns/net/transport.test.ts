// The socket layer under abuse: a TCP client that stops reading mid-transfer is dropped after
// the idle time instead of holding a connection (and its transfer) forever; pipelining past the
// in-flight limit is slowed down, not cut off; a message trickled byte by byte must still arrive
// within the read deadline; at the connection limit the idlest connection makes room; a client
// hanging up mid-transfer is a debug line; a port that cannot be bound is reported once, as the
// thrown ListenError naming the reason, not also through onError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect, createServer, type Socket } from 'node:net';
import { DnsServer } from './server.ts';
import { ListenError } from './errors.ts';
import { buildRequest } from './client.ts';
import * as transportModule from './transport.ts';
import { frame, listen, type Handler } from './transport.ts';
import type { SourceAnswer, ZoneSource } from '../zone-source.ts';
import type { Fqdn } from '../name.ts';
import { parseRecords } from '../zonefile/index.ts';
import type { RR } from '../rr.ts';
import { Rcode, RRType } from '../types.ts';
import { freePort } from '../../test/support/ports.ts';
import { pollUntil } from '../../test/support/poll.ts';
import { TcpConnection, tcpExchange } from './exchange.ts';

const ORIGIN = 'stall.example.' as Fqdn;

function soaRR(): RR {
  const [soa] = parseRecords(`@ 60 IN SOA ns h 1 60 60 600 60`, { origin: ORIGIN });
  if (soa === undefined) throw new Error('no SOA');
  return soa;
}

/** A zone far bigger than the socket buffers: 100 000 TXT records of 200 octets. */
class BigSource implements ZoneSource {
  readonly origin = ORIGIN;
  readonly serial = 1;
  soa(): RR {
    return soaRR();
  }
  query(): SourceAnswer {
    return { rcode: Rcode.NXDOMAIN, aa: true, answer: [], authority: [], additional: [] };
  }
  *records(): Iterable<RR> {
    yield this.soa();
    const rdata = new Uint8Array(201);
    rdata[0] = 200;
    for (let i = 0; i < 100_000; i++) yield { name: `t${i}.${ORIGIN}` as Fqdn, type: RRType.TXT, class: 1, ttl: 60, rdata };
  }
}

test('TCP: a client that stops reading mid-AXFR is dropped after the idle time', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const server = new DnsServer({ address: '127.0.0.1', port, allowTransfer: ['127.0.0.1'], tcpIdleMs: 300 });
  server.setZone(new BigSource());
  await server.start();
  const sock = connect({ host: '127.0.0.1', port });
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    sock.on('error', () => {}); // a reset from the server is the expected outcome
    let received = 0;
    let stalling = true;
    sock.on('data', (b: Buffer) => {
      received += b.length;
      if (stalling) sock.pause(); // read a little, then stall
    });
    const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
    sock.write(frame(buildRequest(ORIGIN, RRType.AXFR, { udpSize: 0 }).bytes));
    // The scenario: the client stalls for several idle periods, then reads what is left.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    stalling = false;
    sock.resume();
    const deadline = new Promise<'open'>((resolve) => setTimeout(() => resolve('open'), 30_000).unref());
    assert.equal(await Promise.race([closed.then(() => 'closed' as const), deadline]), 'closed');
    // The full transfer is over 20 MB of RDATA alone: a dropped connection ends well before.
    assert.ok(received > 0, 'the transfer started');
    assert.ok(received < 100_000 * 200, `the server sent the whole transfer (${received} bytes) to a stalled client`);
  } finally {
    sock.destroy();
    await server.stop();
  }
});

test('listen: a port in use is one ListenError naming the reason, not also an onError report', { timeout: 10_000 }, async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const addr = blocker.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  const reported: unknown[] = [];
  try {
    await assert.rejects(
      listen({ address: '127.0.0.1', port, handler: async () => {}, onError: (err) => reported.push(err) }),
      (err: unknown) =>
        err instanceof ListenError &&
        err.message === `cannot listen on TCP 127.0.0.1:${port}: EADDRINUSE: address already in use`,
    );
    assert.deepEqual(reported, [], 'the bind failure was also reported through onError');
  } finally {
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
  }
  // The UDP half taken (dgram's own message has the code only), and an address not ours.
  const udpPort = await freePort();
  const udp = createSocket('udp4');
  await new Promise<void>((resolve) => udp.bind(udpPort, '127.0.0.1', resolve));
  try {
    await assert.rejects(
      listen({ address: '127.0.0.1', port: udpPort, handler: async () => {} }),
      (err: unknown) =>
        err instanceof ListenError &&
        err.message === `cannot listen on UDP 127.0.0.1:${udpPort}: EADDRINUSE: address already in use`,
    );
  } finally {
    udp.close();
  }
  await assert.rejects(listen({ address: '192.0.2.1', port: udpPort, handler: async () => {} }), {
    message: `cannot listen on TCP 192.0.2.1:${udpPort}: EADDRNOTAVAIL: address not available`,
  });
});

/** Echoes each request after a turn of the event loop; counts how many run at once. */
function echoHandler(): { handler: Handler; maxConcurrent: () => number } {
  let running = 0;
  let max = 0;
  return {
    handler: async (req, _ctx, send) => {
      running++;
      max = Math.max(max, running);
      await new Promise((resolve) => setImmediate(resolve));
      running--;
      await send(req);
    },
    maxConcurrent: () => max,
  };
}

async function connected(port: number): Promise<Socket> {
  const sock = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  sock.on('error', () => {}); // a close from the server is what some tests wait for
  return sock;
}

test('TCP: 200 requests pipelined in one write get 200 answers, at most 32 handled at once', { timeout: 10_000 }, async () => {
  const port = await freePort();
  const echo = echoHandler();
  const listener = await listen({ address: '127.0.0.1', port, handler: echo.handler });
  const sock = await connected(port);
  try {
    const reqs = Array.from({ length: 200 }, (_, i) => buildRequest(`q${i}.${ORIGIN}` as Fqdn, RRType.A, { udpSize: 0 }));
    const answers: number[] = [];
    const reader = new transportModule.FrameReader();
    const done = new Promise<'all' | 'closed'>((resolve) => {
      sock.on('data', (b: Buffer) => {
        for (const m of reader.push(b)) answers.push(((m[0] ?? 0) << 8) | (m[1] ?? 0));
        if (answers.length === reqs.length) resolve('all');
      });
      sock.once('close', () => resolve('closed'));
    });
    sock.write(Buffer.concat(reqs.map((r) => frame(r.bytes))));
    assert.equal(await done, 'all', `the server closed the connection after ${answers.length} answers`);
    assert.deepEqual(new Set(answers), new Set(reqs.map((r) => r.id)));
    assert.equal(echo.maxConcurrent(), 32, 'requests in flight on one connection');
  } finally {
    sock.destroy();
    await listener.close();
  }
});

/** Sends the first byte of a 64 KiB message, then one more every 50 ms: it never completes. */
function trickle(sock: Socket): { stop: () => void; closed: Promise<number> } {
  const closed = new Promise<number>((resolve) => sock.once('close', () => resolve(Date.now())));
  sock.write(Uint8Array.of(0xff));
  const timer = setInterval(() => sock.writable && sock.write(Uint8Array.of(0)), 50);
  return { stop: () => clearInterval(timer), closed };
}

test('TCP: a message trickled byte by byte is cut at the read deadline, not kept by each byte', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const listener = await listen({ address: '127.0.0.1', port, handler: echoHandler().handler, tcpIdleMs: 5000, tcpReadTimeoutMs: 300 });
  const sock = await connected(port);
  const started = Date.now();
  const t = trickle(sock);
  try {
    // Each byte would keep an idle timer alive forever; the 300 ms read deadline must cut it.
    const open = new Promise<'open'>((resolve) => setTimeout(() => resolve('open'), 30_000).unref());
    const closedAt = await Promise.race([t.closed, open]);
    assert.notEqual(closedAt, 'open', 'a connection trickling a byte every 50 ms was still open after 30 s');
    const after = (closedAt as number) - started;
    assert.ok(after >= 250, `closed ${after} ms after the first byte`);
  } finally {
    t.stop();
    sock.destroy();
    await listener.close();
  }
});

test('TCP: slow clients filling the connection limit do not shut out queries', { timeout: 15_000 }, async () => {
  const port = await freePort();
  const listener = await listen({
    address: '127.0.0.1',
    port,
    handler: echoHandler().handler,
    maxTcpConnections: 2,
    tcpIdleMs: 5000,
    tcpReadTimeoutMs: 300,
  });
  const tricklers = await Promise.all([connected(port), connected(port)]);
  const trickles = tricklers.map(trickle);
  try {
    const req = buildRequest(`q.${ORIGIN}` as Fqdn, RRType.A, { udpSize: 0 });
    const answer = await pollUntil('a TCP query answered', () => tcpExchange({ address: '127.0.0.1', port }, req.bytes, 500), {
      timeoutMs: 5000,
    });
    assert.equal(((answer[0] ?? 0) << 8) | (answer[1] ?? 0), req.id);
    // Each is cut at its deadline (or one made room as idle before its first byte arrived).
    await Promise.all(trickles.map((t) => t.closed));
  } finally {
    trickles.forEach((t) => t.stop());
    tricklers.forEach((s) => s.destroy());
    await listener.close();
  }
});

test('TCP: at the connection limit a new client closes the connection idle the longest', { timeout: 10_000 }, async () => {
  const port = await freePort();
  const listener = await listen({ address: '127.0.0.1', port, handler: echoHandler().handler, maxTcpConnections: 2 });
  const peer = { address: '127.0.0.1', port };
  const ask = async (conn: TcpConnection, label: string): Promise<void> => {
    const req = buildRequest(`${label}.${ORIGIN}` as Fqdn, RRType.A, { udpSize: 0 });
    conn.send(req.bytes);
    const got = await conn.read(2000);
    assert.equal(((got[0] ?? 0) << 8) | (got[1] ?? 0), req.id);
  };
  const first = await TcpConnection.open(peer, 2000);
  const second = await TcpConnection.open(peer, 2000);
  try {
    await ask(first, 'a'); // idle from here on: the longest
    await ask(second, 'b');
    const third = await TcpConnection.open(peer, 2000);
    try {
      await ask(third, 'c');
      await assert.rejects(first.read(2000), /closed/);
      await ask(second, 'd');
    } finally {
      third.close();
    }
  } finally {
    first.close();
    second.close();
    await listener.close();
  }
});

test('TCP: a client hanging up mid-AXFR is one debug line, not a warning with a stack', { timeout: 20_000 }, async () => {
  const port = await freePort();
  const warned: [object, string | undefined][] = [];
  const debugged: [object, string | undefined][] = [];
  const server = new DnsServer({
    address: '127.0.0.1',
    port,
    allowTransfer: ['127.0.0.1'],
    logger: { info: () => {}, warn: (o, m) => warned.push([o, m]), debug: (o, m) => debugged.push([o, m]) },
  });
  server.setZone(new BigSource());
  await server.start();
  try {
    const sock = await connected(port);
    sock.write(frame(buildRequest(ORIGIN, RRType.AXFR, { udpSize: 0 }).bytes));
    // Read the first bytes, then close with the rest unread: the kernel resets the connection,
    // and the server's next write fails with EPIPE or ECONNRESET.
    await new Promise<void>((resolve) => sock.once('data', () => resolve()));
    sock.destroy();
    const [logged] = await pollUntil('the hang-up logged', () => debugged.find(([, m]) => m === 'client hung up'));
    assert.match(JSON.stringify(logged), /EPIPE|ECONNRESET/);
    assert.ok(!('err' in logged), 'the debug line carries the error object (and its stack)');
    assert.deepEqual(warned, []);
    const answer = await tcpExchange({ address: '127.0.0.1', port }, buildRequest(`x.${ORIGIN}` as Fqdn, RRType.A, { udpSize: 0 }).bytes, 2000);
    assert.equal(answer[3]! & 0x0f, Rcode.NXDOMAIN);
  } finally {
    await server.stop();
  }
});

test('FrameReader: a frame trickled byte by byte is joined once, not once per byte', { timeout: 20_000 }, () => {
  const { FrameReader } = transportModule;
  const size = 20_000;
  const msg = new Uint8Array(size).map((_, i) => i & 0xff);
  const stream = frame(msg);
  const concat = Buffer.concat.bind(Buffer);
  let copied = 0;
  Buffer.concat = (list: readonly Uint8Array[], total?: number): Buffer<ArrayBuffer> => {
    const out = concat(list, total);
    copied += out.length;
    return out;
  };
  try {
    const r = new FrameReader();
    const out: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i++) out.push(...r.push(stream.subarray(i, i + 1)));
    assert.equal(out.length, 1);
    assert.deepEqual(Buffer.from(out[0] ?? []), Buffer.from(msg));
    assert.equal(r.pending, 0);
    // The frame was joined through the spy at least once, so the bound below can fail.
    assert.ok(copied >= size, `Buffer.concat copied ${copied} bytes, expected at least ${size}: the spy missed the join`);
    // Joining the partial frame on every byte copies about size²/2 bytes (200 MB here).
    assert.ok(copied <= 4 * stream.length, `copied ${copied} bytes to read one ${stream.length}-byte frame`);
  } finally {
    Buffer.concat = concat;
  }
  // Frames split anywhere, several per chunk, and a trailing partial frame.
  const r = new FrameReader();
  const three = Buffer.concat([frame(Uint8Array.of(1)), frame(Uint8Array.of(2, 2)), frame(Uint8Array.of(3, 3, 3))]);
  const got = [...r.push(three.subarray(0, 4)), ...r.push(three.subarray(4, 9)), ...r.push(three.subarray(9, 11))];
  assert.deepEqual(got.map((m) => [...m]), [[1], [2, 2]]);
  assert.equal(r.pending, 4);
  assert.deepEqual([...(r.push(three.subarray(11))[0] ?? [])], [3, 3, 3]);
});

test('udpExchange: an answer from another address with the server port is not taken', { timeout: 10_000 }, async () => {
  const { createSocket } = await import('node:dgram');
  const { udpExchange } = await import('./exchange.ts');
  const { TimeoutError } = await import('./errors.ts');
  const server = createSocket('udp4');
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
  const port = server.address().port;
  // An off-path sender on another loopback address but the same port forges the reply.
  const forger = createSocket('udp4');
  await new Promise<void>((resolve) => forger.bind(port, '127.0.0.2', resolve));
  server.on('message', (req, rinfo) => {
    const forged = Buffer.from(req);
    forged[2] = (forged[2] ?? 0) | 0x80;
    forger.send(forged, rinfo.port, rinfo.address);
  });
  try {
    const req = buildRequest(ORIGIN, RRType.SOA, { udpSize: 0 }).bytes;
    await assert.rejects(udpExchange({ address: '127.0.0.1', port }, req, 500), (err: unknown) => err instanceof TimeoutError);
  } finally {
    server.close();
    forger.close();
  }
});
