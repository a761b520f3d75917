// Query mode of the gateway transport, for envelopes too large for one NOTIFY (TDNS's
// chunk_mode=query): the sender keeps the envelope as CHUNK RRs (type 65288) at
// `<seq>.<receiver>.<distid>.<sender>` for a minute, seq 0 a Format 1 (JSON) manifest
// `{chunk_count, chunk_size, metadata{content, distribution_id, receiver_id, timestamp}, payload}`
// and seqs 1..N consecutive slices of the envelope's bytes; its NOTIFY carries option 65005
// (host:port of its own listener) instead of 65004, and the receiver fetches the RRs there over
// TCP and joins the slices. This file holds the pieces both sides share: the manifest codec, the
// split, the sender's store and the QUERY handler that serves it, and the receiver's fetch.
import { decodeChunkQueryEndpoint } from '../../dns/edns.ts';
import { DnsError } from '../../dns/errors.ts';
import { parseName, type Fqdn } from '../../dns/name.ts';
import { queryOn } from '../../dns/net/client.ts';
import { PipelinedTcp } from '../../dns/net/exchange.ts';
import { NetError } from '../../dns/net/errors.ts';
import type { QueryMessageHandler } from '../../dns/net/server.ts';
import type { Peer } from '../../dns/net/transport.ts';
import { decodeRdata, encodeRdata } from '../../dns/rdata/index.ts';
import { Rcode, RRType } from '../../dns/types.ts';

/** Largest data slice per CHUNK RR (TDNS's default for TCP). */
export const CHUNK_SIZE = 60_000;
/** How long the sender serves a distribution's chunks, seconds (also the RRs' TTL). */
export const CHUNK_TTL_S = 60;
/** CHUNK RR Format: 1 = JSON (manifests, and TDNS's data chunks), 2 = JOSE. */
const FORMAT_JSON = 1;

/** One CHUNK RR's RDATA: Format u8 · HMAC len u16 · HMAC · Sequence u16 · Total u16 · Data len u16 · Data. */
export interface ChunkRecord {
  readonly format: number;
  readonly hmac: Uint8Array;
  readonly sequence: number;
  readonly total: number;
  readonly data: Uint8Array;
}

export interface ManifestMetadata {
  /** What the payload is (TDNS: the message type, "sync", "beat", …). */
  readonly content: string;
  readonly distributionId: string;
  readonly receiverId: string;
  /** Unix seconds. */
  readonly timestamp: number;
}

/** The seq-0 manifest: chunk_count 0 means the payload is inline (base64, Go []byte). */
export interface Manifest {
  readonly chunkCount: number;
  readonly chunkSize: number;
  readonly metadata: ManifestMetadata;
  readonly payload?: Uint8Array;
}

/** A manifest or chunk that is not what query mode expects. */
export class ChunkError extends Error {
  override name = 'ChunkError';
  constructor(
    /** 'fetch': unreachable, missing, malformed or not ours; 'oversize': over the receiver's cap. */
    readonly kind: 'fetch' | 'oversize',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The manifest's JSON, keys in TDNS's order (Go struct order; metadata map keys sorted). */
export function encodeManifest(m: Manifest): Uint8Array {
  const json: Record<string, unknown> = { chunk_count: m.chunkCount };
  if (m.chunkSize !== 0) json['chunk_size'] = m.chunkSize;
  json['metadata'] = { content: m.metadata.content, distribution_id: m.metadata.distributionId, receiver_id: m.metadata.receiverId, timestamp: m.metadata.timestamp };
  if (m.payload !== undefined && m.payload.length > 0) json['payload'] = Buffer.from(m.payload).toString('base64');
  return new TextEncoder().encode(JSON.stringify(json));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isU16 = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffff;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Parses a manifest's JSON; throws ChunkError('fetch') for anything but TDNS's shape. */
export function decodeManifest(bytes: Uint8Array): Manifest {
  let j: unknown;
  try {
    j = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new ChunkError('fetch', 'manifest is not JSON', { cause: e });
  }
  if (!isObject(j)) throw new ChunkError('fetch', 'manifest is not a JSON object');
  const { chunk_count: count, chunk_size: size = 0, metadata: md, payload } = j;
  if (!isU16(count)) throw new ChunkError('fetch', 'manifest chunk_count is not 0..65535');
  if (!isU16(size)) throw new ChunkError('fetch', 'manifest chunk_size is not 0..65535');
  if (!isObject(md)) throw new ChunkError('fetch', 'manifest has no metadata object');
  const { content = '', distribution_id: distId, receiver_id: receiver, timestamp = 0 } = md;
  if (typeof distId !== 'string' || typeof receiver !== 'string') throw new ChunkError('fetch', 'manifest metadata lacks distribution_id or receiver_id');
  if (typeof content !== 'string' || typeof timestamp !== 'number') throw new ChunkError('fetch', 'manifest metadata content or timestamp of the wrong type');
  if (payload !== undefined && payload !== null && (typeof payload !== 'string' || !BASE64.test(payload))) throw new ChunkError('fetch', 'manifest payload is not base64');
  const inline = typeof payload === 'string' && payload.length > 0 ? new Uint8Array(Buffer.from(payload, 'base64')) : undefined;
  if (count === 0 && inline === undefined) throw new ChunkError('fetch', 'manifest has neither chunks nor an inline payload');
  if (count > 0 && inline !== undefined) throw new ChunkError('fetch', 'manifest has both chunks and an inline payload');
  return { chunkCount: count, chunkSize: size, metadata: { content, distributionId: distId, receiverId: receiver, timestamp }, ...(inline !== undefined ? { payload: inline } : {}) };
}

/** `<receiver>.<distid>.<sender>`: where one distribution's chunks live (seq labels below). */
export function chunkBase(receiver: Fqdn, distId: string, sender: Fqdn): Fqdn {
  return parseName(`${receiver}${distId}.${sender}`);
}

export function chunkOwner(seq: number, base: Fqdn): Fqdn {
  return parseName(`${seq}.${base}`);
}

/** The manifest (seq 0) and data chunks (1..N) for `payload`; always chunked, never inline. */
export function splitPayload(payload: Uint8Array, metadata: ManifestMetadata, chunkSize = CHUNK_SIZE): ChunkRecord[] {
  if (!isU16(chunkSize) || chunkSize === 0) throw new RangeError(`chunk size ${chunkSize} is not 1..65535`);
  const count = Math.ceil(payload.length / chunkSize);
  if (count === 0 || count > 0xffff) throw new RangeError(`a payload of ${payload.length} bytes makes ${count} chunks`);
  const manifest: ChunkRecord = { format: FORMAT_JSON, hmac: new Uint8Array(0), sequence: 0, total: count, data: encodeManifest({ chunkCount: count, chunkSize, metadata }) };
  const out = [manifest];
  for (let i = 0; i < count; i++) {
    out.push({ format: FORMAT_JSON, hmac: new Uint8Array(0), sequence: i + 1, total: count, data: payload.subarray(i * chunkSize, (i + 1) * chunkSize) });
  }
  return out;
}

export class ChunkStoreFullError extends Error {
  override name = 'ChunkStoreFullError';
}

interface Entry {
  readonly chunks: readonly ChunkRecord[];
  readonly bytes: number;
  readonly expires: number;
}

export interface ChunkStoreOptions {
  /** How long a distribution is served, ms. Default CHUNK_TTL_S seconds. */
  readonly ttlMs?: number;
  /** Largest total of data bytes held; the oldest distributions go first. Default 64 MiB. */
  readonly maxBytes?: number;
  readonly now?: () => number;
}

/**
 * The sender's chunks, in memory, by base name (`<receiver>.<distid>.<sender>`): each
 * distribution expires after the TTL, and the total is bounded (the oldest are dropped to make
 * room; one larger than the whole bound is refused).
 */
export class ChunkStore {
  readonly #entries = new Map<string, Entry>();
  readonly #ttl: number;
  readonly #max: number;
  readonly #now: () => number;
  #bytes = 0;

  constructor(opts: ChunkStoreOptions = {}) {
    this.#ttl = opts.ttlMs ?? CHUNK_TTL_S * 1000;
    this.#max = opts.maxBytes ?? 64 * 1024 * 1024;
    this.#now = opts.now ?? Date.now;
  }

  /** Data bytes held (expired entries included until the next put or get). */
  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  put(base: Fqdn, chunks: readonly ChunkRecord[]): void {
    const bytes = chunks.reduce((n, c) => n + c.data.length + c.hmac.length, 0);
    if (bytes > this.#max) throw new ChunkStoreFullError(`${bytes} bytes of chunks exceed the store's ${this.#max}`);
    this.#sweep();
    this.#delete(base.toLowerCase());
    for (const key of this.#entries.keys()) {
      if (this.#bytes + bytes <= this.#max) break;
      this.#delete(key);
    }
    this.#entries.set(base.toLowerCase(), { chunks, bytes, expires: this.#now() + this.#ttl });
    this.#bytes += bytes;
  }

  /** Drops a distribution (e.g. once its receiver has answered). */
  delete(base: Fqdn): void {
    this.#delete(base.toLowerCase());
  }

  /** The chunk at `<seq>.<base>`, while its distribution has not expired. */
  get(owner: Fqdn): ChunkRecord | undefined {
    const lower = owner.toLowerCase();
    const dot = lower.indexOf('.');
    const seqLabel = lower.slice(0, dot);
    if (dot <= 0 || !/^(0|[1-9][0-9]{0,4})$/.test(seqLabel)) return undefined;
    const key = lower.slice(dot + 1);
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    if (this.#now() >= e.expires) {
      this.#delete(key);
      return undefined;
    }
    return e.chunks[Number(seqLabel)];
  }

  #sweep(): void {
    const now = this.#now();
    for (const [k, e] of this.#entries) if (now >= e.expires) this.#delete(k);
  }

  #delete(key: string): void {
    const e = this.#entries.get(key);
    if (e === undefined) return;
    this.#entries.delete(key);
    this.#bytes -= e.bytes;
  }
}

/**
 * Answers QTYPE CHUNK queries from `store`: over TCP only (REFUSED over UDP: a chunk does not
 * fit), NOERROR with the one CHUNK RR, NXDOMAIN for a name not (or no longer) held. Anyone who
 * can reach the listener can fetch, but every chunk is a slice of an envelope encrypted to the
 * receiver named in the owner.
 */
export function chunkQueryHandler(store: ChunkStore): QueryMessageHandler {
  return (msg, ctx) => {
    const q = msg.question[0];
    if (q === undefined) return { rcode: Rcode.FORMERR };
    if (ctx.transport !== 'tcp') return { rcode: Rcode.REFUSED };
    const c = store.get(q.name);
    if (c === undefined) return { rcode: Rcode.NXDOMAIN };
    return { rcode: Rcode.NOERROR, aa: true, answer: [{ name: q.name, type: RRType.CHUNK, class: 1, ttl: CHUNK_TTL_S, rdata: encodeRdata('CHUNK', c) }] };
  };
}

/** Parses option 65005's `host:port` (`[v6]:port` or `v6-literal:port`); undefined when malformed. */
export function parseQueryEndpoint(data: Uint8Array): { host: string; port: number } | undefined {
  let text: string;
  try {
    text = decodeChunkQueryEndpoint(data);
  } catch (e) {
    if (e instanceof DnsError) return undefined;
    throw e;
  }
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^(.+):(\d{1,5})$/.exec(text);
  const port = Number(m?.[2]);
  if (m === null || !(port > 0 && port <= 0xffff)) return undefined;
  return { host: m[1] ?? '', port };
}

export interface FetchOptions {
  /** Whole fetch (connect, manifest, every chunk), ms. */
  readonly timeoutMs: number;
  /** Largest reassembled payload, bytes. */
  readonly maxBytes: number;
  readonly distributionId: string;
  readonly receiver: Fqdn;
}

const sameIdentity = (a: string, b: string): boolean => a.toLowerCase().replace(/\.$/, '') === b.toLowerCase().replace(/\.$/, '');

/**
 * Fetches one distribution from `server` over one TCP connection: the manifest, checked to name
 * this distid and receiver and to fit `maxBytes`, then each data chunk in order; returns the
 * joined payload. Throws ChunkError for every failure.
 */
export async function fetchChunks(server: Peer, base: Fqdn, o: FetchOptions): Promise<Uint8Array> {
  const deadline = performance.now() + o.timeoutMs;
  const left = (): number => {
    const ms = Math.ceil(deadline - performance.now());
    if (ms <= 0) throw new ChunkError('fetch', `fetch from ${server.address}:${server.port} took longer than ${o.timeoutMs} ms`);
    return ms;
  };
  let conn: PipelinedTcp | undefined;
  try {
    conn = await PipelinedTcp.open(server, left());
    const one = async (seq: number): Promise<ChunkRecord> => {
      const owner = chunkOwner(seq, base);
      const r = await queryOn(conn as PipelinedTcp, owner, RRType.CHUNK, { timeoutMs: left() });
      if (r.message.rcode !== Rcode.NOERROR) throw new ChunkError('fetch', `${owner} CHUNK answered rcode ${r.message.rcode}`);
      const rr = r.message.answer.find((a) => a.type === RRType.CHUNK && a.name.toLowerCase() === owner.toLowerCase());
      if (rr === undefined) throw new ChunkError('fetch', `no CHUNK RR for ${owner}`);
      const c = decodeRdata('CHUNK', rr.rdata);
      if (c.sequence !== seq) throw new ChunkError('fetch', `${owner} holds sequence ${c.sequence}`);
      return c;
    };
    const head = await one(0);
    if (head.format !== FORMAT_JSON) throw new ChunkError('fetch', `manifest in format ${head.format}, not JSON (1)`);
    const m = decodeManifest(head.data);
    if (m.metadata.distributionId.toLowerCase() !== o.distributionId) throw new ChunkError('fetch', `manifest for distribution ${m.metadata.distributionId}, not ${o.distributionId}`);
    if (!sameIdentity(m.metadata.receiverId, o.receiver)) throw new ChunkError('fetch', `manifest for receiver ${m.metadata.receiverId}, not ${o.receiver}`);
    if (head.total !== m.chunkCount) throw new ChunkError('fetch', `manifest RR total ${head.total} but chunk_count ${m.chunkCount}`);
    if (m.payload !== undefined) {
      if (m.payload.length > o.maxBytes) throw new ChunkError('oversize', `inline payload of ${m.payload.length} bytes exceeds ${o.maxBytes}`);
      return m.payload;
    }
    if (m.chunkSize > 0 && (m.chunkCount - 1) * m.chunkSize + 1 > o.maxBytes) throw new ChunkError('oversize', `${m.chunkCount} chunks of ${m.chunkSize} bytes exceed ${o.maxBytes}`);
    const parts: Uint8Array[] = [];
    let size = 0;
    for (let seq = 1; seq <= m.chunkCount; seq++) {
      const c = await one(seq);
      if (c.total !== m.chunkCount) throw new ChunkError('fetch', `chunk ${seq} says total ${c.total}, manifest ${m.chunkCount}`);
      size += c.data.length;
      if (size > o.maxBytes) throw new ChunkError('oversize', `reassembled payload exceeds ${o.maxBytes} bytes at chunk ${seq} of ${m.chunkCount}`);
      parts.push(c.data);
    }
    return Buffer.concat(parts);
  } catch (e) {
    if (e instanceof ChunkError) throw e;
    if (e instanceof NetError || e instanceof DnsError) throw new ChunkError('fetch', `fetch from ${server.address}:${server.port}: ${e.message}`, { cause: e });
    throw e;
  } finally {
    conn?.close();
  }
}
