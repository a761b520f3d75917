// One remote provider's agent, as our agent sees it: found from DNS, introduced by HELLO, kept
// alive by BEATs. NEEDED (discovery running) → KNOWN (endpoint and key found; HELLO sent) →
// INTRODUCED (our HELLO accepted; first BEAT sent) → OPERATIONAL (a BEAT round trip), DEGRADED
// after 2 beat intervals without a good beat, INTERRUPTED after 10, OPERATIONAL again on the next
// good beat. Event-driven: a new shared zone or a key change sends HELLO at once, an accepted
// HELLO sends the first BEAT at once, a "retry later" answer retries within milliseconds
// (doubling), and the beat interval only detects loss.
// Pure: time comes in events (`at`), waits are deadlines in context that the actor host fires
// as `{ type: 'deadline', id }`; the effects (discover, sendHello, sendBeat) are named here and
// bound in actors/ with `.provide()`. The host delivers each event at least once to the
// machine's effects, so effects must tolerate a repeat (a second HELLO or BEAT is harmless).
import { and, assign, setup } from 'xstate';

export interface PeerTiming {
  /** Our BEAT interval, ms. */
  readonly beatMs: number;
  /** First retry of a HELLO answered "retry later", ms (doubles up to beatMs). */
  readonly helloRetryMs: number;
  /** First retry of a failed discovery, ms (doubles up to maxDiscoverMs). */
  readonly discoverRetryMs: number;
  readonly maxDiscoverMs: number;
}

export const DEFAULT_PEER_TIMING: PeerTiming = { beatMs: 15_000, helloRetryMs: 20, discoverRetryMs: 500, maxDiscoverMs: 60_000 };

/** Missed beat intervals that make a peer DEGRADED, and INTERRUPTED. */
export const DEGRADED_AFTER = 2;
export const INTERRUPTED_AFTER = 10;

export interface PeerContext {
  /** The remote agent's identity (from input, or from the first `zones` event). */
  peer: string;
  /** Our identity. */
  self: string;
  timing: PeerTiming;
  /** Zones both providers take part in (from HSYNC analysis), sorted. */
  zones: string[];
  /** The discovered transport endpoint and a fingerprint of the peer's key. */
  endpoint: string | undefined;
  keyId: string | undefined;
  /** Zone of the HELLO in flight or to retry. */
  helloZone: string | undefined;
  helloTries: number;
  discoverTries: number;
  /** The last good beat: our BEAT confirmed, or the peer's BEAT received. */
  lastGoodAt: number | undefined;
  /** When the current state was entered (host clock). */
  since: number;
  /** Why the last HELLO or discovery failed, for operators. */
  lastError: string | undefined;
  /** Pending deadlines, absolute epoch ms; the host re-arms them after a restore. */
  deadlines: Record<string, number>;
}

export interface PeerInput {
  readonly peer: string;
  readonly self: string;
  readonly timing?: PeerTiming;
}

export type PeerEvent =
  /**
   * The shared zones changed (HSYNC analysis). Empty: the peer is retired. Carries the
   * identities and timing, so the actor host can create the machine without input.
   */
  | { type: 'zones'; peer: string; self: string; zones: readonly string[]; timing?: PeerTiming; at: number }
  | { type: 'discovered'; endpoint: string; keyId: string; at: number }
  | { type: 'discoveryFailed'; reason: string; at: number }
  /** The peer's answer to our HELLO for `zone`. */
  | { type: 'helloAnswer'; zone: string; result: 'accepted' | 'retry' | 'refused'; reason?: string; at: number }
  /** The peer said HELLO to us and we accepted it. */
  | { type: 'helloReceived'; zone: string; at: number }
  /** Our BEAT was confirmed by the peer. */
  | { type: 'beatConfirmed'; at: number }
  /** The peer's BEAT reached us. */
  | { type: 'beatReceived'; at: number }
  | { type: 'deadline'; id: string; at: number };

export interface HelloParams {
  readonly peer: string;
  readonly zone: string;
  readonly endpoint: string;
}
export interface BeatParams {
  readonly peer: string;
  readonly zones: readonly string[];
  readonly endpoint: string;
  readonly intervalMs: number;
}
export interface DiscoverParams {
  readonly peer: string;
}

const without = (d: Record<string, number>, ...ids: string[]): Record<string, number> => {
  const out = { ...d };
  for (const id of ids) delete out[id];
  return out;
};
const helloParams = ({ context }: { context: PeerContext }): HelloParams => ({ peer: context.peer, zone: context.helloZone ?? '', endpoint: context.endpoint ?? '' });
const beatParams = ({ context }: { context: PeerContext }): BeatParams => ({ peer: context.peer, zones: context.zones, endpoint: context.endpoint ?? '', intervalMs: context.timing.beatMs });
const sendHelloNow = { type: 'sendHello', params: helloParams } as const;
const sendBeatNow = { type: 'sendBeat', params: beatParams } as const;
const isDeadline = (event: PeerEvent, id: string): boolean => event.type === 'deadline' && event.id === id;
const missed = (c: PeerContext, at: number): number => (c.lastGoodAt === undefined ? 0 : Math.floor((at - c.lastGoodAt) / c.timing.beatMs));

export const peerMachine = setup({
  types: {
    context: {} as PeerContext,
    events: {} as PeerEvent,
    input: {} as PeerInput | undefined,
  },
  actions: {
    // Effects, bound in actors/ (the defaults do nothing, for tests and inspection).
    discover: (_, _params: DiscoverParams) => {},
    sendHello: (_, _params: HelloParams) => {},
    sendBeat: (_, _params: BeatParams) => {},
    entered: assign(({ event }) => ({ since: event.at })),
    setZones: assign(({ context, event }) =>
      event.type === 'zones' ? { peer: event.peer, self: event.self, timing: event.timing ?? context.timing, zones: [...new Set(event.zones)].sort() } : {},
    ),
    setEndpoint: assign(({ event }) => (event.type === 'discovered' ? { endpoint: event.endpoint, keyId: event.keyId, discoverTries: 0, lastError: undefined } : {})),
    armDiscoverRetry: assign(({ context, event }) => {
      const wait = Math.min(context.timing.discoverRetryMs * 2 ** context.discoverTries, context.timing.maxDiscoverMs);
      return {
        discoverTries: context.discoverTries + 1,
        lastError: event.type === 'discoveryFailed' ? event.reason : context.lastError,
        deadlines: { ...context.deadlines, discover: event.at + wait },
      };
    }),
    armDiscoverWatchdog: assign(({ context, event }) => ({ deadlines: { ...context.deadlines, discover: event.at + context.timing.maxDiscoverMs } })),
    armHelloWatchdog: assign(({ context, event }) => ({ deadlines: { ...context.deadlines, hello: event.at + context.timing.beatMs } })),
    clearDiscover: assign(({ context }) => ({ deadlines: without(context.deadlines, 'discover') })),
    chooseHelloZone: assign(({ context, event }) => {
      // A zone the event names (a new one) first; else the first shared zone.
      const added = event.type === 'zones' ? event.zones.find((z) => !context.zones.includes(z)) : undefined;
      return { helloZone: added ?? context.helloZone ?? context.zones[0], helloTries: 0 };
    }),
    armHelloRetry: assign(({ context, event }) => {
      const wait = Math.min(context.timing.helloRetryMs * 2 ** context.helloTries, context.timing.beatMs);
      return {
        helloTries: context.helloTries + 1,
        lastError: event.type === 'helloAnswer' ? (event.reason ?? `HELLO ${event.result}`) : context.lastError,
        deadlines: { ...context.deadlines, hello: event.at + wait },
      };
    }),
    clearHello: assign(({ context }) => ({ helloTries: 0, lastError: undefined, deadlines: without(context.deadlines, 'hello') })),
    armBeat: assign(({ context, event }) => ({ deadlines: { ...context.deadlines, beat: event.at + context.timing.beatMs, liveness: event.at + context.timing.beatMs } })),
    rearmBeat: assign(({ context, event }) => ({ deadlines: { ...context.deadlines, beat: event.at + context.timing.beatMs } })),
    dropHelloDeadline: assign(({ context }) => ({ deadlines: without(context.deadlines, 'hello') })),
    armLiveness: assign(({ context, event }) => ({ deadlines: { ...context.deadlines, liveness: event.at + context.timing.beatMs } })),
    goodBeat: assign(({ event }) => ({ lastGoodAt: event.at })),
    clearAll: assign({ deadlines: {}, helloZone: undefined, endpoint: undefined, keyId: undefined }),
  },
  guards: {
    hasZones: ({ event }) => event.type === 'zones' && event.zones.length > 0,
    noZones: ({ event }) => event.type === 'zones' && event.zones.length === 0,
    zoneAdded: ({ context, event }) => event.type === 'zones' && event.zones.some((z) => !context.zones.includes(z)),
    keyChanged: ({ context, event }) => event.type === 'discovered' && (event.keyId !== context.keyId || event.endpoint !== context.endpoint),
    isDiscoverDeadline: ({ event }) => isDeadline(event, 'discover'),
    isHelloDeadline: ({ event }) => isDeadline(event, 'hello'),
    isBeatDeadline: ({ event }) => isDeadline(event, 'beat'),
    isLivenessDeadline: ({ event }) => isDeadline(event, 'liveness'),
    helloAccepted: ({ context, event }) => event.type === 'helloAnswer' && event.result === 'accepted' && event.zone === context.helloZone,
    helloRetry: ({ context, event }) => event.type === 'helloAnswer' && event.result !== 'accepted' && event.zone === context.helloZone,
    interrupted: ({ context, event }) => missed(context, event.at) >= INTERRUPTED_AFTER,
    degraded: ({ context, event }) => missed(context, event.at) >= DEGRADED_AFTER,
  },
}).createMachine({
  id: 'peer',
  context: ({ input }) => ({
    peer: input?.peer ?? '',
    self: input?.self ?? '',
    timing: input?.timing ?? DEFAULT_PEER_TIMING,
    zones: [],
    endpoint: undefined,
    keyId: undefined,
    helloZone: undefined,
    lastGoodAt: undefined,
    lastError: undefined,
    helloTries: 0,
    discoverTries: 0,
    since: 0,
    deadlines: {},
  }),
  initial: 'retired',
  states: {
    // No zone shared with this peer (yet, or any more).
    retired: {
      on: {
        zones: { guard: 'hasZones', target: 'needed', actions: ['setZones', 'entered'] },
      },
    },
    // Discovery runs; a failure is retried with backoff.
    needed: {
      // The watchdog: a discovery whose result never comes (a crash) is started again.
      entry: ['armDiscoverWatchdog', { type: 'discover', params: ({ context }) => ({ peer: context.peer }) }],
      on: {
        zones: [{ guard: 'noZones', target: 'retired', actions: ['clearAll', 'setZones', 'entered'] }, { actions: 'setZones' }],
        discovered: { target: 'linked', actions: ['setEndpoint', 'clearDiscover', 'entered'] },
        discoveryFailed: { actions: 'armDiscoverRetry' },
        deadline: { guard: 'isDiscoverDeadline', target: 'needed', reenter: true, actions: 'clearDiscover' },
      },
    },
    linked: {
      initial: 'known',
      on: {
        zones: [
          { guard: 'noZones', target: 'retired', actions: ['clearAll', 'setZones', 'entered'] },
          { guard: 'zoneAdded', actions: ['chooseHelloZone', 'setZones', sendHelloNow] },
          { actions: 'setZones' },
        ],
        // A new key or endpoint: introduce ourselves again.
        discovered: { guard: 'keyChanged', target: '.known', reenter: true, actions: ['setEndpoint', 'entered'] },
        helloAnswer: [
          { guard: 'helloAccepted', actions: 'clearHello' },
          { guard: 'helloRetry', actions: 'armHelloRetry' },
        ],
        deadline: [
          { guard: 'isHelloDeadline', actions: ['dropHelloDeadline', sendHelloNow] },
          { guard: 'isBeatDeadline', actions: ['rearmBeat', sendBeatNow] },
        ],
      },
      states: {
        // Endpoint and key known: HELLO goes out at once, and again on "retry later".
        known: {
          // The watchdog: a HELLO whose answer never comes is sent again after a beat interval.
          entry: ['chooseHelloZone', 'armHelloWatchdog', sendHelloNow],
          on: {
            helloAnswer: { guard: 'helloAccepted', target: 'introduced', actions: ['clearHello', 'entered'] },
            // The peer introduced itself first: answer with our HELLO now, not at the retry.
            helloReceived: { actions: sendHelloNow },
          },
        },
        // Introduced: the first BEAT goes out at once; its round trip makes the peer OPERATIONAL.
        introduced: {
          entry: ['armBeat', sendBeatNow],
          on: {
            beatConfirmed: { target: 'alive', actions: 'goodBeat' },
            beatReceived: { target: 'alive', actions: 'goodBeat' },
          },
        },
        alive: {
          initial: 'operational',
          on: {
            beatConfirmed: { target: '.operational', actions: 'goodBeat' },
            beatReceived: { target: '.operational', actions: 'goodBeat' },
            deadline: [
              { guard: and(['isLivenessDeadline', 'interrupted']), target: '.interrupted', actions: 'armLiveness' },
              { guard: and(['isLivenessDeadline', 'degraded']), target: '.degraded', actions: 'armLiveness' },
              { guard: 'isLivenessDeadline', actions: 'armLiveness' },
            ],
          },
          states: {
            operational: { entry: 'entered' },
            degraded: { entry: 'entered' },
            interrupted: { entry: 'entered' },
          },
        },
      },
    },
  },
});
