// A small test machine for the actor host: counts sequence-numbered increments exactly once each,
// records out-of-order and repeated ones, and waits on one deadline kept in context as an absolute
// time. After a crash, work the dead host had not acked comes back after newer work, so the
// machine keeps a watermark plus the numbers applied above it instead of assuming order.
// Pure: time arrives in events (`at`, set by the host), never from a clock.
import { assign, setup } from 'xstate';

export interface SequencedCounterContext {
  /** Increments applied, one per new sequence number. */
  count: number;
  /** Watermark: every sequence number up to this one was applied (0: none yet). */
  lastSeq: number;
  /** Sequence numbers above the watermark already applied, ascending. */
  above: number[];
  /** Increments that arrived with a sequence number other than lastSeq + 1 and were not repeats. */
  outOfOrder: number;
  /** Increments with a sequence number already applied (redeliveries): ignored. */
  repeats: number;
  /** Pending deadlines, absolute milliseconds since the epoch; the host re-arms them. */
  deadlines: Record<string, number>;
  /** When the `expire` deadline was armed and when it fired (host clock, from events). */
  armedAt?: number;
  firedAt?: number;
}

export type SequencedCounterEvent =
  | { type: 'inc'; seq: number; at: number }
  | { type: 'arm'; ms: number; at: number }
  | { type: 'deadline'; id: string; at: number };

export const sequencedCounter = setup({
  types: {
    context: {} as SequencedCounterContext,
    events: {} as SequencedCounterEvent,
  },
  guards: {
    isNew: ({ context, event }) =>
      event.type === 'inc' && event.seq > context.lastSeq && !context.above.includes(event.seq),
    isExpireDeadline: ({ context, event }) =>
      event.type === 'deadline' && event.id === 'expire' && context.deadlines['expire'] !== undefined,
  },
  actions: {
    apply: assign(({ context, event }) => {
      if (event.type !== 'inc') return {};
      const above = [...context.above, event.seq].sort((a, b) => a - b);
      let lastSeq = context.lastSeq;
      while (above[0] === lastSeq + 1) {
        above.shift();
        lastSeq++;
      }
      return {
        count: context.count + 1,
        lastSeq,
        above,
        outOfOrder: context.outOfOrder + (event.seq === context.lastSeq + 1 ? 0 : 1),
      };
    }),
    countRepeat: assign({ repeats: ({ context }) => context.repeats + 1 }),
    arm: assign(({ context, event }) => {
      if (event.type !== 'arm') return {};
      return { armedAt: event.at, deadlines: { ...context.deadlines, expire: event.at + event.ms } };
    }),
    fire: assign(({ context, event }) => {
      const { expire: _done, ...rest } = context.deadlines;
      return { firedAt: event.at, deadlines: rest };
    }),
  },
}).createMachine({
  id: 'sequenced-counter',
  initial: 'counting',
  context: { count: 0, lastSeq: 0, above: [], outOfOrder: 0, repeats: 0, deadlines: {} },
  on: {
    inc: [{ guard: 'isNew', actions: 'apply' }, { actions: 'countRepeat' }],
  },
  states: {
    counting: {
      on: { arm: { target: 'waiting', actions: 'arm' } },
    },
    waiting: {
      on: { deadline: { guard: 'isExpireDeadline', target: 'expired', actions: 'fire' } },
    },
    expired: {
      on: { arm: { target: 'waiting', actions: 'arm' } },
    },
  },
});
