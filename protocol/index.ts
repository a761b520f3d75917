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
export { checkRecipient, checkTime, openEnvelope, ownKeys, peerKeys, seal, verifyEnvelope } from './envelope.ts';
export type { OwnKeys, PeerKeys, SealInput, Verified } from './envelope.ts';
export { DiscoveryError, EnvelopeError, MessageError, ProtocolError } from './errors.ts';
export type { EnvelopeFault } from './errors.ts';
export { decodeMessage, encodeMessage, MAX_LIST, MAX_MESSAGE_BYTES, MAX_STRING, messageToJson } from './messages.ts';
export type { Beat, Confirm, ConfirmStatus, Hello, KeyInventoryEntry, Keystate, Message, MessageType, OperationKind, RejectedItem, Rfi, RROperation, ZoneData } from './messages.ts';
export { chooseUri, endpointOf, identityRecords, jwkFromRdata, parseDnsUri, svcbHints, transportUriName } from './discovery.ts';
export type { DnsUri, Endpoint, PublishedEndpoint, SvcbHints } from './discovery.ts';
export { APEX_TYPES, checkRecord, checkRemoval, DEFAULT_MAX_TTL, GLUE_TYPES, namespaceOwners, protectedNamespaces } from './combiner-gates.ts';
export type { GateInput, GateOptions, GateVerdict } from './combiner-gates.ts';
export {
  applyUpdate,
  confirmLists,
  contributionOf,
  emptyStore,
  loadStore,
  nsTargets,
  originators,
  parseContribution,
  parseRecord,
  purgeOriginator,
  serialiseContribution,
  withContribution,
} from './contributions.ts';
export type { ApplyResult, ContributionStore, ParsedContribution, RecordResult } from './contributions.ts';
export { combineZone, nextSerial, nextVersion, sameContent, servedContributions, soaOf } from './combine.ts';
export type { CombineInput, Served } from './combine.ts';
