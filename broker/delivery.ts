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
  /** The stream sequence; its decimal form de-duplicates dead-letter records. */
  readonly seq: number;
  readonly storedAt: number;
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

/** The WorkMessage a handler gets: settles at most once. A class, so no closures per message. */
class Delivered implements WorkMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly deliveryCount: number;
  readonly seq: number;
  readonly storedAt: number;
  readonly msgId?: string;
  settled = false;

  constructor(
    readonly raw: RawDelivery,
    readonly policy: DeliveryPolicy,
  ) {
    this.subject = raw.subject;
    this.data = raw.data;
    this.deliveryCount = raw.deliveryCount;
    this.seq = raw.seq;
    this.storedAt = raw.storedAt;
    if (raw.msgId !== undefined) this.msgId = raw.msgId;
  }

  async ack(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    await this.raw.ack();
  }

  nak(delayMs?: number): void {
    if (this.settled) return;
    this.settled = true;
    this.raw.nak(delayMs ?? backoffFor(this.policy.backoffMs, this.raw.deliveryCount));
  }

  async term(reason: string): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    // Record first: a crash in between redelivers, and the record id makes the rewrite a no-op.
    await this.policy.deadLetter(record(this.raw, this.policy.queue, reason), String(this.raw.seq));
    await this.raw.term();
    this.policy.logger.warn({ ...this.where(), reason }, 'work message dead-lettered');
  }

  working(): void {
    if (!this.settled) this.raw.working();
  }

  where(): { queue: string; subject: string; deliveryCount: number } {
    return { queue: this.policy.queue, subject: this.raw.subject, deliveryCount: this.raw.deliveryCount };
  }
}

/** Runs `handler` on one delivery under `policy`; never throws. */
export async function deliver(raw: RawDelivery, handler: WorkHandler, policy: DeliveryPolicy): Promise<void> {
  const msg = new Delivered(raw, policy);
  try {
    if (raw.deliveryCount > policy.maxDeliver) {
      await msg.term(`max deliveries (${policy.maxDeliver}) exceeded`);
      return;
    }
    try {
      await handler(msg);
    } catch (err) {
      if (err instanceof PoisonMessageError) {
        await msg.term(err.message);
        return;
      }
      if (!msg.settled) {
        policy.logger.warn({ ...msg.where(), err }, 'work handler failed, will retry');
        msg.nak();
      }
      return;
    }
    if (!msg.settled) await msg.ack();
  } catch (err) {
    // An ack/term that did not reach the broker: the message is redelivered after ack-wait.
    policy.logger.warn({ ...msg.where(), err }, 'settling a work message failed; it will be redelivered');
  }
}
