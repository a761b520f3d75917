// The broker interface: durable work queues, KV buckets with compare-and-set, request/reply.
// Two implementations share these semantics: JetStream (jetstream.ts) and in-process (embedded.ts).
// Nothing here knows about DNS: keys are opaque strings (a zone name in practice).

/** The subset of pino's API the broker logs through (a pino logger satisfies it). */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * Stops a consumer, subscription or watch; resolves when no handler will be called any more and
 * running handlers have returned (so a handler that never returns keeps `stop` waiting).
 */
export interface Stoppable {
  stop(): Promise<void>;
}

/** A running consumer (`Broker.consume`). */
export interface Consumer extends Stoppable {
  /**
   * The settled floor, from the server: every message of this consumer with `seq` at or below it
   * has been acked or termed (JetStream: the consumer's ack floor, the lowest over its shards).
   * It only grows, except that acks lost in a server crash can lower it (those messages come back).
   */
  settledFloor(): Promise<number>;
}

export interface PublishOptions {
  /** De-duplication id: a second publish with the same id within the duplicate window is dropped. */
  msgId?: string;
}

export interface PublishAck {
  /** Sequence of the message in its queue (1-based, per queue). */
  readonly seq: number;
  /** True when the broker dropped this publish as a duplicate of an earlier `msgId`. */
  readonly duplicate: boolean;
}

/** One delivery of a work message. Exactly one of ack / nak / term settles it; later calls are no-ops. */
export interface WorkMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  /** 1 on first delivery, incremented on every redelivery (nak or ack-wait expiry). */
  readonly deliveryCount: number;
  /**
   * The message's sequence in its queue (`PublishAck.seq`): the same on every delivery of it, and
   * never reused, so a handler can recognise a message it already applied.
   */
  readonly seq: number;
  /** When the broker stored the message, ms since the epoch (the broker's clock). */
  readonly storedAt: number;
  /** The publisher's de-duplication id, when it gave one. */
  readonly msgId?: string;
  /** Removes the message for good; resolves only once the broker confirmed it (JetStream ackAck). */
  ack(): Promise<void>;
  /** Redeliver later: after `delayMs`, or after the consumer's backoff for this delivery count. */
  nak(delayMs?: number): void;
  /** Never redeliver; writes one dead-letter record carrying `reason`, then removes the message. */
  term(reason: string): Promise<void>;
  /** Still working on it: restarts the ack-wait timer. */
  working(): void;
}

/**
 * Handles one delivery. If it returns without settling, the message is acked. If it throws a
 * `PoisonMessageError` (e.g. `CodecError` from codec.ts), the message is termed with the error's
 * message as reason; any other throw naks it with backoff.
 */
export type WorkHandler = (msg: WorkMessage) => Promise<void> | void;

export interface ConsumeOptions {
  /**
   * Shards of the queue to consume (one durable consumer per shard). Omitted: the whole queue
   * through one consumer. A queue is consumed either by shard or whole for its whole life: the
   * durable consumers outlive the process, and WorkQueue streams refuse overlapping ones.
   */
  shards?: readonly number[];
  /** Handler invocations per message before it is dead-lettered. Default 5. */
  maxDeliver?: number;
  /** Unsettled deliveries are redelivered after this long. Default 30 000. */
  ackWaitMs?: number;
  /** Delay of a `nak()` without argument, indexed by deliveryCount - 1 (last entry repeats). Default [1000]. */
  backoffMs?: readonly number[];
  /** Handlers running at once per consumer. Default 1 (in order per shard). */
  concurrency?: number;
}

/** A record of a message that was termed or ran out of deliveries. */
export interface DeadLetter {
  readonly queue: string;
  readonly subject: string;
  readonly data: Uint8Array;
  readonly reason: string;
  readonly deliveryCount: number;
  readonly msgId?: string;
  /** Milliseconds since the epoch when the record was written. */
  readonly time: number;
}

export interface KvEntry {
  readonly value: Uint8Array;
  readonly revision: number;
}

export interface KvChange {
  readonly key: string;
  readonly op: 'put' | 'delete';
  /** Undefined for a delete. */
  readonly value: Uint8Array | undefined;
  readonly revision: number;
}

export interface WatchOptions {
  /** Also deliver the current value of every matching key first. Default false (changes only). */
  initial?: boolean;
}

/**
 * A KV bucket. Keys are `[A-Za-z0-9_=/.-]+`, not starting or ending with `.`; `prefix` arguments are
 * plain string prefixes (fastest when they end at a `.`). Revisions increase per bucket.
 */
export interface KvBucket {
  readonly name: string;
  get(key: string): Promise<KvEntry | undefined>;
  /** Writes only if the key is absent (or deleted); throws `KeyExistsError` otherwise. */
  create(key: string, value: Uint8Array): Promise<number>;
  put(key: string, value: Uint8Array): Promise<number>;
  /** Compare-and-set: throws `RevisionMismatchError` unless the key's revision is `expectedRevision`. */
  update(key: string, value: Uint8Array, expectedRevision: number): Promise<number>;
  /** Deletes; with `revision`, only if the key is still at that revision (`RevisionMismatchError`). */
  delete(key: string, revision?: number): Promise<void>;
  keys(prefix?: string): Promise<string[]>;
  watch(
    prefix: string | undefined,
    callback: (change: KvChange) => void,
    opts?: WatchOptions,
  ): Promise<Stoppable>;
}

export interface KvOptions {
  /** Revisions kept per key, when the bucket is created. Default 1. */
  history?: number;
  /**
   * False: open an existing bucket only; a missing one throws `BucketNotFoundError` and nothing
   * is created (read-only tools such as `mpdns ctl`). Default true: created when missing.
   */
  create?: boolean;
  /**
   * Entries older than this (ms since written) are removed, when the bucket is created
   * (JetStream max age). Replay records use it; entries never expire when omitted.
   */
  maxAgeMs?: number;
}

export type RequestHandler = (data: Uint8Array, subject: string) => Promise<Uint8Array> | Uint8Array;

/**
 * One provider's view of the broker. Every subject and bucket lives under the provider's namespace
 * (see subjects.ts), so several providers can share one server.
 */
export interface Broker {
  readonly namespace: string;
  /** Durable publish to a work subject built by `Subjects.work`; resolves once stored. */
  publish(subject: string, data: Uint8Array, opts?: PublishOptions): Promise<PublishAck>;
  consume(queue: string, handler: WorkHandler, opts?: ConsumeOptions): Promise<Consumer>;
  /** Dead-letter records of `queue` (all queues when omitted), oldest first, at most `limit`. */
  deadLetters(queue?: string, limit?: number): Promise<DeadLetter[]>;
  kv(bucket: string, opts?: KvOptions): Promise<KvBucket>;
  /** Request/reply on `<ns>.rpc.<service>`; throws `RequestTimeoutError` / `NoRespondersError`. */
  request(service: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  /** Answers requests to `service`; replicas responding to the same service share the load. */
  respond(service: string, handler: RequestHandler): Promise<Stoppable>;
  /** Stops every consumer and closes the connection. */
  close(): Promise<void>;
}

export type ShardEvent = 'acquired' | 'lost';
export type ShardListener = (shard: number) => Promise<void> | void;

/**
 * Holds shard leases for one replica of a group (shards.ts). `acquired` fires after the lease is
 * held; `lost` fires before it is released or when it was taken over or could not be renewed.
 * Listeners run one at a time, in event order, and are awaited.
 */
export interface ShardCoordinator {
  readonly replicaId: string;
  readonly shardCount: number;
  owned(): ReadonlySet<number>;
  on(event: ShardEvent, listener: ShardListener): () => void;
  start(): Promise<void>;
  /** Emits `lost` for every held shard, releases the leases and stops heartbeating. */
  stop(): Promise<void>;
}
