// Public API of machines/: pure XState machines, one per file.
export {
  sequencedCounter,
  type SequencedCounterContext,
  type SequencedCounterEvent,
} from './sequenced-counter.ts';
export {
  DEFAULT_PEER_TIMING,
  DEGRADED_AFTER,
  INTERRUPTED_AFTER,
  peerMachine,
  type BeatParams,
  type DiscoverParams,
  type HelloParams,
  type PeerContext,
  type PeerEvent,
  type PeerInput,
  type PeerTiming,
} from './peer.ts';
