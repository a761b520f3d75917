// Public API of dns/net: the authoritative server, the client, transfers, NOTIFY, the secondary.
// (Zone files and key directories on disk are dns/files.)
export * from './errors.ts';
export * from './acl.ts';
export * from './transport.ts';
export * from './exchange.ts';
export * from './journal.ts';
export * from './server.ts';
export * from './xfr-out.ts';
export * from './client.ts';
export * from './notify.ts';
export * from './secondary.ts';
export * from './primary.ts';
export * from './sign-pool.ts';
export * from './inline-signed.ts';
