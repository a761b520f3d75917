// Which work messages a machine has applied, kept in its KV record and written with the same
// compare-and-set as its snapshot, so applying an event and recording it are one write. A
// redelivered message whose stream sequence is recorded is acked without being applied again.
//
// Late messages (delivered to a host that crashed, redelivered after newer ones were applied)
// must still be applied, so a plain "highest sequence applied" watermark will not do. The record
// keeps a floor and the sequences applied above it. The floor is the shard consumer's settled
// floor as the broker last reported it (every message of the shard at or below it was acked or
// termed, and the host acks only what it applied and persisted), so no message at or below the
// floor is still waiting to be applied. The list thus holds only the machine's messages applied
// since the oldest message of its shard still unsettled was published: bounded by time (ack-wait
// and redelivery of the oldest unsettled message), not by a count that a burst could exceed.
//
// A publisher's retry can also store a second copy of a message under a new sequence: the broker
// drops a retry with the same msgId within its duplicate window, but nats-server 2.9 rebuilds that
// memory after a crash only from the messages still stored, and a WorkQueue stream has removed
// those already consumed. So the record also keeps the msgIds of the messages it applied that were
// stored within the duplicate window before the newest one (by the broker's clock), and a copy
// with a known msgId is acked without being applied.
import { RecordError } from './errors.ts';

export interface Applied {
  /** Every message of the queue with a sequence at or below this one is settled. */
  readonly floor: number;
  /** Sequences above the floor applied to this machine, in the order applied. */
  readonly seqs: readonly number[];
  /** Publisher msgIds applied, with the time the broker stored them; absent: none. */
  readonly ids?: readonly (readonly [msgId: string, storedAt: number])[];
}

export const NOTHING_APPLIED: Applied = { floor: 0, seqs: [] };

/** What the host knows of one delivery. */
export interface Delivery {
  readonly seq: number;
  readonly storedAt: number;
  readonly msgId?: string;
}

/** True when the message (or a publisher's retry of it) was applied or settled already. */
export function hasApplied(a: Applied, d: Delivery): boolean {
  return d.seq <= a.floor || a.seqs.includes(d.seq) || (d.msgId !== undefined && a.ids !== undefined && a.ids.some(([id]) => id === d.msgId));
}

/**
 * `a` after applying `d`, with the shard's settled floor now known to be `settledFloor`; msgIds
 * stored more than `windowMs` before the newest are forgotten.
 */
export function withApplied(a: Applied, d: Delivery, settledFloor: number, windowMs: number): Applied {
  const floor = Math.max(a.floor, settledFloor);
  const seqs = floor > a.floor ? a.seqs.filter((s) => s > floor) : [...a.seqs];
  if (d.seq > floor) seqs.push(d.seq);
  let ids = a.ids ?? [];
  if (d.msgId !== undefined) ids = [...ids, [d.msgId, d.storedAt] as const];
  if (ids.length > 0) {
    const newest = Math.max(...ids.map(([, t]) => t));
    ids = ids.filter(([, t]) => t >= newest - windowMs);
  }
  return ids.length > 0 ? { floor, seqs, ids } : { floor, seqs };
}

/** Checks the `applied` field of a decoded record (absent in records written before it existed). */
export function appliedOf(key: string, raw: unknown): Applied {
  if (raw === undefined) return NOTHING_APPLIED;
  const r = raw as { floor?: unknown; seqs?: unknown; ids?: unknown };
  const isId = (x: unknown): x is [string, number] =>
    Array.isArray(x) && x.length === 2 && typeof x[0] === 'string' && typeof x[1] === 'number';
  if (
    typeof raw !== 'object' || raw === null || typeof r.floor !== 'number' ||
    !Array.isArray(r.seqs) || !r.seqs.every((s) => typeof s === 'number') ||
    (r.ids !== undefined && !(Array.isArray(r.ids) && r.ids.every(isId)))
  ) {
    throw new RecordError('machine record has a bad applied field', key);
  }
  return r.ids === undefined ? { floor: r.floor, seqs: r.seqs } : { floor: r.floor, seqs: r.seqs, ids: r.ids };
}
