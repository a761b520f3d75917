// The broker on NATS JetStream (nats-server 2.9+). Durable: work survives restarts of the server
// and of every client. Streams and consumers are created or updated idempotently on first use.
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type ConsumerConfig,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type StreamConfig,
} from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import {
  NoRespondersError as NatsNoResponders,
  PermissionViolationError,
  RequestError,
  TimeoutError,
  connect,
  headers,
  nanos,
  nuid,
  type NatsConnection,
  type Status,
} from '@nats-io/transport-node';
import {
  DEFAULT_ACK_WAIT_MS,
  DEFAULT_BACKOFF_MS,
  DEFAULT_MAX_DELIVER,
  deliver,
  type DeliveryPolicy,
  type RawDelivery,
} from './delivery.ts';
import {
  BrokerClosedError,
  BrokerError,
  BucketNotFoundError,
  JetStreamNotEnabledError,
  NoRespondersError,
  PermissionDeniedError,
  RequestTimeoutError,
} from './errors.ts';
import { JetStreamBucket, plain } from './jetstream-kv.ts';
import { MSG_ID_HEADER, pubAckOf } from './pub-ack.ts';
import { ReplyInbox } from './reply-inbox.ts';
import { Subjects } from './subjects.ts';
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

export interface JetStreamBrokerOptions {
  /** NATS URL(s), e.g. `nats://127.0.0.1:4222`. */
  servers: string | string[];
  namespace?: string;
  logger?: Logger;
  user?: string;
  pass?: string;
  /** Prefix of reply inboxes; deploy/nats grants role R only `_INBOX_R.>`. Default `_INBOX`. */
  inboxPrefix?: string;
  /** Connection name shown by the server. */
  name?: string;
  /** Publish de-duplication window of the work streams. Default 120 000 ms. */
  duplicateWindowMs?: number;
  /** How long `publish` retries (same msgId) through a disconnect. Default 15 000 ms. */
  publishTimeoutMs?: number;
  /** Dead-letter records older than this are dropped by the server. Default 14 days. */
  deadLetterMaxAgeMs?: number;
  /** Reconnect backoff: doubles from `min` up to `max`. Defaults 100 and 2000 ms. */
  reconnectBackoffMs?: { min: number; max: number };
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const H_REASON = 'Mpdns-Reason';
const H_SUBJECT = 'Mpdns-Subject';
const H_QUEUE = 'Mpdns-Queue';
const H_DELIVERIES = 'Mpdns-Deliveries';
const H_MSGID = 'Mpdns-Msg-Id';
const H_TIME = 'Mpdns-Time';

/** The permission violation behind `err` (nats.js puts it in `cause`), if any. */
function permissionViolation(err: unknown): PermissionViolationError | undefined {
  for (let e = err, i = 0; e instanceof Error && i < 5; e = e.cause, i++) {
    if (e instanceof PermissionViolationError) return e;
  }
  return undefined;
}

/** Prefix of the msgIds `publish` makes up; they are not shown to handlers. */
const AUTO_MSG_ID = 'mpdns-auto-';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** JetStream's acknowledgement payload. */
const ACK = Uint8Array.of(0x2b, 0x41, 0x43, 0x4b); // "+ACK"
/** How long a confirmed ack waits for the server (nats.js's JetStream default). */
const ACK_TIMEOUT_MS = 5000;
/** How long one publish attempt waits for its PubAck. */
const PUBLISH_ATTEMPT_MS = 2000;

/** The reply subject of a delivered message (nats.js has it on JsMsgImpl, not on JsMsg). */
function replyOf(m: JsMsg): string | undefined {
  const reply = (m as { reply?: unknown }).reply;
  return typeof reply === 'string' && reply !== '' ? reply : undefined;
}

/** One JetStream delivery as delivery.ts sees it; a class, so there are no closures per message. */
class JsDelivery implements RawDelivery {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly deliveryCount: number;
  readonly msgId?: string;
  readonly seq: number;
  readonly storedAt: number;

  constructor(
    private readonly m: JsMsg,
    private readonly nc: NatsConnection,
    private readonly inbox: ReplyInbox,
  ) {
    const msgId = m.headers?.get('Nats-Msg-Id');
    this.subject = m.subject;
    this.data = plain(m.data);
    this.deliveryCount = m.info.deliveryCount;
    if (msgId !== undefined && msgId !== '' && !msgId.startsWith(AUTO_MSG_ID)) this.msgId = msgId;
    this.seq = m.seq;
    this.storedAt = Math.floor(m.info.timestampNanos / 1e6);
  }

  /** Resolves once the server confirmed the ack (an ack request on the shared reply inbox). */
  async ack(): Promise<void> {
    const reply = replyOf(this.m);
    if (reply === undefined) {
      if (!(await this.m.ackAck())) throw new BrokerError(`ack of ${this.subject} not confirmed`);
      return;
    }
    await this.inbox.request(reply, ACK, undefined, ACK_TIMEOUT_MS);
  }

  nak(delayMs: number): void {
    this.m.nak(delayMs);
  }

  async term(): Promise<void> {
    this.m.term();
    // Flush so the term reaches the server before we report the message as settled.
    await this.nc.flush();
  }

  working(): void {
    this.m.working();
  }
}

/** Connects and returns a JetStream broker; retries the first connect until the server is up. */
export async function createJetStreamBroker(opts: JetStreamBrokerOptions): Promise<Broker> {
  const logger = opts.logger ?? silent;
  const { min, max } = opts.reconnectBackoffMs ?? { min: 100, max: 2000 };
  let attempt = 0;
  const nc = await connect({
    servers: opts.servers,
    ...(opts.user !== undefined ? { user: opts.user } : {}),
    ...(opts.pass !== undefined ? { pass: opts.pass } : {}),
    ...(opts.inboxPrefix !== undefined ? { inboxPrefix: opts.inboxPrefix } : {}),
    name: opts.name ?? `mpdns-${opts.namespace ?? 'mpdns'}`,
    maxReconnectAttempts: -1,
    waitOnFirstConnect: true,
    // nats.js otherwise builds two Errors with stack traces per request (~14% of the CPU of a
    // work round trip); a failed request still carries its own stack.
    noAsyncTraces: true,
    reconnectDelayHandler: () => Math.min(max, min * 2 ** attempt++),
  });
  let jsm: JetStreamManager;
  try {
    jsm = await jetstreamManager(nc);
  } catch (err) {
    const server = nc.getServer();
    await nc.close();
    // nats.js exports its JetStreamNotEnabled class only from its internal module.
    if (err instanceof Error && err.name === 'JetStreamNotEnabled') throw new JetStreamNotEnabledError(server, { cause: err });
    throw err;
  }
  const broker = new JetStreamBroker(nc, jsm, jetstream(nc), new Subjects(opts.namespace), logger, opts);
  broker.watchStatus(() => (attempt = 0));
  logger.info({ server: nc.getServer(), namespace: broker.namespace }, 'connected to NATS');
  return broker;
}

class JetStreamBroker implements Broker {
  private closed = false;
  private readonly open = new Set<Stoppable>();
  private readonly streams = new Map<string, Promise<void>>();
  private readonly duplicateWindowMs: number;
  private readonly publishTimeoutMs: number;
  /** Hot-path requests: work publish, KV writes, confirmed acks. */
  private readonly inbox: ReplyInbox;

  constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
    private readonly subjects: Subjects,
    private readonly logger: Logger,
    private readonly opts: JetStreamBrokerOptions,
  ) {
    this.duplicateWindowMs = opts.duplicateWindowMs ?? 120_000;
    this.publishTimeoutMs = opts.publishTimeoutMs ?? 15_000;
    this.inbox = new ReplyInbox(nc, opts.inboxPrefix);
  }

  get namespace(): string {
    return this.subjects.namespace;
  }

  watchStatus(onReconnect: () => void): void {
    void (async () => {
      for await (const s of this.nc.status()) this.logStatus(s, onReconnect);
    })();
  }

  private logStatus(s: Status, onReconnect: () => void): void {
    switch (s.type) {
      case 'disconnect':
        this.logger.warn({ server: s.server }, 'NATS connection lost; reconnecting with backoff');
        return;
      case 'reconnect':
        onReconnect();
        this.logger.info({ server: s.server }, 'NATS connection restored');
        return;
      case 'reconnecting':
        this.logger.debug({}, 'NATS reconnecting');
        return;
      case 'error':
        if (s.error instanceof PermissionViolationError) this.inbox.permissionDenied(s.error);
        this.logger.error({ err: s.error }, 'NATS error');
        return;
      case 'close':
        this.logger.info({}, 'NATS connection closed');
        return;
      case 'staleConnection':
      case 'slowConsumer':
      case 'ldm':
      case 'update':
      case 'ping':
      case 'forceReconnect':
        this.logger.debug({ status: s.type }, 'NATS status');
        return;
      default: {
        const never: never = s;
        this.logger.debug({ status: never }, 'NATS status');
      }
    }
  }

  private live(): void {
    if (this.closed) throw new BrokerClosedError('broker is closed');
  }

  /** Creates or updates a stream so its config matches `cfg` (idempotent, safe to race). */
  private async ensureStreamConfig(cfg: Partial<StreamConfig> & { name: string }): Promise<void> {
    try {
      const info = await this.jsm.streams.info(cfg.name);
      const c = info.config;
      const same =
        JSON.stringify(c.subjects) === JSON.stringify(cfg.subjects) &&
        c.duplicate_window === cfg.duplicate_window &&
        (cfg.max_age === undefined || c.max_age === cfg.max_age);
      if (!same) await this.jsm.streams.update(cfg.name, { ...c, ...cfg });
    } catch (err) {
      if (!(err instanceof JetStreamApiError) || err.status !== 404) throw err;
      try {
        await this.jsm.streams.add(cfg);
      } catch (addErr) {
        // Another client created it in between with the same config: fine.
        const exists = await this.jsm.streams.info(cfg.name).then(() => true, () => false);
        if (!exists) throw addErr;
      }
    }
  }

  private ensureQueue(queue: string): Promise<void> {
    const stream = this.subjects.stream(queue);
    let p = this.streams.get(stream);
    if (p === undefined) {
      p = this.ensureStreamConfig({
        name: stream,
        subjects: [this.subjects.workFilter(queue)],
        retention: RetentionPolicy.Workqueue,
        storage: StorageType.File,
        discard: DiscardPolicy.New,
        duplicate_window: nanos(this.duplicateWindowMs),
      });
      this.streams.set(stream, p);
      p.catch(() => this.streams.delete(stream));
    }
    return p;
  }

  private ensureDeadLetters(): Promise<void> {
    const stream = this.subjects.deadLetterStream();
    let p = this.streams.get(stream);
    if (p === undefined) {
      p = this.ensureStreamConfig({
        name: stream,
        subjects: [`${this.namespace}.dlq.>`],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        max_age: nanos(this.opts.deadLetterMaxAgeMs ?? 14 * 86_400_000),
        duplicate_window: nanos(this.duplicateWindowMs),
      });
      this.streams.set(stream, p);
      p.catch(() => this.streams.delete(stream));
    }
    return p;
  }

  async publish(subject: string, data: Uint8Array, opts: PublishOptions = {}): Promise<PublishAck> {
    this.live();
    const queue = this.subjects.queueOf(subject);
    // Always carry a msgId so our own retries through a disconnect cannot duplicate the message.
    const msgID = opts.msgId ?? `${AUTO_MSG_ID}${nuid.next()}`;
    const deadline = Date.now() + this.publishTimeoutMs;
    const h = headers();
    h.set(MSG_ID_HEADER, msgID);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.ensureQueue(queue);
        return pubAckOf(await this.inbox.request(subject, data, h, PUBLISH_ATTEMPT_MS));
      } catch (err) {
        const denied = permissionViolation(err);
        if (denied !== undefined) throw new PermissionDeniedError(denied.message, { cause: err });
        if (this.closed || Date.now() > deadline) throw err;
        this.logger.debug({ subject, attempt, err }, 'publish failed, retrying');
        this.streams.delete(this.subjects.stream(queue));
        await sleep(Math.min(1000, 50 * 2 ** attempt));
      }
    }
  }

  private async ensureConsumer(stream: string, cfg: Partial<ConsumerConfig> & { durable_name: string }): Promise<void> {
    try {
      const info = await this.jsm.consumers.info(stream, cfg.durable_name);
      const c = info.config;
      if (c.ack_wait !== cfg.ack_wait || c.max_deliver !== cfg.max_deliver || c.max_ack_pending !== cfg.max_ack_pending) {
        await this.jsm.consumers.update(stream, cfg.durable_name, {
          ...(cfg.ack_wait !== undefined ? { ack_wait: cfg.ack_wait } : {}),
          ...(cfg.max_deliver !== undefined ? { max_deliver: cfg.max_deliver } : {}),
          ...(cfg.max_ack_pending !== undefined ? { max_ack_pending: cfg.max_ack_pending } : {}),
        });
      }
    } catch (err) {
      if (!(err instanceof JetStreamApiError) || err.status !== 404) throw err;
      await this.jsm.consumers.add(stream, cfg);
    }
  }

  async consume(queue: string, handler: WorkHandler, opts: ConsumeOptions = {}): Promise<Consumer> {
    this.live();
    await this.ensureQueue(queue);
    await this.ensureDeadLetters();
    const stream = this.subjects.stream(queue);
    const concurrency = Math.max(1, opts.concurrency ?? 1);
    const maxDeliver = opts.maxDeliver ?? DEFAULT_MAX_DELIVER;
    const policy: DeliveryPolicy = {
      queue,
      maxDeliver,
      backoffMs: opts.backoffMs ?? DEFAULT_BACKOFF_MS,
      logger: this.logger,
      deadLetter: (record, id) => this.writeDeadLetter(record, `${stream}.${id}`),
    };
    const shards = opts.shards === undefined ? [undefined] : [...opts.shards];
    const loops: { stop(): Promise<void> }[] = [];
    const durables: string[] = [];
    try {
      for (const shard of shards) {
        const durable = this.subjects.durable(queue, shard);
        await this.ensureConsumer(stream, {
          durable_name: durable,
          filter_subject: this.subjects.workFilter(queue, shard),
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.All,
          ack_wait: nanos(opts.ackWaitMs ?? DEFAULT_ACK_WAIT_MS),
          // One more than the handler may see: the extra delivery writes the dead letter.
          max_deliver: maxDeliver + 1,
          max_ack_pending: Math.max(1000, concurrency),
        });
        loops.push(await this.consumeLoop(stream, durable, handler, policy, concurrency));
        durables.push(durable);
      }
    } catch (err) {
      await Promise.all(loops.map((l) => l.stop()));
      throw err;
    }
    const handle: Consumer = {
      stop: async () => {
        await Promise.all(loops.map((l) => l.stop()));
        this.open.delete(handle);
      },
      settledFloor: async () => {
        const infos = await Promise.all(durables.map((d) => this.jsm.consumers.info(stream, d)));
        return Math.min(...infos.map((i) => i.ack_floor.stream_seq));
      },
    };
    this.open.add(handle);
    return handle;
  }

  private async consumeLoop(
    stream: string,
    durable: string,
    handler: WorkHandler,
    policy: DeliveryPolicy,
    concurrency: number,
  ): Promise<{ stop(): Promise<void> }> {
    // nats.js ends (or throws out of) a consume iterator in some server faults, e.g. when the
    // consumer is briefly missing while a restarted server recovers its store. The loop then
    // opens a new one, with backoff, until stopped: a consumer never dies silently.
    let stopped = false;
    let messages = await (await this.js.consumers.get(stream, durable)).consume({ max_messages: concurrency });
    const active = new Set<Promise<void>>();
    const done = (async () => {
      for (let attempt = 0; !stopped; ) {
        try {
          for await (const m of messages) {
            attempt = 0;
            const p = deliver(this.raw(m), handler, policy).finally(() => active.delete(p));
            active.add(p);
            if (active.size >= concurrency) await Promise.race(active);
          }
        } catch (err) {
          if (!stopped) this.logger.warn({ stream, durable, err }, 'consumer failed; opening it again');
        }
        if (stopped) break;
        this.logger.warn({ stream, durable }, 'consumer ended; opening it again');
        await sleep(Math.min(2000, 100 * 2 ** attempt++));
        try {
          // Pull no more than we can work on, so buffered messages do not age past ack-wait.
          if (!stopped) messages = await (await this.js.consumers.get(stream, durable)).consume({ max_messages: concurrency });
        } catch (err) {
          this.logger.warn({ stream, durable, err }, 'consumer not reopened yet');
        }
      }
      await Promise.all(active);
    })();
    return {
      stop: async () => {
        stopped = true;
        await messages.close();
        await done;
      },
    };
  }

  private raw(m: JsMsg): RawDelivery {
    return new JsDelivery(m, this.nc, this.inbox);
  }

  private async writeDeadLetter(record: DeadLetter, id: string): Promise<void> {
    await this.ensureDeadLetters();
    const h = headers();
    h.set(H_REASON, record.reason);
    h.set(H_SUBJECT, record.subject);
    h.set(H_QUEUE, record.queue);
    h.set(H_DELIVERIES, String(record.deliveryCount));
    h.set(H_TIME, String(record.time));
    if (record.msgId !== undefined) h.set(H_MSGID, record.msgId);
    await this.js.publish(this.subjects.deadLetterSubject(record.queue), record.data, {
      msgID: `dl.${id}`,
      headers: h,
    });
  }

  async deadLetters(queue?: string, limit = 100): Promise<DeadLetter[]> {
    this.live();
    await this.ensureDeadLetters();
    const stream = this.subjects.deadLetterStream();
    const info = await this.jsm.streams.info(stream);
    const out: DeadLetter[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && out.length < limit; seq++) {
      const sm = await this.jsm.streams.getMessage(stream, { seq }).catch(() => null);
      if (sm === null) continue;
      const h = sm.header;
      const q = h.get(H_QUEUE);
      if (queue !== undefined && q !== queue) continue;
      const msgId = h.get(H_MSGID);
      out.push({
        queue: q,
        subject: h.get(H_SUBJECT),
        data: plain(sm.data),
        reason: h.get(H_REASON),
        deliveryCount: Number(h.get(H_DELIVERIES)),
        ...(msgId !== '' ? { msgId } : {}),
        time: Number(h.get(H_TIME)),
      });
    }
    return out;
  }

  async kv(bucket: string, opts: KvOptions = {}): Promise<KvBucket> {
    this.live();
    const name = this.subjects.bucket(bucket);
    const kvm = new Kvm(this.js);
    let kv;
    try {
      kv = await kvm.open(name);
      await kv.status();
    } catch (openErr) {
      if (opts.create === false) {
        const denied = permissionViolation(openErr);
        if (denied !== undefined) throw new PermissionDeniedError(denied.message, { cause: openErr });
        if (openErr instanceof JetStreamApiError && openErr.code === JetStreamApiCodes.StreamNotFound) {
          throw new BucketNotFoundError(name, { cause: openErr });
        }
        throw openErr;
      }
      try {
        kv = await kvm.create(name, { history: opts.history ?? 1, ...(opts.maxAgeMs !== undefined ? { ttl: opts.maxAgeMs } : {}) });
      } catch (err) {
        const denied = permissionViolation(err) ?? permissionViolation(openErr);
        if (denied !== undefined) throw new PermissionDeniedError(denied.message, { cause: err });
        throw err;
      }
    }
    return new JetStreamBucket(name, kv, this.logger, this.open, this.inbox);
  }

  async request(service: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    this.live();
    try {
      const reply = await this.nc.request(this.subjects.rpc(service), data, { timeout: timeoutMs });
      return plain(reply.data);
    } catch (err) {
      const denied = permissionViolation(err);
      if (denied !== undefined) throw new PermissionDeniedError(denied.message, { cause: err });
      if (err instanceof TimeoutError) throw new RequestTimeoutError(service, timeoutMs, { cause: err });
      if (err instanceof NatsNoResponders || (err instanceof RequestError && err.isNoResponders())) {
        throw new NoRespondersError(service, { cause: err });
      }
      throw err;
    }
  }

  async respond(service: string, handler: RequestHandler): Promise<Stoppable> {
    this.live();
    const subject = this.subjects.rpc(service);
    const sub = this.nc.subscribe(subject, {
      queue: 'mpdns',
      callback: (err, msg) => {
        if (err !== null) {
          this.logger.error({ service, err }, 'request subscription failed');
          return;
        }
        void (async () => {
          try {
            msg.respond(await handler(plain(msg.data), msg.subject));
          } catch (herr) {
            this.logger.error({ service, err: herr }, 'request handler failed; no reply sent');
          }
        })();
      },
    });
    await this.nc.flush();
    const handle: Stoppable = {
      stop: async () => {
        await sub.drain();
        this.open.delete(handle);
      },
    };
    this.open.add(handle);
    return handle;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.open].map((h) => h.stop().catch(() => undefined)));
    this.inbox.close();
    await this.nc.drain().catch(() => this.nc.close());
  }
}
