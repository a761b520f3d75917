// Public API of dns/zonefile: the RFC 1035 §5 zone-file parser, its directives, and the printer.
export { loadZoneFile, parseRecords, parseZone } from './parse.ts';
export type { ZoneFileOptions } from './parse.ts';
export { parseDirective } from './directives.ts';
export type { Directive, DirectiveState } from './directives.ts';
export { formatRecord, formatZone, printZone, zoneLines } from './print.ts';
export type { PrintOptions } from './print.ts';
export { MAX_TTL, parseTtl } from './ttl.ts';
