// The work message that carries one event to one machine of one zone through the broker.
// msgpackr map `{ zone, machineId, kind, event }`; `event` is `{ type, ... }`. The host stamps
// `at` (its clock, ms since the epoch) on the event when it is processed, unless present.
import { decode, encode } from '../broker/codec.ts';
import { BadWorkError } from './errors.ts';

export interface MachineEvent {
  readonly type: string;
  readonly [field: string]: unknown;
}

export interface ZoneWork {
  readonly zone: string;
  readonly machineId: string;
  /** Machine kind used when the machine does not exist yet (a persisted record's kind wins). */
  readonly kind: string;
  readonly event: MachineEvent;
}

export function encodeWork(w: ZoneWork): Uint8Array {
  return encode({ zone: w.zone, machineId: w.machineId, kind: w.kind, event: w.event });
}

/** Decodes a work message; throws CodecError or BadWorkError (both poison: termed, dead-lettered). */
export function decodeWork(bytes: Uint8Array): ZoneWork {
  const raw = decode(bytes);
  if (typeof raw !== 'object' || raw === null) throw new BadWorkError('work message is not a map');
  const { zone, machineId, kind, event } = raw as Record<string, unknown>;
  if (typeof zone !== 'string' || zone === '') throw new BadWorkError('work message lacks a zone');
  if (typeof machineId !== 'string' || machineId === '') throw new BadWorkError('work message lacks a machineId');
  if (typeof kind !== 'string' || kind === '') throw new BadWorkError('work message lacks a kind');
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new BadWorkError('work message lacks an event');
  }
  const type = (event as { type?: unknown }).type;
  if (typeof type !== 'string' || type === '') throw new BadWorkError('work event lacks a type');
  return { zone, machineId, kind, event: event as MachineEvent };
}
