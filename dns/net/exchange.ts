// Byte-level client exchanges: one UDP request/response with a deadline, and a TCP connection
// that sends framed requests and yields framed responses (for queries and zone transfers).
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect, isIP, type Socket } from 'node:net';
import { NetError, TimeoutError } from './errors.ts';
import { frame, FrameReader, type Peer } from './transport.ts';

function idOf(b: Uint8Array): number {
  return ((b[0] ?? 0) << 8) | (b[1] ?? 0);
}

/** An IPv6 address in the compressed lower-case form the socket layer reports. */
function canonicalIp(address: string): string {
  return isIP(address) === 6 ? new URL(`http://[${address}]/`).hostname.slice(1, -1) : address;
}

/**
 * Sends one UDP datagram and resolves with the first datagram from `server` whose id matches
 * (and which `accept` likes, when given). Rejects with TimeoutError after `timeoutMs`.
 */
export function udpExchange(
  server: Peer,
  req: Uint8Array,
  timeoutMs: number,
  accept?: (resp: Uint8Array) => boolean,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const sock = createSocket(isIP(server.address) === 6 ? 'udp6' : 'udp4');
    const id = idOf(req);
    const canonical = canonicalIp(server.address);
    const timer = setTimeout(() => {
      sock.close();
      reject(new TimeoutError(`no UDP answer from ${server.address}:${server.port} in ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('error', (err) => {
      clearTimeout(timer);
      sock.close();
      reject(new NetError(`UDP error talking to ${server.address}:${server.port}`, { cause: err }));
    });
    sock.on('message', (msg, rinfo) => {
      // Only the server answers: another address using the same port is an off-path forger.
      if (rinfo.port !== server.port || (rinfo.address !== server.address && rinfo.address !== canonical)) return;
      const b = new Uint8Array(msg.buffer, msg.byteOffset, msg.length);
      if (b.length < 12 || idOf(b) !== id) return;
      if (accept !== undefined && !accept(b)) return;
      clearTimeout(timer);
      sock.close();
      resolve(b);
    });
    sock.send(req, server.port, server.address);
  });
}

/** A TCP connection to a DNS server: send framed messages, read framed messages in order. */
export class TcpConnection {
  readonly #sock: Socket;
  readonly #reader = new FrameReader();
  readonly #queue: Uint8Array[] = [];
  #waiter: ((v: Uint8Array | Error) => void) | undefined;
  #error: Error | undefined;

  private constructor(sock: Socket) {
    this.#sock = sock;
    sock.setNoDelay(true);
    sock.on('data', (chunk: Buffer) => {
      for (const m of this.#reader.push(chunk)) this.#deliver(m);
    });
    sock.on('error', (err) => this.#fail(new NetError('TCP connection error', { cause: err })));
    sock.on('close', () => this.#fail(new NetError('TCP connection closed by peer')));
  }

  static open(server: Peer, timeoutMs: number): Promise<TcpConnection> {
    return new Promise((resolve, reject) => {
      const sock = connect({ host: server.address, port: server.port });
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new TimeoutError(`TCP connect to ${server.address}:${server.port} timed out`));
      }, timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.removeAllListeners('error');
        resolve(new TcpConnection(sock));
      });
      sock.once('error', (err) => {
        clearTimeout(timer);
        reject(new NetError(`TCP connect to ${server.address}:${server.port} failed`, { cause: err }));
      });
    });
  }

  #deliver(m: Uint8Array): void {
    const w = this.#waiter;
    if (w !== undefined) {
      this.#waiter = undefined;
      w(m);
    } else this.#queue.push(m);
  }

  #fail(err: Error): void {
    if (this.#error !== undefined) return;
    this.#error = err;
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.(err);
  }

  send(msg: Uint8Array): void {
    this.#sock.write(frame(msg));
  }

  /** The next message, or a TimeoutError / NetError. */
  read(timeoutMs: number): Promise<Uint8Array> {
    const q = this.#queue.shift();
    if (q !== undefined) return Promise.resolve(q);
    if (this.#error !== undefined) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        reject(new TimeoutError(`no TCP message in ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiter = (v) => {
        clearTimeout(timer);
        if (v instanceof Error) reject(v);
        else resolve(v);
      };
    });
  }

  close(): void {
    this.#sock.destroy();
  }

  /** Hands the open socket over (for PipelinedTcp); this object must not be used afterwards. */
  detach(): Socket {
    this.#sock.removeAllListeners('data');
    this.#sock.removeAllListeners('error');
    this.#sock.removeAllListeners('close');
    return this.#sock;
  }
}

/** One request over a fresh TCP connection; resolves with the response whose id matches. */
export async function tcpExchange(server: Peer, req: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
  const conn = await TcpConnection.open(server, timeoutMs);
  try {
    conn.send(req);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const resp = await conn.read(Math.max(1, deadline - Date.now()));
      if (idOf(resp) === idOf(req)) return resp;
    }
  } finally {
    conn.close();
  }
}

interface Pending {
  readonly resolve: (m: Uint8Array) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * One TCP connection carrying many exchanges at once (RFC 7766 §6.2.1.1 pipelining): each answer
 * is matched to its request by message id, in whatever order the server sends them. Kept open
 * for reuse between exchanges; once the connection fails or closes, every exchange in flight
 * fails and `usable` is false (open a new one).
 */
export class PipelinedTcp {
  readonly #sock: Socket;
  readonly #reader = new FrameReader();
  readonly #pending = new Map<number, Pending>();
  #error: Error | undefined;

  private constructor(sock: Socket) {
    this.#sock = sock;
    sock.setNoDelay(true);
    sock.on('data', (chunk: Buffer) => {
      for (const m of this.#reader.push(chunk)) {
        if (m.length < 12) continue;
        const p = this.#pending.get(idOf(m));
        if (p === undefined) continue; // late answer to an exchange that timed out
        this.#pending.delete(idOf(m));
        clearTimeout(p.timer);
        p.resolve(m);
      }
    });
    sock.on('error', (err) => this.#fail(new NetError('TCP connection error', { cause: err })));
    sock.on('close', () => this.#fail(new NetError('TCP connection closed by peer')));
  }

  static async open(server: Peer, timeoutMs: number): Promise<PipelinedTcp> {
    const single = await TcpConnection.open(server, timeoutMs);
    return new PipelinedTcp(single.detach());
  }

  /** False once the connection failed or was closed. */
  get usable(): boolean {
    return this.#error === undefined && !this.#sock.destroyed;
  }

  /** A message id no exchange in flight uses. */
  freeId(): number {
    for (;;) {
      const id = randomInt(0, 0x10000);
      if (!this.#pending.has(id)) return id;
    }
  }

  /** Sends `req` (its id from `freeId`) and resolves with the answer carrying the same id. */
  exchange(req: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    const id = idOf(req);
    if (this.#pending.has(id)) return Promise.reject(new NetError(`message id ${id} is already in flight on this connection`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new TimeoutError(`no TCP answer in ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.#sock.write(frame(req));
    });
  }

  #fail(err: Error): void {
    if (this.#error !== undefined) return;
    this.#error = err;
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.#pending.clear();
  }

  close(): void {
    this.#fail(new NetError('TCP connection closed'));
    this.#sock.destroy();
  }
}
