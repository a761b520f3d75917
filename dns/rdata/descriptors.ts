// The RDATA table: one descriptor per type listing its fields in wire order. Text⇄wire,
// wire validation, typed views, name compression and canonical lower-casing all come from it.
import { RRType } from '../types.ts';
import { keyValueField } from './keyvalue.ts';
import { loc } from './loc.ts';
import { HSYNCPARAM_KEYS_DRAFT01 } from './hsyncparam.ts';
import { SVC_PARAMS } from './svcparams.ts';
import { isBase64Url } from './text.ts';
import {
  base32hex,
  base64,
  bitmap,
  cstr,
  cstrs,
  hex,
  ipv4,
  ipv6,
  name,
  optional,
  restString,
  rrtype,
  salt,
  tag,
  time,
  u16,
  u16ascii,
  u16base64,
  u16hex,
  u32,
  u48,
  u8,
  type Field,
} from './fields.ts';

export interface Descriptor<F extends readonly Field[] = readonly Field[]> {
  readonly type: number;
  readonly fields: F;
  /** Names in this RDATA may be compressed when encoding a message (RFC 3597 §4 well-known types). */
  readonly compress: boolean;
  /** Names may arrive compressed and are decompressed when decoding (RFC 3597 §4). */
  readonly decompress: boolean;
  /** Names are lower-cased in canonical form (RFC 4034 §6.2 as amended by RFC 6840 §5.1). */
  readonly canonical: boolean;
  /** Field order in presentation text when it differs from wire order (indexes into fields). */
  readonly textOrder?: readonly number[];
  /** Every field has a parseTo fast path and text order is wire order. */
  readonly fast: boolean;
}

interface Flags {
  compress?: boolean;
  decompress?: boolean;
  canonical?: boolean;
  textOrder?: readonly number[];
}

function d<const F extends readonly Field[]>(type: number, fields: F, flags: Flags = {}): Descriptor<F> {
  const compress = flags.compress ?? false;
  const out: Descriptor<F> = {
    type,
    fields,
    compress,
    decompress: flags.decompress ?? compress,
    canonical: flags.canonical ?? compress,
    fast: flags.textOrder === undefined && fields.every((f) => f.parseTo !== undefined && !f.optional),
  };
  return flags.textOrder === undefined ? out : { ...out, textOrder: flags.textOrder };
}

const WELL_KNOWN = { compress: true } as const;
const DECOMPRESS = { decompress: true, canonical: true } as const;
const CANONICAL = { canonical: true } as const;

const dnskey = [u16('flags'), u8('protocol'), u8('algorithm'), base64('publicKey')] as const;
const ds = [u16('keyTag'), u8('algorithm'), u8('digestType'), hex('digest')] as const;
const rrsig = [
  rrtype('typeCovered'),
  u8('algorithm'),
  u8('labels'),
  u32('originalTtl'),
  time('expiration'),
  time('inception'),
  u16('keyTag'),
  name('signerName'),
  base64('signature'),
] as const;
const tlsa = [u8('usage'), u8('selector'), u8('matchingType'), hex('data')] as const;
const svcb = [u16('priority'), name('target'), keyValueField('params', SVC_PARAMS)] as const;
const txt = [cstrs('strings')] as const;

export const DESCRIPTORS = {
  A: d(RRType.A, [ipv4('address')] as const),
  NS: d(RRType.NS, [name('host')] as const, WELL_KNOWN),
  MD: d(RRType.MD, [name('host')] as const, WELL_KNOWN),
  MF: d(RRType.MF, [name('host')] as const, WELL_KNOWN),
  CNAME: d(RRType.CNAME, [name('target')] as const, WELL_KNOWN),
  SOA: d(
    RRType.SOA,
    [
      name('mname'),
      name('rname'),
      u32('serial'),
      u32('refresh', true),
      u32('retry', true),
      u32('expire', true),
      u32('minimum', true),
    ] as const,
    WELL_KNOWN,
  ),
  MB: d(RRType.MB, [name('host')] as const, WELL_KNOWN),
  MG: d(RRType.MG, [name('mailbox')] as const, WELL_KNOWN),
  MR: d(RRType.MR, [name('mailbox')] as const, WELL_KNOWN),
  PTR: d(RRType.PTR, [name('target')] as const, WELL_KNOWN),
  HINFO: d(RRType.HINFO, [cstr('cpu'), cstr('os')] as const),
  MINFO: d(RRType.MINFO, [name('rmailbx'), name('emailbx')] as const, WELL_KNOWN),
  MX: d(RRType.MX, [u16('preference'), name('exchange')] as const, WELL_KNOWN),
  TXT: d(RRType.TXT, txt),
  RP: d(RRType.RP, [name('mbox'), name('txt')] as const, DECOMPRESS),
  AFSDB: d(RRType.AFSDB, [u16('subtype'), name('hostname')] as const, DECOMPRESS),
  SIG: d(RRType.SIG, rrsig, DECOMPRESS),
  KEY: d(RRType.KEY, dnskey),
  AAAA: d(RRType.AAAA, [ipv6('address')] as const),
  LOC: d(RRType.LOC, [loc('loc')] as const),
  SRV: d(RRType.SRV, [u16('priority'), u16('weight'), u16('port'), name('target')] as const, DECOMPRESS),
  NAPTR: d(
    RRType.NAPTR,
    [u16('order'), u16('preference'), cstr('flags'), cstr('services'), cstr('regexp'), name('replacement')] as const,
    DECOMPRESS,
  ),
  KX: d(RRType.KX, [u16('preference'), name('exchanger')] as const, CANONICAL),
  DNAME: d(RRType.DNAME, [name('target')] as const, CANONICAL),
  DS: d(RRType.DS, ds),
  SSHFP: d(RRType.SSHFP, [u8('algorithm'), u8('fpType'), hex('fingerprint')] as const),
  RRSIG: d(RRType.RRSIG, rrsig, CANONICAL),
  NSEC: d(RRType.NSEC, [name('next'), bitmap('types')] as const),
  DNSKEY: d(RRType.DNSKEY, dnskey),
  NSEC3: d(RRType.NSEC3, [
    u8('hashAlgorithm'),
    u8('flags'),
    u16('iterations'),
    salt('salt'),
    base32hex('nextHashed'),
    bitmap('types'),
  ] as const),
  NSEC3PARAM: d(RRType.NSEC3PARAM, [u8('hashAlgorithm'), u8('flags'), u16('iterations'), salt('salt')] as const),
  TLSA: d(RRType.TLSA, tlsa),
  SMIMEA: d(RRType.SMIMEA, tlsa),
  CDS: d(RRType.CDS, ds),
  CDNSKEY: d(RRType.CDNSKEY, dnskey),
  OPENPGPKEY: d(RRType.OPENPGPKEY, [base64('key')] as const),
  CSYNC: d(RRType.CSYNC, [u32('serial'), u16('flags'), bitmap('types')] as const),
  ZONEMD: d(RRType.ZONEMD, [u32('serial'), u8('scheme'), u8('hashAlgorithm'), hex('digest')] as const),
  SVCB: d(RRType.SVCB, svcb),
  HTTPS: d(RRType.HTTPS, svcb),
  DSYNC: d(RRType.DSYNC, [
    rrtype('rrtype'),
    u8('scheme', { print: false, names: { NOTIFY: 1, UPDATE: 2 } }),
    u16('port'),
    name('target'),
  ] as const),
  SPF: d(RRType.SPF, txt),
  TSIG: d(RRType.TSIG, [
    name('algorithm'),
    u48('timeSigned'),
    u16('fudge'),
    u16hex('mac'),
    u16('originalId'),
    u16('error'),
    u16hex('otherData'),
  ] as const),
  URI: d(RRType.URI, [u16('priority'), u16('weight'), restString('target')] as const),
  CAA: d(RRType.CAA, [u8('flags'), tag('tag'), restString('value')] as const),
  HSYNC: d(RRType.HSYNC, [
    u8('state', { print: true, names: { ON: 1, OFF: 0 } }),
    optional(cstr('label', true)),
    optional(name('identity')),
    optional(cstr('upstream', true)),
  ] as const),
  HSYNCPARAM: d(RRType.HSYNCPARAM, [keyValueField('params', HSYNCPARAM_KEYS_DRAFT01)] as const),
  CHUNK: d(
    RRType.CHUNK,
    [
      u8('format', { print: true, names: { JSON: 1, JOSE: 2, JWT: 2 } }),
      u16hex('hmac'),
      u16('sequence'),
      u16('total'),
      u16base64('data'),
    ] as const,
    { textOrder: [2, 3, 0, 1, 4] },
  ),
  JWK: d(RRType.JWK, [u16ascii('jwk', isBase64Url)] as const),
} as const;

export type TypedName = keyof typeof DESCRIPTORS;

const byCode = new Map<number, Descriptor>();
for (const desc of Object.values(DESCRIPTORS)) byCode.set(desc.type, desc);

/** The descriptor of a type code, or undefined for types handled only as RFC 3597 opaque data. */
export function descriptorOf(type: number): Descriptor | undefined {
  return byCode.get(type);
}

type FieldValue<F> = F extends Field<string, infer V> ? V : never;
type Fields<K extends TypedName> = (typeof DESCRIPTORS)[K]['fields'][number];

/** The typed view of a type's RDATA: one property per field, named as in the table. */
export type RdataOf<K extends TypedName> = {
  [F in Fields<K> as F extends { optional: true } ? never : F['name']]: FieldValue<F>;
} & {
  [F in Fields<K> as F extends { optional: true } ? F['name'] : never]?: FieldValue<F>;
};
