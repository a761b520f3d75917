// The KV value of one persisted machine: which machine it is, XState's persisted snapshot, and
// its pending deadlines (copied out of context so readers need not know the machine).
import { decode, encode } from '../broker/codec.ts';
import { appliedOf, type Applied } from './applied.ts';
import { RecordError } from './errors.ts';

export const RECORD_VERSION = 1;

export interface PersistedMachine {
  readonly v: typeof RECORD_VERSION;
  /** Machine kind, as registered with the host (`sequenced-counter`, `peer-handshake`, ...). */
  readonly kind: string;
  /** Zone, absolute and lower case. */
  readonly zone: string;
  readonly machineId: string;
  /** `actor.getPersistedSnapshot()`: value, context, status, children, historyValue. */
  readonly snapshot: unknown;
  /** Pending deadlines, absolute ms since the epoch (`context.deadlines`). */
  readonly deadlines: Record<string, number>;
  /** Host clock when the record was written, ms since the epoch. */
  readonly updatedAt: number;
  /** Replica that wrote it. */
  readonly writer: string;
  /** Work messages applied (applied.ts), for exactly-once in effect; absent: none. */
  readonly applied?: Applied;
}

export function encodeRecord(r: PersistedMachine): Uint8Array {
  return encode(r);
}

function isRecordOfNumbers(v: unknown): v is Record<string, number> {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    Object.values(v).every((x) => typeof x === 'number')
  );
}

/** Decodes and checks a KV value; throws RecordError (with the CodecError as cause) otherwise. */
export function decodeRecord(key: string, bytes: Uint8Array): PersistedMachine {
  let raw: unknown;
  try {
    raw = decode(bytes);
  } catch (err) {
    throw new RecordError('undecodable machine record', key, { cause: err });
  }
  if (typeof raw !== 'object' || raw === null) throw new RecordError('machine record is not a map', key);
  const r = raw as Record<string, unknown>;
  if (r['v'] !== RECORD_VERSION) throw new RecordError(`unsupported record version ${String(r['v'])}`, key);
  const { kind, zone, machineId, snapshot, deadlines, updatedAt, writer, applied } = r;
  if (typeof kind !== 'string' || typeof zone !== 'string' || typeof machineId !== 'string') {
    throw new RecordError('machine record lacks kind, zone or machineId', key);
  }
  if (typeof snapshot !== 'object' || snapshot === null) throw new RecordError('machine record lacks a snapshot', key);
  if (!isRecordOfNumbers(deadlines)) throw new RecordError('machine record has bad deadlines', key);
  if (typeof updatedAt !== 'number' || typeof writer !== 'string') {
    throw new RecordError('machine record lacks updatedAt or writer', key);
  }
  return { v: RECORD_VERSION, kind, zone, machineId, snapshot, deadlines, updatedAt, writer, applied: appliedOf(key, applied) };
}

/** State value of a persisted snapshot (`'idle'`, `{ running: 'waiting' }`, ...). */
export function stateValueOf(snapshot: unknown): unknown {
  return typeof snapshot === 'object' && snapshot !== null ? (snapshot as { value?: unknown }).value : undefined;
}

/** Context of a persisted snapshot. */
export function contextOf(snapshot: unknown): unknown {
  return typeof snapshot === 'object' && snapshot !== null ? (snapshot as { context?: unknown }).context : undefined;
}
