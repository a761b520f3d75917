// Public API of dns/: names, RR model, type codes, errors, presentation, RDATA and message codecs.
export * from './errors.ts';
export * from './name.ts';
export * from './rr.ts';
export * from './types.ts';
export * from './presentation/index.ts';
export * from './rdata/index.ts';
export * from './edns.ts';
export * from './message.ts';
export * from './canonical.ts';
export * from './serial.ts';
export * from './tsig.ts';
export * from './zone.ts';
export * from './zone-lookup.ts';
export * from './zone-diff.ts';
export * from './zone-source.ts';
export * from './zonefile/index.ts';
