// Address access lists: CIDR prefixes (IPv4 and IPv6) matched against a peer address.
import { isIP } from 'node:net';
import { AclError } from './errors.ts';

export interface Cidr {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
  readonly prefix: number;
  readonly text: string;
}

function v4Bytes(addr: string): Uint8Array | undefined {
  const parts = addr.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] ?? '';
    if (!/^[0-9]{1,3}$/.test(p) || Number(p) > 255) return undefined;
    out[i] = Number(p);
  }
  return out;
}

function v6Bytes(addr: string): Uint8Array | undefined {
  if (isIP(addr) !== 6) return undefined;
  let text = addr;
  let tail: Uint8Array | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tail = v4Bytes(text.slice(lastColon + 1));
    if (tail === undefined) return undefined;
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head = '', rest] = text.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const r = rest === undefined || rest === '' ? [] : rest.split(':');
  const groups = rest === undefined ? h : [...h, ...Array<string>(8 - h.length - r.length).fill('0'), ...r];
  if (groups.length !== 8) return undefined;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  if (tail !== undefined) out.set(tail, 12);
  return out;
}

/** Bytes of an address; IPv4-mapped IPv6 (::ffff:a.b.c.d) is returned as IPv4. */
export function addressBytes(addr: string): { family: 4 | 6; bytes: Uint8Array } | undefined {
  const v4 = v4Bytes(addr);
  if (v4 !== undefined) return { family: 4, bytes: v4 };
  const v6 = v6Bytes(addr.replace(/%.*$/, ''));
  if (v6 === undefined) return undefined;
  const mapped = v6.subarray(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff;
  return mapped ? { family: 4, bytes: v6.slice(12) } : { family: 6, bytes: v6 };
}

/** Parses `ADDR/PREFIX` or a bare address (a host prefix). Throws AclError. */
export function parseCidr(text: string): Cidr {
  const [addr = '', prefixText] = text.split('/') as [string, string | undefined];
  const a = addressBytes(addr);
  if (a === undefined) throw new AclError(`bad address in "${text}"`);
  const max = a.family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefixText !== undefined && !/^[0-9]{1,3}$/.test(prefixText)) {
    throw new AclError(`bad prefix length in "${text}"`);
  }
  if (prefix > max) throw new AclError(`prefix length ${prefix} too long in "${text}"`);
  return { family: a.family, bytes: a.bytes, prefix, text };
}

export function cidrContains(cidr: Cidr, addr: string): boolean {
  const a = addressBytes(addr);
  if (a === undefined || a.family !== cidr.family) return false;
  let bits = cidr.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((((a.bytes[i] ?? 0) ^ (cidr.bytes[i] ?? 0)) & mask) !== 0) return false;
  }
  return true;
}

/** An ordered list of prefixes; an address matches when any prefix contains it. */
export class Acl {
  readonly cidrs: readonly Cidr[];
  constructor(entries: readonly (string | Cidr)[] = []) {
    this.cidrs = entries.map((e) => (typeof e === 'string' ? parseCidr(e) : e));
  }
  allows(addr: string): boolean {
    return this.cidrs.some((c) => cidrContains(c, addr));
  }
  get empty(): boolean {
    return this.cidrs.length === 0;
  }
}
