// EDNS(0) (RFC 6891): the OPT pseudo-RR as a plain object, and codecs for the options mpdns
// uses: CHUNK (65004), CHUNK-QUERY-ENDPOINT (65005), KEYSTATE (65002, TDNS layout), COOKIE (10).
import { WireError } from './errors.ts';
import { EdnsOption } from './types.ts';

export interface EdnsOptionData {
  readonly code: number;
  readonly data: Uint8Array;
}

export interface Edns {
  /** Requestor's UDP payload size (the OPT CLASS). */
  readonly udpSize: number;
  /** Upper 8 bits of the extended RCODE, as on the wire (the message's rcode holds all 12 bits). */
  readonly extRcode: number;
  readonly version: number;
  /** DNSSEC OK. */
  readonly do: boolean;
  readonly options: readonly EdnsOptionData[];
}

/** The OPT TTL field from an Edns (extended rcode bits, version, DO). */
export function ednsTtl(e: Edns): number {
  return ((e.extRcode & 0xff) << 24) + ((e.version & 0xff) << 16) + (e.do ? 0x8000 : 0);
}

/** Decodes OPT option list bytes (OPT RDATA). */
export function decodeEdnsOptions(rdata: Uint8Array, base = 0): EdnsOptionData[] {
  const out: EdnsOptionData[] = [];
  let o = 0;
  while (o < rdata.length) {
    if (o + 4 > rdata.length) throw new WireError('truncated EDNS option header', base + o);
    const code = ((rdata[o] as number) << 8) | (rdata[o + 1] as number);
    const len = ((rdata[o + 2] as number) << 8) | (rdata[o + 3] as number);
    o += 4;
    if (o + len > rdata.length) throw new WireError('truncated EDNS option data', base + o);
    out.push({ code, data: rdata.slice(o, o + len) });
    o += len;
  }
  return out;
}

/** Length of the OPT RDATA for these options. */
export function ednsOptionsLength(options: readonly EdnsOptionData[]): number {
  let n = 0;
  for (const opt of options) n += 4 + opt.data.length;
  return n;
}

/** Writes options into `buf` at `off`; returns the new offset. */
export function writeEdnsOptions(buf: Uint8Array, off: number, options: readonly EdnsOptionData[]): number {
  let o = off;
  for (const opt of options) {
    if (opt.data.length > 0xffff) throw new WireError('EDNS option too long', o);
    buf[o++] = opt.code >> 8;
    buf[o++] = opt.code & 0xff;
    buf[o++] = opt.data.length >> 8;
    buf[o++] = opt.data.length & 0xff;
    buf.set(opt.data, o);
    o += opt.data.length;
  }
  return o;
}

/** The first option with `code`, if any. */
export function findOption(e: Edns | undefined, code: number): Uint8Array | undefined {
  return e?.options.find((o) => o.code === code)?.data;
}

// --- CHUNK (65004): Format u8 · HMAC length u16 · HMAC · Data length u16 · Data ---

export const ChunkFormat = { JSON: 1, JOSE: 2 } as const;

export interface ChunkOption {
  readonly format: number;
  readonly hmac: Uint8Array;
  readonly data: Uint8Array;
}

export function encodeChunkOption(c: ChunkOption): EdnsOptionData {
  if (c.hmac.length > 0xffff || c.data.length > 0xffff) throw new WireError('CHUNK option field too long', 0);
  const out = new Uint8Array(1 + 2 + c.hmac.length + 2 + c.data.length);
  let o = 0;
  out[o++] = c.format;
  out[o++] = c.hmac.length >> 8;
  out[o++] = c.hmac.length & 0xff;
  out.set(c.hmac, o);
  o += c.hmac.length;
  out[o++] = c.data.length >> 8;
  out[o++] = c.data.length & 0xff;
  out.set(c.data, o);
  return { code: EdnsOption.CHUNK, data: out };
}

export function decodeChunkOption(data: Uint8Array): ChunkOption {
  if (data.length < 5) throw new WireError('CHUNK option too short', 0);
  const format = data[0] as number;
  const hlen = ((data[1] as number) << 8) | (data[2] as number);
  if (3 + hlen + 2 > data.length) throw new WireError('CHUNK option: truncated HMAC', 3);
  const hmac = data.slice(3, 3 + hlen);
  let o = 3 + hlen;
  const dlen = ((data[o] as number) << 8) | (data[o + 1] as number);
  o += 2;
  if (o + dlen !== data.length) throw new WireError('CHUNK option: data length mismatch', o);
  return { format, hmac, data: data.slice(o, o + dlen) };
}

// --- CHUNK-QUERY-ENDPOINT (65005): ASCII "host:port" where the receiver fetches CHUNK RRs ---

export function encodeChunkQueryEndpoint(endpoint: string): EdnsOptionData {
  const bytes = new TextEncoder().encode(endpoint);
  return { code: EdnsOption.CHUNK_QUERY_ENDPOINT, data: bytes };
}

export function decodeChunkQueryEndpoint(data: Uint8Array): string {
  for (const b of data) if (b < 0x21 || b > 0x7e) throw new WireError('CHUNK-QUERY-ENDPOINT: not printable ASCII', 0);
  return new TextDecoder().decode(data);
}

// --- KEYSTATE (65002), TDNS layout: KEY-ID u16 · KEY-STATE u8 · KEY-DATA u8 · EXTRA-TEXT ---

export interface KeyStateOption {
  readonly keyId: number;
  readonly keyState: number;
  readonly keyData: number;
  readonly extraText: string;
}

export function encodeKeyStateOption(k: KeyStateOption): EdnsOptionData {
  const text = new TextEncoder().encode(k.extraText);
  const out = new Uint8Array(4 + text.length);
  out[0] = k.keyId >> 8;
  out[1] = k.keyId & 0xff;
  out[2] = k.keyState;
  out[3] = k.keyData;
  out.set(text, 4);
  return { code: EdnsOption.KEYSTATE, data: out };
}

export function decodeKeyStateOption(data: Uint8Array): KeyStateOption {
  if (data.length < 4) throw new WireError('KEYSTATE option shorter than 4 octets', 0);
  return {
    keyId: ((data[0] as number) << 8) | (data[1] as number),
    keyState: data[2] as number,
    keyData: data[3] as number,
    extraText: new TextDecoder().decode(data.subarray(4)),
  };
}

// --- COOKIE (10, RFC 7873): client cookie 8 octets, optional server cookie 8..32 octets ---

export interface CookieOption {
  readonly client: Uint8Array;
  readonly server?: Uint8Array;
}

export function decodeCookieOption(data: Uint8Array): CookieOption {
  if (data.length !== 8 && (data.length < 16 || data.length > 40)) throw new WireError('COOKIE option: bad length', 0);
  const client = data.slice(0, 8);
  return data.length === 8 ? { client } : { client, server: data.slice(8) };
}

export function encodeCookieOption(c: CookieOption): EdnsOptionData {
  const s = c.server ?? new Uint8Array(0);
  const out = new Uint8Array(8 + s.length);
  out.set(c.client.subarray(0, 8));
  out.set(s, 8);
  return { code: EdnsOption.COOKIE, data: out };
}
