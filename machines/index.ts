// Public API of machines/: pure XState machines, one per file.
export {
  sequencedCounter,
  type SequencedCounterContext,
  type SequencedCounterEvent,
} from './sequenced-counter.ts';
