// Public API of actors/: the actor host, its logger, inspector, keys and records.
export { ActorHost, listZoneMachines } from './host.ts';
export type { ActorHostOptions, HostHooks, HostStats, MachineKind, MachineView } from './host.ts';
export { DeadlineWheel, deadlinesOf } from './deadlines.ts';
export type { DeadlineEvent } from './deadlines.ts';
export {
  ActorHostError,
  BadWorkError,
  HostStoppedError,
  OwnershipLostError,
  RecordError,
  ShardNotHeldError,
  UnknownMachineKindError,
} from './errors.ts';
export { Residents } from './evict.ts';
export type { EvictionPolicy } from './evict.ts';
export { createHostInspector, DEFAULT_INSPECT_URL, parseInspectFlag } from './inspect.ts';
export type { HostInspector } from './inspect.ts';
export { canonicalZone, machineKey, parseMachineKey, zoneKeyPrefix } from './keys.ts';
export { componentLogger, logLevelFromEnv, rootLogger } from './logger.ts';
export type { LogFields, Logger } from './logger.ts';
export { Mailboxes } from './mailbox.ts';
export { decodeRecord, encodeRecord, RECORD_VERSION } from './record.ts';
export type { PersistedMachine } from './record.ts';
export { decodeWork, encodeWork } from './work.ts';
export type { MachineEvent, ZoneWork } from './work.ts';
