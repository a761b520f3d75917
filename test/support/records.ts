// Test records built straight as wire RDATA (no zone-file parser in the loop), for unit tests of
// the signer and answer code on a zone `example.`.
import { nameToWire, parseName } from '../../dns/name.ts';
import type { RR } from '../../dns/rr.ts';
import { RRType } from '../../dns/types.ts';

export const cat = (...p: Uint8Array[]): Uint8Array => Uint8Array.from(p.flatMap((x) => [...x]));
export const u16 = (n: number): Uint8Array => Uint8Array.of(n >> 8, n & 0xff);
export const u32 = (n: number): Uint8Array => Uint8Array.of(n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
export const rr = (name: string, type: number, rdata: Uint8Array, ttl = 3600): RR => ({ name: parseName(name), type, class: 1, ttl, rdata });
export const a = (name: string, ip: string): RR => rr(name, RRType.A, Uint8Array.from(ip.split('.').map(Number)));
export const ns = (name: string, target: string): RR => rr(name, RRType.NS, nameToWire(parseName(target)));
export const txt = (name: string, s: string): RR => rr(name, RRType.TXT, cat(Uint8Array.of(s.length), Buffer.from(s)));
/** The SOA of `example.` with this serial. */
export const soa = (serial: number): RR =>
  rr('example.', RRType.SOA, cat(nameToWire(parseName('ns1.example.')), nameToWire(parseName('h.example.')), u32(serial), u32(7200), u32(3600), u32(1209600), u32(300)));
