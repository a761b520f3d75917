// Public API of protocol/: pure inter-provider logic.
export { analyseHsync, diffHsync, problemText } from './hsync-analysis.ts';
export type {
  HsyncAnalysis,
  HsyncChange,
  HsyncInput,
  HsyncProblem,
  HsyncState,
  Membership,
  PolicyField,
  Provider,
  ProviderField,
  ProviderRoles,
} from './hsync-analysis.ts';
