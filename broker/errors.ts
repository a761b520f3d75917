// Named errors of the broker/ layer. Callers branch on these classes, never on message text.

/** Base class of every error the broker raises. */
export class BrokerError extends Error {
  override name = 'BrokerError';
}

/** A KV compare-and-set failed: the key is not at the expected revision. */
export class RevisionMismatchError extends BrokerError {
  override name = 'RevisionMismatchError';
  constructor(
    readonly key: string,
    readonly expectedRevision: number,
    options?: { cause?: unknown },
  ) {
    super(`key "${key}" is not at revision ${expectedRevision}`, options);
  }
}

/** A KV create found the key already present. */
export class KeyExistsError extends BrokerError {
  override name = 'KeyExistsError';
  constructor(
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(`key "${key}" already exists`, options);
  }
}

/** `kv(bucket, { create: false })` found no such bucket (nothing was created). */
export class BucketNotFoundError extends BrokerError {
  override name = 'BucketNotFoundError';
  constructor(
    readonly bucket: string,
    options?: { cause?: unknown },
  ) {
    super(`KV bucket "${bucket}" does not exist`, options);
  }
}

/** A request got no reply in time. */
export class RequestTimeoutError extends BrokerError {
  override name = 'RequestTimeoutError';
  constructor(
    readonly service: string,
    readonly timeoutMs: number,
    options?: { cause?: unknown },
  ) {
    super(`request to "${service}" timed out after ${timeoutMs} ms`, options);
  }
}

/** A request found nobody responding to the service. */
export class NoRespondersError extends BrokerError {
  override name = 'NoRespondersError';
  constructor(
    readonly service: string,
    options?: { cause?: unknown },
  ) {
    super(`no responders for "${service}"`, options);
  }
}

/** A subject, queue, bucket, key or namespace name that the broker cannot use. */
export class InvalidNameError extends BrokerError {
  override name = 'InvalidNameError';
  constructor(
    message: string,
    readonly input: string,
  ) {
    super(`${message}: "${input}"`);
  }
}

/**
 * Thrown by a work handler for a message that can never succeed: the consumer terms it and writes
 * one dead-letter record with this message as the reason, instead of retrying.
 */
export class PoisonMessageError extends BrokerError {
  override name = 'PoisonMessageError';
}

/** Bytes that do not decode as a msgpack value (codec.ts). A poison message. */
export class CodecError extends PoisonMessageError {
  override name = 'CodecError';
}

/** The server refused a publish or subscribe: the user lacks permission (deploy/nats). */
export class PermissionDeniedError extends BrokerError {
  override name = 'PermissionDeniedError';
}

/** The NATS server answered but runs without JetStream (nats-server without `-js`). */
export class JetStreamNotEnabledError extends BrokerError {
  override name = 'JetStreamNotEnabledError';
  constructor(
    readonly server: string,
    options?: { cause?: unknown },
  ) {
    super(`NATS at ${server} has no JetStream`, options);
  }
}

/** The broker was closed, or the connection failed in a way a retry will not fix. */
export class BrokerClosedError extends BrokerError {
  override name = 'BrokerClosedError';
}
