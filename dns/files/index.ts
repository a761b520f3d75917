// Public API of dns/files: zone files and key directories on disk, the atomic writer.
export * from './errors.ts';
export * from './atomic.ts';
export * from './load.ts';
export * from './keydir.ts';
