// The gateway's sending side: one message to one peer as NOTIFY(CHUNK) over TCP, QNAME
// `<distid>.<our identity>`, the envelope in EDNS option 65004, or, when it is larger than the
// inline limit, in query mode (chunks.ts): the envelope kept as CHUNK RRs in our ChunkStore, which
// our DNS listener serves, and option 65005 naming that listener instead. Delivered means a NOERROR that
// carries a confirm which verifies with the peer's key, is addressed to us, is inside the time
// window, and names our distid and the peer; anything else is not delivered (DeliveryError),
// and the caller retries from its durable queue.
import { randomBytes } from 'node:crypto';
import { ChunkFormat, decodeChunkOption, encodeChunkOption, encodeChunkQueryEndpoint, type EdnsOptionData } from '../../dns/edns.ts';
import { DnsError } from '../../dns/errors.ts';
import type { Fqdn } from '../../dns/name.ts';
import { parseName } from '../../dns/name.ts';
import { query, queryOn } from '../../dns/net/client.ts';
import { PipelinedTcp } from '../../dns/net/exchange.ts';
import type { Peer } from '../../dns/net/transport.ts';
import { EdnsOption, Opcode, Rcode } from '../../dns/types.ts';
import type { Endpoint } from '../../protocol/discovery.ts';
import { checkRecipient, checkTime, openEnvelope, seal, verifyEnvelope, type OwnKeys, type PeerKeys } from '../../protocol/envelope.ts';
import { EnvelopeError, MessageError } from '../../protocol/errors.ts';
import { decodeMessage, encodeMessage, type Confirm, type Message } from '../../protocol/messages.ts';
import { CHUNK_SIZE, ChunkStoreFullError, chunkBase, splitPayload, type ChunkStore } from './chunks.ts';
import { CHUNK_QTYPE } from './receive.ts';

/** Largest envelope sent inline in option 65004, bytes; larger ones go in query mode. */
export const INLINE_LIMIT = 60_000;

export class DeliveryError extends Error {
  override name = 'DeliveryError';
  constructor(
    readonly peer: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`to ${peer}: ${message}`, options);
  }
}

/** A fresh distribution id: 8 lower-case hex digits. */
export function newDistributionId(): string {
  return randomBytes(4).toString('hex');
}

export interface PeerAddress {
  readonly identity: Fqdn;
  readonly keys: PeerKeys;
  readonly endpoint: Endpoint;
}

/**
 * Open TCP connections to peers' gateways, one per address, reused and shared by concurrent
 * messages (RFC 7766 pipelining). A connection that failed or was closed by the peer is replaced
 * on the next use.
 */
export class Connections {
  readonly #open = new Map<string, Promise<PipelinedTcp>>();

  async get(peer: Peer, timeoutMs: number): Promise<PipelinedTcp> {
    const key = `${peer.address}:${peer.port}`;
    const have = this.#open.get(key);
    if (have !== undefined) {
      const conn = await have.catch(() => undefined);
      if (conn?.usable === true) return conn;
    }
    const opening = PipelinedTcp.open(peer, timeoutMs);
    this.#open.set(key, opening);
    opening.catch(() => this.#open.delete(key));
    return opening;
  }

  close(): void {
    for (const p of this.#open.values()) void p.then((c) => c.close(), () => {});
    this.#open.clear();
  }
}

export interface SendOptions {
  readonly self: Fqdn;
  /** Reuse connections from this pool (default: a new connection per message). */
  readonly connections?: Connections;
  readonly own: OwnKeys;
  readonly distributionId?: string;
  readonly timeoutMs?: number;
  /** Accepted clock skew of the confirm, ms. Default 300 000. */
  readonly windowMs?: number;
  readonly now?: () => number;
  /**
   * Query mode, for envelopes over `inlineLimit`: the store our DNS listener serves CHUNK
   * queries from (chunkQueryHandler), and that listener's address as the receiver must reach it,
   * `host:port` (`[v6]:port`), one of the addresses and the port we publish in discovery.
   * Without both, a message too large to go inline fails with a DeliveryError.
   */
  readonly chunks?: ChunkStore;
  readonly queryEndpoint?: string;
  /** Default INLINE_LIMIT; tests lower it. */
  readonly inlineLimit?: number;
  /** Data bytes per CHUNK RR in query mode. Default CHUNK_SIZE. */
  readonly chunkSize?: number;
  /** How long to wait for the answer in query mode (the peer fetches first), ms. Default the larger of timeoutMs and 15 000. */
  readonly queryTimeoutMs?: number;
}

/** Sends `message` to `peer` and returns its verified confirm; throws DeliveryError otherwise. */
export async function sendMessage(peer: PeerAddress, message: Message, opts: SendOptions): Promise<Confirm> {
  const now = (opts.now ?? Date.now)();
  const distId = opts.distributionId ?? newDistributionId();
  const sealed = await seal({ body: encodeMessage(message), recipient: peer.identity, time: now, sender: opts.own, to: peer.keys });
  const payload = new TextEncoder().encode(sealed);
  const qname = parseName(`${distId}.${opts.self}`);
  const queryMode = payload.length > (opts.inlineLimit ?? INLINE_LIMIT);
  const option = queryMode ? storeChunks(peer, message, payload, distId, now, opts) : encodeChunkOption({ format: ChunkFormat.JOSE, hmac: new Uint8Array(0), data: payload });
  try {
    const timeoutMs = queryMode ? (opts.queryTimeoutMs ?? Math.max(opts.timeoutMs ?? 0, 15_000)) : (opts.timeoutMs ?? 5000);
    return await notify(peer, qname, option, distId, { ...opts, timeoutMs }, now);
  } finally {
    // Once the peer has answered (or cannot be reached) nobody needs the chunks; a retry reseals.
    if (queryMode) opts.chunks?.delete(chunkBase(peer.identity, distId, opts.self));
  }
}

/** Puts the envelope's chunks in our store; the NOTIFY's option 65005 that points at them. */
function storeChunks(peer: PeerAddress, message: Message, payload: Uint8Array, distId: string, now: number, opts: SendOptions): EdnsOptionData {
  const limit = opts.inlineLimit ?? INLINE_LIMIT;
  if (opts.chunks === undefined || opts.queryEndpoint === undefined) throw new DeliveryError(peer.identity, `envelope of ${payload.length} bytes exceeds the inline limit of ${limit} and query mode is not configured`);
  try {
    const metadata = { content: message.type, distributionId: distId, receiverId: peer.identity, timestamp: Math.floor(now / 1000) };
    opts.chunks.put(chunkBase(peer.identity, distId, opts.self), splitPayload(payload, metadata, opts.chunkSize ?? CHUNK_SIZE));
  } catch (e) {
    if (e instanceof ChunkStoreFullError || e instanceof RangeError || e instanceof DnsError) throw new DeliveryError(peer.identity, `envelope of ${payload.length} bytes: ${e.message}`, { cause: e });
    throw e;
  }
  return encodeChunkQueryEndpoint(opts.queryEndpoint);
}

async function notify(peer: PeerAddress, qname: Fqdn, option: EdnsOptionData, distId: string, opts: SendOptions, now: number): Promise<Confirm> {
  let lastError: unknown;
  for (const address of peer.endpoint.addresses) {
    let resp;
    const server = { address, port: peer.endpoint.port };
    const qopts = { opcode: Opcode.NOTIFY, tcp: true, udpSize: 4096, dnssecOk: true, ednsOptions: [option], timeoutMs: opts.timeoutMs ?? 5000 };
    try {
      resp = opts.connections === undefined ? await query(server, qname, CHUNK_QTYPE, qopts) : await queryOn(await opts.connections.get(server, qopts.timeoutMs), qname, CHUNK_QTYPE, qopts);
    } catch (e) {
      lastError = e;
      continue;
    }
    return await confirmOf(peer, resp.message.rcode, resp.message.edns?.options.find((o) => o.code === EdnsOption.CHUNK)?.data, distId, opts, now);
  }
  throw new DeliveryError(peer.identity, `no answer from ${peer.endpoint.addresses.join(', ')} port ${peer.endpoint.port}: ${lastError instanceof Error ? lastError.message : String(lastError)}`, { cause: lastError });
}

async function confirmOf(peer: PeerAddress, rcode: number, raw: Uint8Array | undefined, distId: string, opts: SendOptions, now: number): Promise<Confirm> {
  if (rcode !== Rcode.NOERROR) throw new DeliveryError(peer.identity, `answered rcode ${rcode}`);
  if (raw === undefined) throw new DeliveryError(peer.identity, 'NOERROR without a confirm');
  let confirm: Message;
  try {
    const chunk = decodeChunkOption(raw);
    if (chunk.format !== ChunkFormat.JOSE) throw new DeliveryError(peer.identity, `confirm in format ${chunk.format}, not JOSE`);
    const v = await verifyEnvelope(new TextDecoder().decode(chunk.data), peer.keys);
    checkRecipient(v, opts.self);
    checkTime(v, now, opts.windowMs ?? 300_000);
    confirm = decodeMessage(await openEnvelope(v, opts.own));
  } catch (e) {
    if (e instanceof DnsError || e instanceof EnvelopeError || e instanceof MessageError) throw new DeliveryError(peer.identity, `confirm refused: ${e.message}`, { cause: e });
    throw e;
  }
  if (confirm.type !== 'confirm') throw new DeliveryError(peer.identity, `answer is a ${confirm.type}, not a confirm`);
  if (confirm.distributionId !== distId) throw new DeliveryError(peer.identity, `confirm for ${confirm.distributionId}, not ${distId}`);
  if (confirm.sender !== peer.identity) throw new DeliveryError(peer.identity, `confirm from ${confirm.sender}`);
  return confirm;
}
