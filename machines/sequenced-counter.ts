// A small test machine for the actor host: applies sequence-numbered increments and records every
// one it applied, in the order applied, with the host's time of applying it. It does not hide
// repeats: the host applies each work message once (actors/applied.ts), and a repeat here shows
// that it did not. It also waits on one deadline kept in context as an absolute time.
// Pure: time arrives in events (`at`, set by the host), never from a clock.
import { assign, setup } from 'xstate';

export interface SequencedCounterContext {
  /** Increments applied, repeats included. */
  count: number;
  /** Highest sequence number applied (0: none yet). */
  lastSeq: number;
  /** Every increment applied, in the order applied: [seq, at]. */
  log: [seq: number, at: number][];
  /** Increments that came after one with a higher sequence number (late ones). */
  outOfOrder: number;
  /** Increments with a sequence number applied before (a work message applied twice). */
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
    isExpireDeadline: ({ context, event }) =>
      event.type === 'deadline' && event.id === 'expire' && context.deadlines['expire'] !== undefined,
  },
  actions: {
    apply: assign(({ context, event }) => {
      if (event.type !== 'inc') return {};
      return {
        count: context.count + 1,
        lastSeq: Math.max(context.lastSeq, event.seq),
        log: [...context.log, [event.seq, event.at] as [number, number]],
        outOfOrder: context.outOfOrder + (event.seq < context.lastSeq ? 1 : 0),
        repeats: context.repeats + (context.log.some(([s]) => s === event.seq) ? 1 : 0),
      };
    }),
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
  context: { count: 0, lastSeq: 0, log: [], outOfOrder: 0, repeats: 0, deadlines: {} },
  on: {
    inc: { actions: 'apply' },
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
