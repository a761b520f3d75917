// HSYNCPARAM (65286) parameters: the key table (draft-leon-dnsop-signaling-zone-owner-intent-01
// numbering, as TDNS pins it since 2026-09) and a semantic view with the draft's defaults.
// All codepoints live in HSYNCPARAM_KEYS_DRAFT01; another profile is another table.
import { FieldError } from '../errors.ts';
import { bytesToBinary, binaryToBytes } from './text.ts';
import { flagKey, keyTable, sortUnique, type KeyDef, type KeyTable, type KeyValue } from './keyvalue.ts';

export const HsyncParamKey = {
  servers: 0,
  signers: 1,
  auditors: 2,
  nsmgmt: 3,
  parentsync: 4,
  suffix: 5,
  pubkey: 6,
  pubcds: 7,
} as const;

/** nsmgmt values: 1 owner, 2 agent. parentsync values: 0 owner, 1 agent. */
export const NSMGMT = { owner: 1, agent: 2 } as const;
export const PARENTSYNC = { owner: 0, agent: 1 } as const;

// One label; TDNS may write a trailing dot, which readers strip (hsyncParamsView).
const LABEL = /^[A-Za-z0-9_-]{1,63}\.?$/;

function labels(key: number, name: string): KeyDef {
  return {
    key,
    name,
    parse: (t) => {
      const parts = (t ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
      for (const p of parts) if (!LABEL.test(p)) throw new FieldError(`${name}: bad label "${p}"`);
      return binaryToBytes(parts.join(','));
    },
    format: (v) => {
      const s = bytesToBinary(v);
      if (s !== '' && !s.split(',').every((p) => LABEL.test(p))) throw new FieldError(`${name}: bad label list`);
      return `"${s}"`;
    },
  };
}

function enumByte(key: number, name: string, values: Record<string, number>): KeyDef {
  const byValue = new Map(Object.entries(values).map(([k, v]) => [v, k]));
  return {
    key,
    name,
    parse: (t) => {
      const v = t !== undefined && /^[0-9]{1,3}$/.test(t) && Number(t) <= 255 ? Number(t) : values[(t ?? '').toLowerCase()];
      if (v === undefined) throw new FieldError(`${name}: expected ${Object.keys(values).join(' or ')}, got "${t ?? ''}"`);
      return Uint8Array.of(v);
    },
    format: (v) => {
      if (v.length !== 1) throw new FieldError(`${name}: value length is not 1`);
      return `"${byValue.get(v[0] as number) ?? String(v[0])}"`;
    },
  };
}

export const HSYNCPARAM_KEYS_DRAFT01: KeyTable = keyTable('HSYNCPARAM', [
  labels(HsyncParamKey.servers, 'servers'),
  labels(HsyncParamKey.signers, 'signers'),
  labels(HsyncParamKey.auditors, 'auditors'),
  enumByte(HsyncParamKey.nsmgmt, 'nsmgmt', NSMGMT),
  enumByte(HsyncParamKey.parentsync, 'parentsync', PARENTSYNC),
  {
    key: HsyncParamKey.suffix,
    name: 'suffix',
    parse: (t) => {
      if (t === undefined || !LABEL.test(t)) throw new FieldError(`suffix: bad label "${t ?? ''}"`);
      return binaryToBytes(t);
    },
    format: (v) => {
      const s = bytesToBinary(v);
      if (!LABEL.test(s)) throw new FieldError('suffix: bad label');
      return `"${s}"`;
    },
  },
  flagKey(HsyncParamKey.pubkey, 'pubkey'),
  flagKey(HsyncParamKey.pubcds, 'pubcds'),
]);

/** An HSYNCPARAM RRset's parameters, with the defaults (nsmgmt, parentsync: owner) filled in. */
export interface HsyncParams {
  servers: string[];
  signers: string[];
  auditors: string[];
  nsmgmt: 'owner' | 'agent';
  parentsync: 'owner' | 'agent';
  suffix?: string;
  pubkey: boolean;
  pubcds: boolean;
  /** Keys this profile does not know, kept raw. */
  unknown: KeyValue[];
}

const stripDot = (s: string): string => (s.endsWith('.') ? s.slice(0, -1) : s);
const list = (v: Uint8Array | undefined): string[] =>
  v === undefined || v.length === 0 ? [] : bytesToBinary(v).split(',').map(stripDot);

/** Semantic view of decoded HSYNCPARAM parameters (labels with one trailing dot stripped). */
export function hsyncParamsView(params: readonly KeyValue[]): HsyncParams {
  const get = (k: number): Uint8Array | undefined => params.find((p) => p.key === k)?.value;
  const ns = get(HsyncParamKey.nsmgmt)?.[0];
  const ps = get(HsyncParamKey.parentsync)?.[0];
  const suffix = get(HsyncParamKey.suffix);
  const out: HsyncParams = {
    servers: list(get(HsyncParamKey.servers)),
    signers: list(get(HsyncParamKey.signers)),
    auditors: list(get(HsyncParamKey.auditors)),
    nsmgmt: ns === NSMGMT.agent ? 'agent' : 'owner',
    parentsync: ps === PARENTSYNC.agent ? 'agent' : 'owner',
    pubkey: get(HsyncParamKey.pubkey) !== undefined,
    pubcds: get(HsyncParamKey.pubcds) !== undefined,
    unknown: params.filter((p) => !HSYNCPARAM_KEYS_DRAFT01.byKey.has(p.key)),
  };
  if (suffix !== undefined) out.suffix = stripDot(bytesToBinary(suffix));
  return out;
}

/** Wire parameters for a view; defaults (owner) are written explicitly only when `explicit`. */
export function hsyncParamsFromView(v: Partial<HsyncParams>, explicit = false): KeyValue[] {
  const out: KeyValue[] = [];
  const put = (key: number, value: Uint8Array): void => {
    out.push({ key, value });
  };
  if (v.servers !== undefined) put(HsyncParamKey.servers, binaryToBytes(v.servers.join(',')));
  if (v.signers !== undefined) put(HsyncParamKey.signers, binaryToBytes(v.signers.join(',')));
  if (v.auditors !== undefined && v.auditors.length > 0) put(HsyncParamKey.auditors, binaryToBytes(v.auditors.join(',')));
  if (v.nsmgmt !== undefined && (explicit || v.nsmgmt !== 'owner')) put(HsyncParamKey.nsmgmt, Uint8Array.of(NSMGMT[v.nsmgmt]));
  if (v.parentsync !== undefined && (explicit || v.parentsync !== 'owner')) put(HsyncParamKey.parentsync, Uint8Array.of(PARENTSYNC[v.parentsync]));
  if (v.suffix !== undefined) put(HsyncParamKey.suffix, binaryToBytes(v.suffix));
  if (v.pubkey === true) put(HsyncParamKey.pubkey, new Uint8Array(0));
  if (v.pubcds === true) put(HsyncParamKey.pubcds, new Uint8Array(0));
  for (const u of v.unknown ?? []) out.push(u);
  return sortUnique(out, 'HSYNCPARAM');
}
