// The consumer wrapper both implementations share: max-deliver check, settle-once WorkMessage,
// ack when the handler returns, term on poison (PoisonMessageError / CodecError), nak otherwise.
import { PoisonMessageError } from './errors.ts';
import type { DeadLetter, Logger, WorkHandler, WorkMessage } from './types.ts';

/** One delivery as the implementation sees it. */
export interface RawDelivery {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly deliveryCount: number;
  readonly msgId?: string;
  /** Unique per stored message (the stream sequence), for de-duplicating dead-letter records. */
  readonly id: string;
  ack(): Promise<void>;
  nak(delayMs: number): void;
  term(): Promise<void>;
  working(): void;
}

export interface DeliveryPolicy {
  readonly queue: string;
  readonly maxDeliver: number;
  readonly backoffMs: readonly number[];
  readonly logger: Logger;
  /** Writes one dead-letter record; `id` makes a repeated write of the same record a no-op. */
  deadLetter(record: DeadLetter, id: string): Promise<void>;
}

export const DEFAULT_MAX_DELIVER = 5;
export const DEFAULT_ACK_WAIT_MS = 30_000;
export const DEFAULT_BACKOFF_MS: readonly number[] = [1000];

/** The nak delay for a delivery: `backoffMs[deliveryCount - 1]`, the last entry repeating. */
export function backoffFor(backoffMs: readonly number[], deliveryCount: number): number {
  if (backoffMs.length === 0) return 0;
  return backoffMs[Math.min(Math.max(deliveryCount - 1, 0), backoffMs.length - 1)] ?? 0;
}

function record(raw: RawDelivery, queue: string, reason: string): DeadLetter {
  return {
    queue,
    subject: raw.subject,
    data: raw.data,
    reason,
    deliveryCount: raw.deliveryCount,
    ...(raw.msgId !== undefined ? { msgId: raw.msgId } : {}),
    time: Date.now(),
  };
}

/** Runs `handler` on one delivery under `policy`; never throws. */
export async function deliver(raw: RawDelivery, handler: WorkHandler, policy: DeliveryPolicy): Promise<void> {
  const log = policy.logger;
  const where = { queue: policy.queue, subject: raw.subject, deliveryCount: raw.deliveryCount };
  let settled = false;
  const term = async (reason: string): Promise<void> => {
    if (settled) return;
    settled = true;
    // Record first: a crash in between redelivers, and the record id makes the rewrite a no-op.
    await policy.deadLetter(record(raw, policy.queue, reason), raw.id);
    await raw.term();
    log.warn({ ...where, reason }, 'work message dead-lettered');
  };
  try {
    if (raw.deliveryCount > policy.maxDeliver) {
      await term(`max deliveries (${policy.maxDeliver}) exceeded`);
      return;
    }
    const msg: WorkMessage = {
      subject: raw.subject,
      data: raw.data,
      deliveryCount: raw.deliveryCount,
      ...(raw.msgId !== undefined ? { msgId: raw.msgId } : {}),
      async ack() {
        if (settled) return;
        settled = true;
        await raw.ack();
      },
      nak(delayMs?: number) {
        if (settled) return;
        settled = true;
        raw.nak(delayMs ?? backoffFor(policy.backoffMs, raw.deliveryCount));
      },
      term,
      working() {
        if (!settled) raw.working();
      },
    };
    try {
      await handler(msg);
    } catch (err) {
      if (err instanceof PoisonMessageError) {
        await term(err.message);
        return;
      }
      if (!settled) {
        log.warn({ ...where, err }, 'work handler failed, will retry');
        msg.nak();
      }
      return;
    }
    if (!settled) await msg.ack();
  } catch (err) {
    // An ack/term that did not reach the broker: the message is redelivered after ack-wait.
    log.warn({ ...where, err }, 'settling a work message failed; it will be redelivered');
  }
}
