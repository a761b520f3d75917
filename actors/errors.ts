// Named errors of the actor host. Callers branch on these classes, never on message text.
import { PoisonMessageError } from '../broker/errors.ts';

/** Base class of every error the actor host raises. */
export class ActorHostError extends Error {
  override name = 'ActorHostError';
}

/** A persisted record or work message names a machine kind this host was not given. */
export class UnknownMachineKindError extends ActorHostError {
  override name = 'UnknownMachineKindError';
  constructor(
    readonly kind: string,
    options?: { cause?: unknown },
  ) {
    super(`unknown machine kind "${kind}"`, options);
  }
}

/** A KV record of a machine that does not have the persisted-machine shape. */
export class RecordError extends ActorHostError {
  override name = 'RecordError';
  constructor(
    message: string,
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(`${message} (key "${key}")`, options);
  }
}

/**
 * The snapshot in KV moved on under us (compare-and-set failed): another replica owns the zone now.
 * The actor is dropped without persisting and the work is left unacked for the new owner.
 */
export class OwnershipLostError extends ActorHostError {
  override name = 'OwnershipLostError';
  constructor(
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(`snapshot of "${key}" changed under this host: zone owned elsewhere`, options);
  }
}

/** A zone arrived whose shard this host does not hold (it was lost, or never acquired). */
export class ShardNotHeldError extends ActorHostError {
  override name = 'ShardNotHeldError';
  constructor(
    readonly zone: string,
    readonly shard: number,
  ) {
    super(`shard ${shard} of zone "${zone}" is not held by this host`);
  }
}

/** A work message that can never be delivered to a machine (bad envelope, unknown kind). Termed. */
export class BadWorkError extends PoisonMessageError {
  override name = 'BadWorkError';
}

/** The host is stopping or stopped. */
export class HostStoppedError extends ActorHostError {
  override name = 'HostStoppedError';
}
