// The in-process broker: same semantics as JetStream (redelivery after ack-wait, nak delay,
// max-deliver to dead letter, msgId de-duplication, KV revisions, CAS and watches, request/reply)
// but NOT DURABLE: everything lives in memory and is gone when the process exits.
// Brokers created on one EmbeddedHub share queues and buckets, like clients of one server.
import { BrokerClosedError, BrokerError, BucketNotFoundError, NoRespondersError, RequestTimeoutError } from './errors.ts';
import {
  DEFAULT_ACK_WAIT_MS,
  DEFAULT_BACKOFF_MS,
  DEFAULT_MAX_DELIVER,
  deliver,
  type RawDelivery,
} from './delivery.ts';
import { EmbeddedBucket, type BucketState } from './embedded-kv.ts';
import { Subjects, subjectMatches } from './subjects.ts';
import type {
  Broker,
  ConsumeOptions,
  Consumer,
  DeadLetter,
  KvBucket,
  KvOptions,
  Logger,
  PublishAck,
  PublishOptions,
  RequestHandler,
  Stoppable,
  WorkHandler,
} from './types.ts';

interface StoredMsg {
  readonly seq: number;
  readonly subject: string;
  readonly data: Uint8Array;
  readonly msgId?: string;
  readonly storedAt: number;
  deliveryCount: number;
  state: 'ready' | 'delayed' | 'inflight';
  /** Increments per delivery; a timer of an older delivery does nothing. */
  epoch: number;
  timer?: NodeJS.Timeout;
}

interface Sub {
  readonly filter: string;
  readonly capacity: number;
  running: number;
  /** Resolves when `running` next drops to 0 (set while someone waits for that). */
  idle?: () => void;
  stopped: boolean;
  run(m: StoredMsg): Promise<void>;
}

class QueueState {
  seq = 0;
  readonly msgs = new Map<number, StoredMsg>();
  readonly dedupe = new Map<string, { seq: number; at: number }>();
  readonly subs: Sub[] = [];
  /** Durable name → filter, kept after consumers stop (like JetStream durables). */
  readonly durables = new Map<string, string>();
  private rr = 0;
  private pumping = false;

  constructor(private readonly duplicateWindowMs: number) {}

  publish(subject: string, data: Uint8Array, msgId: string | undefined): PublishAck {
    const now = Date.now();
    if (msgId !== undefined) {
      for (const [id, d] of this.dedupe) {
        if (now - d.at <= this.duplicateWindowMs) break;
        this.dedupe.delete(id);
      }
      const seen = this.dedupe.get(msgId);
      if (seen !== undefined) return { seq: seen.seq, duplicate: true };
    }
    const seq = ++this.seq;
    if (msgId !== undefined) this.dedupe.set(msgId, { seq, at: now });
    const m: StoredMsg = {
      seq,
      subject,
      data: data.slice(),
      ...(msgId !== undefined ? { msgId } : {}),
      storedAt: now,
      deliveryCount: 0,
      state: 'ready',
      epoch: 0,
    };
    this.msgs.set(seq, m);
    this.schedulePump();
    return { seq, duplicate: false };
  }

  schedulePump(): void {
    if (this.pumping) return;
    this.pumping = true;
    setImmediate(() => {
      this.pumping = false;
      this.pump();
    });
  }

  private pump(): void {
    for (const m of this.msgs.values()) {
      if (m.state !== 'ready') continue;
      const n = this.subs.length;
      for (let i = 0; i < n; i++) {
        const sub = this.subs[(this.rr + i) % n];
        if (sub === undefined || sub.stopped || sub.running >= sub.capacity) continue;
        if (!subjectMatches(sub.filter, m.subject)) continue;
        this.rr = (this.rr + i + 1) % n;
        sub.running++;
        void sub.run(m).finally(() => {
          sub.running--;
          if (sub.running === 0) sub.idle?.();
          this.schedulePump();
        });
        break;
      }
    }
  }

  /** Every message on `filters` up to the result is settled (a settled message is removed). */
  settledFloor(filters: readonly string[]): number {
    for (const m of this.msgs.values()) {
      if (filters.some((f) => subjectMatches(f, m.subject))) return m.seq - 1;
    }
    return this.seq;
  }

  settle(m: StoredMsg): void {
    clearTimeout(m.timer);
    this.msgs.delete(m.seq);
  }

  later(m: StoredMsg, delayMs: number, state: 'ready' | 'delayed'): void {
    clearTimeout(m.timer);
    const epoch = m.epoch;
    if (state === 'ready' || delayMs <= 0) {
      m.state = 'ready';
      this.schedulePump();
      return;
    }
    m.state = 'delayed';
    m.timer = setTimeout(() => {
      if (m.epoch !== epoch || !this.msgs.has(m.seq)) return;
      m.state = 'ready';
      this.pump();
    }, delayMs);
    m.timer.unref();
  }
}

/** Shared in-memory state: the embedded "server". */
export class EmbeddedHub {
  readonly queues = new Map<string, QueueState>();
  readonly buckets = new Map<string, BucketState>();
  readonly responders = new Map<string, RequestHandler[]>();
  readonly deadLetters: { stream: string; id: string; record: DeadLetter }[] = [];
  private rr = 0;

  constructor(readonly duplicateWindowMs = 120_000) {}

  queue(stream: string): QueueState {
    let q = this.queues.get(stream);
    if (q === undefined) {
      q = new QueueState(this.duplicateWindowMs);
      this.queues.set(stream, q);
    }
    return q;
  }

  responder(subject: string): RequestHandler | undefined {
    const list = this.responders.get(subject);
    if (list === undefined || list.length === 0) return undefined;
    return list[this.rr++ % list.length];
  }
}

export interface EmbeddedBrokerOptions {
  namespace?: string;
  logger?: Logger;
  /** Share one hub between brokers to model several clients of one server. */
  hub?: EmbeddedHub;
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Creates an in-process broker (not durable). */
export function createEmbeddedBroker(opts: EmbeddedBrokerOptions = {}): Broker {
  return new EmbeddedBroker(opts.hub ?? new EmbeddedHub(), new Subjects(opts.namespace), opts.logger ?? silent);
}

class EmbeddedBroker implements Broker {
  private closed = false;
  private readonly open = new Set<Stoppable>();

  constructor(
    private readonly hub: EmbeddedHub,
    private readonly subjects: Subjects,
    private readonly logger: Logger,
  ) {}

  get namespace(): string {
    return this.subjects.namespace;
  }

  private live(): void {
    if (this.closed) throw new BrokerClosedError('broker is closed');
  }

  publish(subject: string, data: Uint8Array, opts: PublishOptions = {}): Promise<PublishAck> {
    this.live();
    const queue = this.subjects.queueOf(subject);
    return Promise.resolve(this.hub.queue(this.subjects.stream(queue)).publish(subject, data, opts.msgId));
  }

  consume(queue: string, handler: WorkHandler, opts: ConsumeOptions = {}): Promise<Consumer> {
    this.live();
    const q = this.hub.queue(this.subjects.stream(queue));
    const ackWaitMs = opts.ackWaitMs ?? DEFAULT_ACK_WAIT_MS;
    const policy = {
      queue,
      maxDeliver: opts.maxDeliver ?? DEFAULT_MAX_DELIVER,
      backoffMs: opts.backoffMs ?? DEFAULT_BACKOFF_MS,
      logger: this.logger,
      deadLetter: (record: DeadLetter, id: string) => this.writeDeadLetter(record, id),
    };
    const shards = opts.shards === undefined ? [undefined] : [...opts.shards];
    const subs: Sub[] = [];
    for (const shard of shards) {
      const durable = this.subjects.durable(queue, shard);
      const filter = this.subjects.workFilter(queue, shard);
      for (const [name, other] of q.durables) {
        if (name !== durable && (subjectMatches(other, filter.replace('>', 'x')) || subjectMatches(filter, other.replace('>', 'x')))) {
          return Promise.reject(new BrokerError(`consumer ${durable} overlaps ${name} on work queue ${queue}`));
        }
      }
      q.durables.set(durable, filter);
      const sub: Sub = {
        filter,
        capacity: opts.concurrency ?? 1,
        running: 0,
        stopped: false,
        run: (m) => deliver(this.raw(q, m, ackWaitMs), handler, policy),
      };
      subs.push(sub);
      q.subs.push(sub);
    }
    q.schedulePump();
    const handle: Consumer = {
      settledFloor: () => Promise.resolve(q.settledFloor(subs.map((s) => s.filter))),
      stop: async () => {
        for (const sub of subs) {
          sub.stopped = true;
          const i = q.subs.indexOf(sub);
          if (i >= 0) q.subs.splice(i, 1);
        }
        await Promise.all(
          subs.filter((s) => s.running > 0).map((s) => new Promise<void>((resolve) => (s.idle = resolve))),
        );
        this.open.delete(handle);
      },
    };
    this.open.add(handle);
    return Promise.resolve(handle);
  }

  private raw(q: QueueState, m: StoredMsg, ackWaitMs: number): RawDelivery {
    m.state = 'inflight';
    m.deliveryCount++;
    const epoch = ++m.epoch;
    const arm = (): void => {
      clearTimeout(m.timer);
      m.timer = setTimeout(() => {
        if (m.epoch === epoch && m.state === 'inflight') q.later(m, 0, 'ready');
      }, ackWaitMs);
      m.timer.unref();
    };
    arm();
    const current = (): boolean => m.epoch === epoch && m.state === 'inflight' && q.msgs.has(m.seq);
    return {
      subject: m.subject,
      data: m.data,
      deliveryCount: m.deliveryCount,
      ...(m.msgId !== undefined ? { msgId: m.msgId } : {}),
      seq: m.seq,
      storedAt: m.storedAt,
      ack: () => {
        if (q.msgs.has(m.seq)) q.settle(m);
        return Promise.resolve();
      },
      nak: (delayMs) => {
        if (current()) q.later(m, delayMs, 'delayed');
      },
      term: () => {
        if (q.msgs.has(m.seq)) q.settle(m);
        return Promise.resolve();
      },
      working: () => {
        if (current()) arm();
      },
    };
  }

  private writeDeadLetter(record: DeadLetter, id: string): Promise<void> {
    const stream = this.subjects.deadLetterStream();
    const key = `${record.queue}/${id}`;
    if (!this.hub.deadLetters.some((d) => d.stream === stream && d.id === key)) {
      this.hub.deadLetters.push({ stream, id: key, record });
    }
    return Promise.resolve();
  }

  deadLetters(queue?: string, limit = 100): Promise<DeadLetter[]> {
    const stream = this.subjects.deadLetterStream();
    return Promise.resolve(
      this.hub.deadLetters
        .filter((d) => d.stream === stream && (queue === undefined || d.record.queue === queue))
        .slice(0, limit)
        .map((d) => d.record),
    );
  }

  kv(bucket: string, opts: KvOptions = {}): Promise<KvBucket> {
    this.live();
    const name = this.subjects.bucket(bucket);
    let state = this.hub.buckets.get(name);
    if (state === undefined) {
      if (opts.create === false) return Promise.reject(new BucketNotFoundError(name));
      state = { revision: 0, entries: new Map(), watchers: new Set(), maxAgeMs: opts.maxAgeMs, sweptAt: 0 };
      this.hub.buckets.set(name, state);
    }
    return Promise.resolve(new EmbeddedBucket(name, state, this.logger, this.open));
  }

  async request(service: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    this.live();
    const handler = this.hub.responder(this.subjects.rpc(service));
    if (handler === undefined) throw new NoRespondersError(service);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RequestTimeoutError(service, timeoutMs)), timeoutMs);
    });
    const reply = (async () => {
      try {
        return (await handler(data.slice(), this.subjects.rpc(service))).slice();
      } catch (err) {
        this.logger.error({ service, err }, 'request handler failed; no reply sent');
        return new Promise<never>(() => {});
      }
    })();
    try {
      return await Promise.race([reply, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  respond(service: string, handler: RequestHandler): Promise<Stoppable> {
    this.live();
    const subject = this.subjects.rpc(service);
    const list = this.hub.responders.get(subject) ?? [];
    list.push(handler);
    this.hub.responders.set(subject, list);
    const handle: Stoppable = {
      stop: () => {
        const i = list.indexOf(handler);
        if (i >= 0) list.splice(i, 1);
        this.open.delete(handle);
        return Promise.resolve();
      },
    };
    this.open.add(handle);
    return Promise.resolve(handle);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.open].map((h) => h.stop()));
  }
}
