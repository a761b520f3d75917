// The socket layer of the server: one UDP socket and one TCP listener on ADDR:PORT, with
// 2-byte framing, pipelining with backpressure, idle and per-message read timeouts and a
// connection limit (RFC 7766). It knows nothing about DNS beyond framing: every request is handed
// to a handler that replies through `send`.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIP, type Server, type Socket } from 'node:net';
import { errnoText } from '../files/errors.ts';
import { ConnectionClosedError, ListenError } from './errors.ts';

export interface Peer {
  readonly address: string;
  readonly port: number;
}

export interface RequestContext {
  readonly transport: 'udp' | 'tcp';
  readonly remote: Peer;
}

/**
 * Replies to one request. Over UDP only the first call sends; over TCP every call writes one
 * framed message (a zone transfer calls it many times) and resolves when the socket can take
 * more (backpressure).
 */
export type Send = (msg: Uint8Array) => Promise<void>;

export type Handler = (req: Uint8Array, ctx: RequestContext, send: Send) => Promise<void>;

export interface ListenOptions {
  readonly address: string;
  readonly port: number;
  readonly handler: Handler;
  /**
   * Close a TCP connection idle this long between messages (no request in flight, no partial
   * message), or making no progress this long while an answer waits for the client to read.
   * Default 10 s.
   */
  readonly tcpIdleMs?: number;
  /**
   * A TCP message must arrive whole within this time of its first byte, or the connection is
   * closed: trickling bytes do not extend it. Default 10 s.
   */
  readonly tcpReadTimeoutMs?: number;
  /**
   * Most TCP connections at once. A new one past the limit closes the connection idle the
   * longest, or is itself closed at accept when none is idle. Default 100.
   */
  readonly maxTcpConnections?: number;
  /**
   * Most requests in flight on one TCP connection (pipelining). Past it the connection stops
   * reading until an answer is done. Default 32.
   */
  readonly maxPipelined?: number;
  /**
   * Called on a handler that threw (the request gets no answer) or a socket error. A peer that
   * hung up (EPIPE, ECONNRESET) is reported once per connection as a ConnectionClosedError.
   */
  readonly onError?: (err: unknown, ctx?: RequestContext) => void;
}

export interface Listener {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Parses `ADDR:PORT` or `[V6ADDR]:PORT`. Throws ListenError. */
export function parseHostPort(text: string, defaultPort?: number): Peer {
  let address: string;
  let portText: string | undefined;
  const v6 = /^\[([^\]]+)\](?::([0-9]+))?$/.exec(text);
  if (v6 !== null) {
    address = v6[1] ?? '';
    portText = v6[2];
  } else {
    const i = text.lastIndexOf(':');
    if (i < 0 || isIP(text) === 6) {
      address = text;
      portText = undefined;
    } else {
      address = text.slice(0, i);
      portText = text.slice(i + 1);
    }
  }
  if (isIP(address) === 0) throw new ListenError(`"${text}" is not ADDR:PORT (bad address)`);
  if (portText === undefined) {
    if (defaultPort === undefined) throw new ListenError(`"${text}" is not ADDR:PORT (no port)`);
    return { address, port: defaultPort };
  }
  const port = Number(portText);
  if (!/^[0-9]{1,5}$/.test(portText) || port > 65535) {
    throw new ListenError(`"${text}" is not ADDR:PORT (bad port)`);
  }
  return { address, port };
}

/** Prepends the 2-byte length of RFC 1035 §4.2.2. */
export function frame(msg: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(msg.length + 2);
  out.writeUInt16BE(msg.length, 0);
  out.set(msg, 2);
  return out;
}

/**
 * Splits a TCP byte stream into DNS messages. Chunks of an incomplete frame are only joined once
 * the frame is complete, so a client trickling a 64 KiB frame byte by byte costs linear time.
 */
export class FrameReader {
  #chunks: Buffer[] = [];
  #total = 0;
  /** Bytes needed before the next frame can be cut: 2 for its length, then 2 + length. */
  #need = 2;

  push(chunk: Buffer): Uint8Array[] {
    this.#chunks.push(chunk);
    this.#total += chunk.length;
    if (this.#total < this.#need) return [];
    const buf = this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks, this.#total);
    const out: Uint8Array[] = [];
    let off = 0;
    for (;;) {
      if (buf.length - off < 2) {
        this.#need = 2;
        break;
      }
      const len = buf.readUInt16BE(off);
      if (buf.length - off - 2 < len) {
        this.#need = 2 + len;
        break;
      }
      out.push(buf.subarray(off + 2, off + 2 + len));
      off += 2 + len;
    }
    this.#chunks = off === buf.length ? [] : [buf.subarray(off)];
    this.#total = buf.length - off;
    return out;
  }

  get pending(): number {
    return this.#total;
  }
}

/** Writes, waiting for 'drain' when the socket buffers; rejects once the peer has gone. */
function writeAsync(sock: Socket, data: Buffer): Promise<void> {
  if (sock.destroyed || !sock.writable) {
    return Promise.reject(new ConnectionClosedError('connection closed by the peer'));
  }
  return new Promise((resolve) => {
    const ok = sock.write(data);
    if (ok) {
      resolve();
      return;
    }
    const done = (): void => {
      sock.off('drain', done);
      sock.off('close', done);
      resolve();
    };
    sock.once('drain', done);
    sock.once('close', done);
  });
}

const HANGUP_CODES = new Set(['EPIPE', 'ECONNRESET', 'ERR_STREAM_DESTROYED']);

/** The peer went away under us: a hang-up, not a server error. */
function isPeerHangup(err: unknown): boolean {
  return err instanceof ConnectionClosedError || HANGUP_CODES.has(String((err as NodeJS.ErrnoException | undefined)?.code));
}

/** What the listener needs to know of a connection to pick one to close at the limit. */
interface TcpConnectionState {
  /** Since when nothing is in flight and no message is partly read; undefined while busy. */
  idleSince(): number | undefined;
}

function serveTcpConnection(sock: Socket, opts: ListenOptions): TcpConnectionState {
  const idleMs = opts.tcpIdleMs ?? 10_000;
  const readMs = opts.tcpReadTimeoutMs ?? 10_000;
  const maxPipelined = opts.maxPipelined ?? 32;
  const remote: Peer = { address: sock.remoteAddress ?? '', port: sock.remotePort ?? 0 };
  const ctx: RequestContext = { transport: 'tcp', remote };
  const reader = new FrameReader();
  /** Requests read but not yet handed to the handler: at most one chunk's worth (we pause). */
  const waiting: Uint8Array[] = [];
  let inFlight = 0;
  let ended = false;
  let paused = false;
  let idleSince: number | undefined = Date.now();
  /** The deadline of the message being read (armed at its first byte, never extended). */
  let deadline: NodeJS.Timeout | undefined;
  const busy = (): boolean => inFlight > 0 || waiting.length > 0 || reader.pending > 0;
  const noteIdle = (): void => {
    idleSince = busy() ? undefined : (idleSince ?? Date.now());
  };
  const stopDeadline = (): void => {
    clearTimeout(deadline);
    deadline = undefined;
  };
  /** Arms the read deadline for a partial message; `fresh`: that message began just now. */
  const watchPartial = (fresh: boolean): void => {
    if (paused || reader.pending === 0) stopDeadline();
    else if (fresh || deadline === undefined) {
      stopDeadline();
      deadline = setTimeout(() => sock.destroy(), readMs);
    }
  };
  const finishIfEnded = (): void => {
    if (ended && inFlight === 0 && waiting.length === 0) sock.end();
  };
  sock.once('close', stopDeadline);
  sock.on('end', () => {
    ended = true;
    finishIfEnded();
  });
  sock.setNoDelay(true);
  sock.setTimeout(idleMs);
  // The socket timeout is no bytes either way for idleMs. Between messages the client is done;
  // with an answer waiting for 'drain' the client stopped reading, and would hold the connection
  // (and its transfer) forever. A partial message is the read deadline's business.
  sock.on('timeout', () => {
    if (!busy() || sock.writableNeedDrain) sock.destroy();
  });
  let hungUp = false;
  sock.on('error', (err) => {
    if (!isPeerHangup(err)) opts.onError?.(err, ctx);
    else if (!hungUp) {
      hungUp = true;
      const code = (err as NodeJS.ErrnoException).code ?? 'closed';
      opts.onError?.(new ConnectionClosedError(`connection closed by the peer (${code})`, { cause: err }), ctx);
    }
  });
  const send: Send = (msg) => writeAsync(sock, frame(msg));
  const run = (req: Uint8Array): void => {
    inFlight++;
    opts
      .handler(req, ctx, send)
      .catch((err: unknown) => {
        // A peer that hangs up mid-answer is not a server error: the answer just stops (the
        // socket's own error, if any, was reported above).
        if (!isPeerHangup(err)) opts.onError?.(err, ctx);
      })
      .finally(() => {
        inFlight--;
        dispatch();
        noteIdle();
        if (inFlight === 0) {
          finishIfEnded();
          if (!ended) sock.setTimeout(idleMs);
        }
      });
  };
  // Backpressure (RFC 7766 §6.2.1.1): at most maxPipelined handlers at once; past that the
  // socket stops reading, so the client's writes wait in the kernel, not in our memory.
  const dispatch = (): void => {
    while (inFlight < maxPipelined && waiting.length > 0) run(waiting.shift() as Uint8Array);
    const full = inFlight >= maxPipelined || waiting.length > 0;
    if (full === paused || sock.destroyed) return;
    paused = full;
    if (full) sock.pause();
    else sock.resume();
    watchPartial(!full);
  };
  sock.on('data', (chunk: Buffer) => {
    const fresh = reader.pending === 0;
    const reqs = reader.push(chunk);
    for (const req of reqs) waiting.push(req);
    watchPartial(fresh || reqs.length > 0);
    dispatch();
    noteIdle();
  });
  return { idleSince: () => idleSince };
}

/** Closes the connection idle the longest; false when every connection is busy. */
function closeIdlest(connections: Map<Socket, TcpConnectionState>): boolean {
  let oldest: [Socket, number] | undefined;
  for (const [sock, state] of connections) {
    const since = state.idleSince();
    if (since !== undefined && (oldest === undefined || since < oldest[1])) oldest = [sock, since];
  }
  if (oldest === undefined) return false;
  connections.delete(oldest[0]);
  oldest[0].destroy();
  return true;
}

/** Binds UDP and TCP on the same address and port (port 0 picks one free for both). */
export async function listen(opts: ListenOptions): Promise<Listener> {
  const family = isIP(opts.address);
  if (family === 0) throw new ListenError(`bad listen address "${opts.address}"`);
  // Half-open allowed: a client may send its queries and shut down its side; we answer, then close.
  // Every accepted socket is tracked from its first moment, so close() can destroy it.
  const connections = new Map<Socket, TcpConnectionState>();
  const maxConnections = opts.maxTcpConnections ?? 100;
  const tcp: Server = createServer({ allowHalfOpen: true }, (sock) => {
    if (connections.size >= maxConnections && !closeIdlest(connections)) {
      sock.destroy();
      return;
    }
    sock.once('close', () => connections.delete(sock));
    connections.set(sock, serveTcpConnection(sock, opts));
  });
  // Bind failures are thrown as ListenError; onError hears only about errors after that.
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(opts.port, opts.address, () => {
      tcp.off('error', reject);
      resolve();
    });
  }).catch((err: unknown) => {
    throw new ListenError(`cannot listen on TCP ${opts.address}:${opts.port}: ${errnoText(err)}`, { cause: err });
  });
  tcp.on('error', (err) => opts.onError?.(err));
  const addr = tcp.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : opts.port;
  const udp: UdpSocket = createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
  udp.on('message', (msg, rinfo) => {
    const ctx: RequestContext = { transport: 'udp', remote: { address: rinfo.address, port: rinfo.port } };
    let sent = false;
    const send: Send = (out) => {
      if (sent) return Promise.resolve();
      sent = true;
      return new Promise((resolve) => udp.send(out, rinfo.port, rinfo.address, () => resolve()));
    };
    opts.handler(new Uint8Array(msg.buffer, msg.byteOffset, msg.length), ctx, send).catch((err: unknown) =>
      opts.onError?.(err, ctx),
    );
  });
  try {
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, opts.address, () => {
        udp.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    for (const s of connections.keys()) s.destroy();
    await new Promise<void>((r) => tcp.close(() => r()));
    throw new ListenError(`cannot listen on UDP ${opts.address}:${port}: ${errnoText(err)}`, { cause: err });
  }
  udp.on('error', (err) => opts.onError?.(err));
  return {
    address: opts.address,
    port,
    async close() {
      for (const s of connections.keys()) s.destroy();
      await Promise.all([
        new Promise<void>((r) => tcp.close(() => r())),
        new Promise<void>((r) => udp.close(() => r())),
      ]);
    },
  };
}
