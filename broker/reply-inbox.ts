// Request/reply for the hot path of the JetStream broker (work publish, KV write, confirmed ack):
// one wildcard subscription on our own inbox, one map of pending requests and one sweep timer for
// all their deadlines. nats.js's `request` and `ackAck` build, per request, a random token, a
// timer, two deferreds and an Error with a stack trace (even on success, when it cancels the
// request); at three requests per work round trip that was a fifth of the host's CPU.
import {
  NoRespondersError as NatsNoResponders,
  createInbox,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type PermissionViolationError,
  type Subscription,
} from '@nats-io/transport-node';
import { BrokerClosedError, RequestTimeoutError } from './errors.ts';

class Pending {
  constructor(
    readonly subject: string,
    readonly data: Uint8Array,
    readonly headers: MsgHdrs | undefined,
    readonly reply: string,
    readonly deadline: number,
    readonly timeoutMs: number,
    readonly resolve: (m: Msg) => void,
    readonly reject: (err: Error) => void,
  ) {}
}

/** How often deadlines are checked: a request times out up to this much late. */
const SWEEP_MS = 100;

export class ReplyInbox {
  readonly #nc: NatsConnection;
  /** `<inbox>.`: a reply subject is this plus a decimal token. */
  readonly #prefix: string;
  readonly #sub: Subscription;
  readonly #pending = new Map<string, Pending>();
  #next = 0;
  /** Requests made during this turn of the event loop, published together at its end. */
  #outbox: Pending[] = [];
  #flushScheduled = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  /** Subscribes `<inboxPrefix>.<nuid>.*` (deploy/nats grants each role its own inbox prefix). */
  constructor(nc: NatsConnection, inboxPrefix: string | undefined) {
    this.#nc = nc;
    const base = createInbox(inboxPrefix);
    this.#prefix = `${base}.`;
    this.#sub = nc.subscribe(`${base}.*`, { callback: (err, msg) => this.#onReply(err, msg) });
  }

  /**
   * Publishes `data` with a reply subject; resolves with the reply, rejects on timeout or 503.
   * Requests are published in order at the end of the current turn of the event loop
   * (setImmediate), so the many requests one batch of incoming messages causes leave in one
   * socket write instead of one write per microtask flush.
   */
  request(subject: string, data: Uint8Array, headers: MsgHdrs | undefined, timeoutMs: number): Promise<Msg> {
    if (this.#closed) return Promise.reject(new BrokerClosedError('broker is closed'));
    const token = String(this.#next++);
    return new Promise<Msg>((resolve, reject) => {
      const p = new Pending(subject, data, headers, this.#prefix + token, Date.now() + timeoutMs, timeoutMs, resolve, reject);
      this.#pending.set(token, p);
      this.#outbox.push(p);
      this.#timer ??= setInterval(() => this.#sweep(), SWEEP_MS);
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    const out = this.#outbox;
    this.#outbox = [];
    for (const p of out) {
      try {
        this.#nc.publish(p.subject, p.data, p.headers !== undefined ? { reply: p.reply, headers: p.headers } : { reply: p.reply });
      } catch (err) {
        this.#pending.delete(p.reply.slice(this.#prefix.length));
        p.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
  }

  /** The server refused a publish to `subject`: fails the oldest request to it, as nats.js does. */
  permissionDenied(err: PermissionViolationError): void {
    if (err.operation !== 'publish') return;
    for (const [token, p] of this.#pending) {
      if (p.subject !== err.subject) continue;
      this.#pending.delete(token);
      p.reject(err);
      return;
    }
  }

  /** Fails every pending request and stops the timer; the subscription ends with the connection. */
  close(): void {
    this.#closed = true;
    this.#outbox = [];
    this.#stopTimer();
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(new BrokerClosedError('broker is closed'));
    this.#sub.unsubscribe();
  }

  #onReply(err: Error | null, msg: Msg): void {
    if (err !== null) {
      // The inbox subscription itself failed (e.g. not permitted): nothing can be answered.
      const pending = [...this.#pending.values()];
      this.#pending.clear();
      for (const p of pending) p.reject(err);
      return;
    }
    const token = msg.subject.slice(this.#prefix.length);
    const p = this.#pending.get(token);
    if (p === undefined) return; // timed out meanwhile
    this.#pending.delete(token);
    if (msg.data.length === 0 && msg.headers?.code === 503) p.reject(new NatsNoResponders(p.subject));
    else p.resolve(msg);
  }

  #sweep(): void {
    const now = Date.now();
    for (const [token, p] of this.#pending) {
      if (p.deadline > now) continue;
      this.#pending.delete(token);
      p.reject(new RequestTimeoutError(p.subject, p.timeoutMs));
    }
    if (this.#pending.size === 0) this.#stopTimer();
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
