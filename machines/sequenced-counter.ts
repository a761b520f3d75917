// A small test machine for the actor host: counts sequence-numbered increments, records any
// out-of-order or repeated ones, and waits on one deadline kept in context as an absolute time.
// Pure: time arrives in events (`at`, set by the host), never from a clock.
import { assign, setup } from 'xstate';

export interface SequencedCounterContext {
  /** Increments applied, one per new sequence number. */
  count: number;
  /** Highest sequence number applied (0: none yet). */
  lastSeq: number;
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
    isNew: ({ context, event }) => event.type === 'inc' && event.seq > context.lastSeq,
    isExpireDeadline: ({ context, event }) =>
      event.type === 'deadline' && event.id === 'expire' && context.deadlines['expire'] !== undefined,
  },
  actions: {
    apply: assign(({ context, event }) => {
      if (event.type !== 'inc') return {};
      return {
        count: context.count + 1,
        lastSeq: event.seq,
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
  context: { count: 0, lastSeq: 0, outOfOrder: 0, repeats: 0, deadlines: {} },
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
