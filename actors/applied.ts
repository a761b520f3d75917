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
import { RecordError } from './errors.ts';

export interface Applied {
  /** Every message of the queue with a sequence at or below this one is settled. */
  readonly floor: number;
  /** Sequences above the floor applied to this machine, in the order applied. */
  readonly seqs: readonly number[];
}

export const NOTHING_APPLIED: Applied = { floor: 0, seqs: [] };

/** True when the message with stream sequence `seq` was applied (or settled) already. */
export function hasApplied(a: Applied, seq: number): boolean {
  return seq <= a.floor || a.seqs.includes(seq);
}

/** `a` after applying `seq`, with the shard's settled floor now known to be `settledFloor`. */
export function withApplied(a: Applied, seq: number, settledFloor: number): Applied {
  const floor = Math.max(a.floor, settledFloor);
  const seqs = floor > a.floor ? a.seqs.filter((s) => s > floor) : [...a.seqs];
  if (seq > floor) seqs.push(seq);
  return { floor, seqs };
}

/** Checks the `applied` field of a decoded record (absent in records written before it existed). */
export function appliedOf(key: string, raw: unknown): Applied {
  if (raw === undefined) return NOTHING_APPLIED;
  const r = raw as { floor?: unknown; seqs?: unknown };
  if (
    typeof raw !== 'object' || raw === null || typeof r.floor !== 'number' ||
    !Array.isArray(r.seqs) || !r.seqs.every((s) => typeof s === 'number')
  ) {
    throw new RecordError('machine record has a bad applied field', key);
  }
  return { floor: r.floor, seqs: r.seqs };
}
