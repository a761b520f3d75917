// RR type and class codes, and their mnemonics (with TYPEnnn / CLASSnnn for any other value).
// Private-use codepoints (HSYNC, HSYNCPARAM, CHUNK, JWK) follow TDNS as deployed (docs/design.md).
import { ParseError } from './errors.ts';

export const RRType = {
  A: 1,
  NS: 2,
  MD: 3,
  MF: 4,
  CNAME: 5,
  SOA: 6,
  MB: 7,
  MG: 8,
  MR: 9,
  NULL: 10,
  WKS: 11,
  PTR: 12,
  HINFO: 13,
  MINFO: 14,
  MX: 15,
  TXT: 16,
  RP: 17,
  AFSDB: 18,
  SIG: 24,
  KEY: 25,
  AAAA: 28,
  LOC: 29,
  SRV: 33,
  NAPTR: 35,
  KX: 36,
  CERT: 37,
  DNAME: 39,
  OPT: 41,
  APL: 42,
  DS: 43,
  SSHFP: 44,
  IPSECKEY: 45,
  RRSIG: 46,
  NSEC: 47,
  DNSKEY: 48,
  DHCID: 49,
  NSEC3: 50,
  NSEC3PARAM: 51,
  TLSA: 52,
  SMIMEA: 53,
  HIP: 55,
  CDS: 59,
  CDNSKEY: 60,
  OPENPGPKEY: 61,
  CSYNC: 62,
  ZONEMD: 63,
  SVCB: 64,
  HTTPS: 65,
  DSYNC: 66,
  SPF: 99,
  TKEY: 249,
  TSIG: 250,
  IXFR: 251,
  AXFR: 252,
  MAILB: 253,
  ANY: 255,
  URI: 256,
  CAA: 257,
  HSYNC: 65285,
  HSYNCPARAM: 65286,
  CHUNK: 65288,
  JWK: 65324,
} as const;
export type RRTypeName = keyof typeof RRType;

const typeNames = new Map<number, string>(Object.entries(RRType).map(([k, v]) => [v, k]));
const typeCodes = new Map<string, number>(Object.entries(RRType));
typeCodes.set('HSYNC3', RRType.HSYNC); // TDNS's name for the same codepoint

/** Mnemonic of a type code, or TYPEnnn (RFC 3597). */
export function typeToString(code: number): string {
  return typeNames.get(code) ?? `TYPE${code}`;
}

/** Type code of a mnemonic or TYPEnnn (case-insensitive); undefined when unknown. */
export function typeFromString(text: string): number | undefined {
  const upper = text.toUpperCase();
  const known = typeCodes.get(upper);
  if (known !== undefined) return known;
  const m = /^TYPE([0-9]{1,5})$/.exec(upper);
  if (m === null) return undefined;
  const v = Number(m[1]);
  return v <= 0xffff ? v : undefined;
}

/** Like typeFromString but throws a ParseError naming the text. */
export function parseType(text: string): number {
  const t = typeFromString(text);
  if (t === undefined) throw new ParseError(`unknown RR type "${text}"`);
  return t;
}

const classNames = new Map<number, string>([
  [1, 'IN'],
  [3, 'CH'],
  [4, 'HS'],
  [254, 'NONE'],
  [255, 'ANY'],
]);
const classCodes = new Map<string, number>([...classNames].map(([k, v]) => [v, k]));

export function classToString(code: number): string {
  return classNames.get(code) ?? `CLASS${code}`;
}

export function classFromString(text: string): number | undefined {
  const upper = text.toUpperCase();
  const known = classCodes.get(upper);
  if (known !== undefined) return known;
  const m = /^CLASS([0-9]{1,5})$/.exec(upper);
  if (m === null) return undefined;
  const v = Number(m[1]);
  return v <= 0xffff ? v : undefined;
}

export const Opcode = { QUERY: 0, IQUERY: 1, STATUS: 2, NOTIFY: 4, UPDATE: 5 } as const;

export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  YXDOMAIN: 6,
  YXRRSET: 7,
  NXRRSET: 8,
  NOTAUTH: 9,
  NOTZONE: 10,
  BADVERS: 16,
  BADSIG: 16,
  BADKEY: 17,
  BADTIME: 18,
  BADCOOKIE: 23,
} as const;

/** EDNS option codes used by mpdns (docs/design.md, wire facts). */
export const EdnsOption = {
  COOKIE: 10,
  KEYSTATE: 65002,
  CHUNK: 65004,
  CHUNK_QUERY_ENDPOINT: 65005,
} as const;
