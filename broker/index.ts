// Public API of broker/: the Broker interface, its two implementations, subjects, shards, codec.
export type {
  Broker,
  ConsumeOptions,
  Consumer,
  DeadLetter,
  KvBucket,
  KvChange,
  KvEntry,
  KvOptions,
  Logger,
  PublishAck,
  PublishOptions,
  RequestHandler,
  ShardCoordinator,
  ShardEvent,
  ShardListener,
  Stoppable,
  WatchOptions,
  WorkHandler,
  WorkMessage,
} from './types.ts';
export {
  BrokerClosedError,
  BrokerError,
  BucketNotFoundError,
  CodecError,
  InvalidNameError,
  JetStreamNotEnabledError,
  KeyExistsError,
  NoRespondersError,
  PermissionDeniedError,
  PoisonMessageError,
  RequestTimeoutError,
  RevisionMismatchError,
} from './errors.ts';
export { decode, encode } from './codec.ts';
export {
  DEFAULT_NAMESPACE,
  Subjects,
  checkKey,
  checkName,
  checkService,
  fnv1a32,
  keyToken,
  normalizeKey,
  shardOf,
} from './subjects.ts';
export { createEmbeddedBroker, EmbeddedHub, type EmbeddedBrokerOptions } from './embedded.ts';
export { createJetStreamBroker, type JetStreamBrokerOptions } from './jetstream.ts';
export { createShardCoordinator, type ShardCoordinatorOptions } from './shards.ts';
