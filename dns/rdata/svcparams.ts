// SVCB/HTTPS SvcParams (RFC 9460 §7): the key table for the generic key=value list codec.
import { FieldError } from '../errors.ts';
import { formatBase64, formatIpv4, formatIpv6, parseBase64, parseIpv4, parseIpv6, parseUint, quoteBytes, unescapeBytes } from './text.ts';
import { flagKey, keyCode, keyName, keyTable, rawValue, splitCommaList, type KeyDef, type KeyTable, type KeyValue } from './keyvalue.ts';

const need = (text: string | undefined, key: string): string => {
  if (text === undefined || text === '') throw new FieldError(`${key} needs a value`);
  return text;
};

function addrList(size: number, parse: (s: string) => Uint8Array, format: (b: Uint8Array) => string, key: string, k: number): KeyDef {
  return {
    key: k,
    name: key,
    parse: (t) => {
      const parts = need(t, key).split(',');
      const out = new Uint8Array(parts.length * size);
      parts.forEach((p, i) => out.set(parse(p), i * size));
      return out;
    },
    format: (v) => {
      if (v.length === 0 || v.length % size !== 0) throw new FieldError(`${key}: bad length ${v.length}`);
      const parts: string[] = [];
      for (let i = 0; i < v.length; i += size) parts.push(format(v.subarray(i, i + size)));
      return parts.join(',');
    },
  };
}

const mandatory: KeyDef = {
  key: 0,
  name: 'mandatory',
  parse: (t) => {
    const keys = need(t, 'mandatory').split(',').map((k) => keyCode(SVC_PARAMS, k));
    keys.sort((a, b) => a - b);
    const out = new Uint8Array(keys.length * 2);
    keys.forEach((k, i) => {
      if (k === 0) throw new FieldError('mandatory may not list itself');
      if (i > 0 && keys[i - 1] === k) throw new FieldError('mandatory lists a key twice');
      out[2 * i] = k >> 8;
      out[2 * i + 1] = k & 0xff;
    });
    return out;
  },
  format: (v) => {
    if (v.length === 0 || v.length % 2 !== 0) throw new FieldError('mandatory: bad length');
    const names: string[] = [];
    let last = -1;
    for (let i = 0; i < v.length; i += 2) {
      const k = ((v[i] as number) << 8) | (v[i + 1] as number);
      if (k === 0 || k <= last || k === 65535) throw new FieldError('mandatory: keys not strictly increasing');
      names.push(keyName(SVC_PARAMS, k));
      last = k;
    }
    return names.join(',');
  },
};

const alpn: KeyDef = {
  key: 1,
  name: 'alpn',
  parse: (t) => {
    const ids = splitCommaList(need(t, 'alpn')).map((s) => unescapeBytes(s));
    const len = ids.reduce((n, b) => n + 1 + b.length, 0);
    const out = new Uint8Array(len);
    let o = 0;
    for (const id of ids) {
      if (id.length === 0 || id.length > 255) throw new FieldError('alpn: bad protocol id length');
      out[o++] = id.length;
      out.set(id, o);
      o += id.length;
    }
    return out;
  },
  format: (v) => {
    const parts: string[] = [];
    let o = 0;
    if (v.length === 0) throw new FieldError('alpn: empty');
    while (o < v.length) {
      const l = v[o] as number;
      if (l === 0 || o + 1 + l > v.length) throw new FieldError('alpn: bad length');
      const q = quoteBytes(v.subarray(o + 1, o + 1 + l)).slice(1, -1);
      parts.push(q.replace(/,/g, '\\,'));
      o += 1 + l;
    }
    return `"${parts.join(',')}"`;
  },
};

const port: KeyDef = {
  key: 3,
  name: 'port',
  parse: (t) => {
    const p = parseUint(need(t, 'port'), 0xffff, 'port');
    return Uint8Array.of(p >> 8, p & 0xff);
  },
  format: (v) => {
    if (v.length !== 2) throw new FieldError('port: bad length');
    return String(((v[0] as number) << 8) | (v[1] as number));
  },
};

const ech: KeyDef = {
  key: 5,
  name: 'ech',
  parse: (t) => parseBase64(need(t, 'ech')),
  format: (v) => formatBase64(v),
};

const dohpath: KeyDef = {
  key: 7,
  name: 'dohpath',
  parse: (t) => rawValue(need(t, 'dohpath')),
  format: (v) => quoteBytes(v),
};

/** RFC 9460 §8: every key listed in mandatory must be present (and mandatory not list itself). */
function mandatoryPresent(list: readonly KeyValue[]): void {
  const m = list.find((kv) => kv.key === 0);
  if (m === undefined) return;
  const present = new Set(list.map((kv) => kv.key));
  for (let i = 0; i + 1 < m.value.length; i += 2) {
    const k = ((m.value[i] as number) << 8) | (m.value[i + 1] as number);
    if (!present.has(k)) throw new FieldError(`mandatory key ${keyName(SVC_PARAMS, k)} is missing`);
  }
}

export const SVC_PARAMS: KeyTable = keyTable('SvcParam', [
  mandatory,
  alpn,
  flagKey(2, 'no-default-alpn'),
  port,
  addrList(4, parseIpv4, formatIpv4, 'ipv4hint', 4),
  ech,
  addrList(16, parseIpv6, formatIpv6, 'ipv6hint', 6),
  dohpath,
], mandatoryPresent);
