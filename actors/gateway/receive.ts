// The gateway's receiving side: one inter-provider message arrives as a NOTIFY over TCP with
// QTYPE CHUNK, QNAME `<distid>.<sender identity>` and the JOSE envelope in EDNS option 65004,
// or, for envelopes too large for that (query mode, chunks.ts), option 65005 naming where the
// sender serves the envelope as CHUNK RRs.
// Checks run in a fixed order, each refusal named (and counted by the caller):
//   sender from the QNAME, known and authorised (else REFUSED, whatever else is wrong) →
//   transport and QTYPE → payload present and JOSE (FORMERR / REFUSED for plain text), or in
//   query mode: 65005 is the sender's discovered endpoint, and the fetch from there succeeds
//   within the time and size limits (else REFUSED, nothing fetched from anywhere else) → JWS verified
//   with that sender's key only → timestamp window → replay record, written atomically before
//   anything has effect (an exact replay is REFUSED) → addressed to us → decrypt → parse
//   (FORMERR) → the identities inside equal the QNAME sender and us → the zone lists both →
//   delivered to the agent, answered NOERROR with a signed and encrypted confirm.
// A TDNS-style retry (same distid, fresh signature, same plaintext) is answered with the same
// confirm and not delivered again; the same distid with another plaintext is a new message.
import { createHash } from 'node:crypto';
import type { KvBucket } from '../../broker/types.ts';
import { KeyExistsError } from '../../broker/errors.ts';
import { isIPv6 } from 'node:net';
import { ChunkFormat, decodeChunkOption, encodeChunkOption, findOption } from '../../dns/edns.ts';
import { DnsError } from '../../dns/errors.ts';
import type { Message as DnsMessage } from '../../dns/message.ts';
import { nameLabels, parseName, type Fqdn } from '../../dns/name.ts';
import type { NotifyReply } from '../../dns/net/server.ts';
import type { RequestContext } from '../../dns/net/transport.ts';
import { EdnsOption, Rcode } from '../../dns/types.ts';
import { checkRecipient, checkTime, openEnvelope, seal, verifyEnvelope, type OwnKeys, type PeerKeys } from '../../protocol/envelope.ts';
import { EnvelopeError, MessageError } from '../../protocol/errors.ts';
import { decodeMessage, encodeMessage, type Confirm, type Message } from '../../protocol/messages.ts';
import type { Endpoint } from '../../protocol/discovery.ts';
import { zoneKeyPart } from '../keys.ts';
import { ChunkError, chunkBase, fetchChunks, parseQueryEndpoint } from './chunks.ts';

/** Accepted clock skew of a message's timestamp, either way, unless configured. */
export const DEFAULT_WINDOW_MS = 300_000;

/**
 * How long replay records must live (the bucket's max age): a message stamped t is accepted
 * while |now - t| <= window, so its record, written no earlier than t - window, must outlive
 * t + window; one more minute for clock steps.
 */
export function replayMaxAgeMs(windowMs = DEFAULT_WINDOW_MS): number {
  return 2 * windowMs + 60_000;
}

/** QTYPE of the transport's NOTIFY. */
export const CHUNK_QTYPE = 65288;
const DISTID = /^[0-9a-f]{8}$/;
/** Largest envelope taken inline (option 65004), bytes. */
export const MAX_INLINE_BYTES = 60_000;
/** Largest envelope fetched in query mode, bytes. */
export const MAX_FETCH_BYTES = 1_000_000;

/** Why a message was refused; also the metric label. */
export type Refusal =
  | 'udp'
  | 'qtype'
  | 'qname'
  | 'unknown-sender'
  | 'no-payload'
  | 'oversize'
  | 'fetch'
  | 'plaintext'
  | 'malformed'
  | 'signature'
  | 'time'
  | 'replay'
  | 'recipient'
  | 'decrypt'
  | 'json'
  | 'identity'
  | 'zone';

export type Outcome = { readonly kind: 'accepted' | 'retry' } | { readonly kind: 'refused'; readonly reason: Refusal; readonly detail: string };

/** A message that passed every check, for the agent. */
export interface Accepted {
  readonly sender: Fqdn;
  readonly distributionId: string;
  readonly message: Message;
  /** SHA-256 of the plaintext, hex: with sender and distid, the message's identity. */
  readonly digest: string;
  readonly receivedAt: number;
}

/**
 * What the gateway knows about peers; the agent keeps it current. Each answer may be a promise,
 * for a directory that has to ask another process.
 */
export interface PeerDirectory {
  /** Keys of a peer we may talk to (discovered, and listed with us in some zone's HSYNC). */
  keysOf(identity: Fqdn): PeerKeys | undefined | Promise<PeerKeys | undefined>;
  /** Whether `zone`'s HSYNC lists both `peer` and us. */
  sharesZone(peer: Fqdn, zone: Fqdn): boolean | Promise<boolean>;
  /**
   * The peer's discovered gateway endpoint: query mode fetches only from one of its addresses
   * and its port. Without it (or when it answers undefined) query mode is refused.
   */
  endpointOf(identity: Fqdn): Endpoint | undefined | Promise<Endpoint | undefined>;
}

export interface ReceiverOptions {
  readonly self: Fqdn;
  readonly own: OwnKeys;
  readonly peers: PeerDirectory;
  /** KV bucket for replay records; its entries must outlive the window. */
  readonly replay: KvBucket;
  /**
   * Hands an accepted message to the agent (durably) before the confirm is sent; resolves false
   * when it was a duplicate of one delivered before (same sender, distid and plaintext: publish
   * with msgId `deliveryId(m)` and return `!ack.duplicate`).
   */
  readonly deliver: (m: Accepted) => Promise<boolean>;
  /** Accepted clock skew either way, ms. Default 300 000. */
  readonly windowMs?: number;
  /** Largest envelope taken inline, bytes; larger messages must use query mode. Default 60 000. */
  readonly maxPayloadBytes?: number;
  /** Largest envelope fetched in query mode, bytes. Default MAX_FETCH_BYTES (1 MB). */
  readonly maxFetchBytes?: number;
  /** The whole query-mode fetch (connect, manifest, chunks), ms. Default 5 000. */
  readonly fetchTimeoutMs?: number;
  readonly now?: () => number;
}

class Refused extends Error {
  constructor(
    readonly reason: Refusal,
    readonly rcode: number,
    message: string,
  ) {
    super(message);
  }
}

const sha256 = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

/** Identity inside the message that must equal the QNAME sender, and the recipient named. */
function identitiesOf(m: Message): { from: Fqdn; to: Fqdn | undefined; zone: Fqdn | undefined } {
  switch (m.type) {
    case 'hello':
    case 'keystate':
      return { from: m.sender, to: m.recipient, zone: m.zone };
    case 'beat':
      return { from: m.sender, to: m.recipient, zone: undefined };
    case 'sync':
    case 'update':
    case 'rfi':
      return { from: m.originator, to: m.recipient, zone: m.zone };
    case 'confirm':
      return { from: m.sender, to: undefined, zone: m.zone };
    default: {
      const never: never = m;
      return never;
    }
  }
}

/** An address literal in one spelling (IPv6 compressed, lower case) for comparison. */
function canonicalAddress(a: string): string {
  return isIPv6(a) ? new URL(`http://[${a}]/`).hostname.slice(1, -1) : a.toLowerCase();
}

/** The de-duplication id of an accepted message on the agent's queue. */
export function deliveryId(m: Accepted): string {
  return `${m.sender}/${m.distributionId}/${m.digest}`;
}

export class Receiver {
  readonly #o: ReceiverOptions;
  readonly #window: number;
  readonly #now: () => number;

  constructor(opts: ReceiverOptions) {
    this.#o = opts;
    this.#window = opts.windowMs ?? DEFAULT_WINDOW_MS;
    this.#now = opts.now ?? Date.now;
  }

  /** Handles one NOTIFY; never throws for bad input. */
  async handle(msg: DnsMessage, ctx: RequestContext): Promise<{ reply: NotifyReply; outcome: Outcome }> {
    try {
      return await this.#handle(msg, ctx);
    } catch (e) {
      if (!(e instanceof Refused)) throw e;
      return { reply: { rcode: e.rcode }, outcome: { kind: 'refused', reason: e.reason, detail: e.message } };
    }
  }

  async #handle(msg: DnsMessage, ctx: RequestContext): Promise<{ reply: NotifyReply; outcome: Outcome }> {
    const q = msg.question[0];
    if (q === undefined) throw new Refused('qname', Rcode.FORMERR, 'no question');
    // Sender first: an unknown sender is REFUSED whatever else is wrong with the message.
    const labels = nameLabels(q.name);
    const distId = labels[0]?.toLowerCase() ?? '';
    let sender: Fqdn;
    try {
      sender = parseName(`${labels.slice(1).join('.')}.`);
    } catch (e) {
      if (!(e instanceof DnsError)) throw e;
      throw new Refused('qname', Rcode.REFUSED, `QNAME ${q.name} does not name a sender`);
    }
    const keys = labels.length < 2 ? undefined : await this.#o.peers.keysOf(sender);
    if (keys === undefined) throw new Refused('unknown-sender', Rcode.REFUSED, `sender ${sender} is not a known peer`);
    if (ctx.transport !== 'tcp') throw new Refused('udp', Rcode.REFUSED, 'NOTIFY(CHUNK) over UDP');
    if (q.type !== CHUNK_QTYPE) throw new Refused('qtype', Rcode.REFUSED, `QTYPE ${q.type} is not CHUNK`);
    if (!DISTID.test(distId)) throw new Refused('qname', Rcode.FORMERR, `distribution id "${distId}" is not 8 hex digits`);

    const raw = findOption(msg.edns, EdnsOption.CHUNK);
    const where = findOption(msg.edns, EdnsOption.CHUNK_QUERY_ENDPOINT);
    let data: Uint8Array;
    if (raw === undefined && where !== undefined) {
      data = await this.#fetch(sender, distId, where);
    } else {
      if (raw === undefined) throw new Refused('no-payload', Rcode.FORMERR, 'no CHUNK option (65004) and no CHUNK-QUERY-ENDPOINT (65005)');
      let chunk;
      try {
        chunk = decodeChunkOption(raw);
      } catch (e) {
        if (!(e instanceof DnsError)) throw e;
        throw new Refused('malformed', Rcode.FORMERR, `CHUNK option: ${e.message}`);
      }
      if (chunk.format !== ChunkFormat.JOSE) throw new Refused('plaintext', Rcode.REFUSED, `payload format ${chunk.format} is not JOSE (2)`);
      const limit = this.#o.maxPayloadBytes ?? MAX_INLINE_BYTES;
      if (chunk.data.length > limit) throw new Refused('oversize', Rcode.REFUSED, `payload of ${chunk.data.length} bytes exceeds ${limit}`);
      data = chunk.data;
    }

    const now = this.#now();
    const payload = new TextDecoder().decode(data);
    let plain: Uint8Array;
    try {
      const v = await verifyEnvelope(payload, keys);
      checkTime(v, now, this.#window);
      await this.#recordOnce(sender, v.replayKey);
      checkRecipient(v, this.#o.self);
      plain = await openEnvelope(v, this.#o.own);
    } catch (e) {
      if (!(e instanceof EnvelopeError)) throw e;
      const reason: Refusal = e.fault;
      throw new Refused(reason, e.fault === 'malformed' ? Rcode.FORMERR : Rcode.REFUSED, e.message);
    }
    let message: Message;
    try {
      message = decodeMessage(plain);
    } catch (e) {
      if (!(e instanceof MessageError)) throw e;
      throw new Refused('json', Rcode.FORMERR, e.message);
    }
    const ids = identitiesOf(message);
    if (ids.from !== sender) throw new Refused('identity', Rcode.REFUSED, `message from ${ids.from} arrived under sender ${sender}`);
    if (ids.to !== undefined && ids.to !== this.#o.self) throw new Refused('identity', Rcode.REFUSED, `message for ${ids.to} arrived here (${this.#o.self})`);
    if (ids.zone !== undefined && !(await this.#o.peers.sharesZone(sender, ids.zone))) throw new Refused('zone', Rcode.REFUSED, `${ids.zone} does not list both ${sender} and ${this.#o.self} in HSYNC`);

    const digest = sha256(plain);
    // The agent's queue drops a second publish with the same msgId (sender, distid, plaintext):
    // a TDNS-style retry is answered like the first time and not delivered again.
    const fresh = await this.#o.deliver({ sender, distributionId: distId, message, digest, receivedAt: now });
    const confirm: Confirm = {
      type: 'confirm',
      sender: this.#o.self,
      zone: ids.zone,
      distributionId: distId,
      nonce: message.type === 'sync' || message.type === 'update' || message.type === 'rfi' ? message.nonce : '',
      status: 'ok',
      message: 'received',
      applied: [],
      removed: [],
      ignored: [],
      rejected: [],
      truncated: false,
      appliedCount: 0,
      removedCount: 0,
      ignoredCount: 0,
      rejectedCount: 0,
      time: now,
    };
    return { reply: await this.#confirmReply(sender, keys, encodeMessage(confirm), now), outcome: { kind: fresh ? 'accepted' : 'retry' } };
  }

  /**
   * Query mode: fetches the envelope from where option 65005 says, which must be one of the
   * sender's discovered addresses and its port (anything else is REFUSED before any connection).
   */
  async #fetch(sender: Fqdn, distId: string, option: Uint8Array): Promise<Uint8Array> {
    const target = parseQueryEndpoint(option);
    if (target === undefined) throw new Refused('fetch', Rcode.REFUSED, 'CHUNK-QUERY-ENDPOINT (65005) is not host:port');
    const known = await this.#o.peers.endpointOf(sender);
    if (known === undefined) throw new Refused('fetch', Rcode.REFUSED, `no discovered endpoint for ${sender} to fetch from`);
    const host = canonicalAddress(target.host);
    if (target.port !== known.port || !known.addresses.some((a) => canonicalAddress(a) === host)) {
      throw new Refused('fetch', Rcode.REFUSED, `65005 names ${target.host} port ${target.port}, not ${sender}'s endpoint (${known.addresses.join(', ')} port ${known.port})`);
    }
    try {
      return await fetchChunks({ address: target.host, port: target.port }, chunkBase(this.#o.self, distId, sender), {
        timeoutMs: this.#o.fetchTimeoutMs ?? 5000,
        maxBytes: this.#o.maxFetchBytes ?? MAX_FETCH_BYTES,
        distributionId: distId,
        receiver: this.#o.self,
      });
    } catch (e) {
      if (e instanceof ChunkError) throw new Refused(e.kind, Rcode.REFUSED, e.message);
      if (e instanceof DnsError) throw new Refused('fetch', Rcode.REFUSED, e.message); // names too long
      throw e;
    }
  }

  /** Records (sender, signature) once; a second time is an exact replay. */
  async #recordOnce(sender: Fqdn, replayKey: string): Promise<void> {
    try {
      await this.#o.replay.create(`seen.${zoneKeyPart(sender)}.${replayKey}`, new TextEncoder().encode(String(this.#now())));
    } catch (e) {
      if (e instanceof KeyExistsError) throw new Refused('replay', Rcode.REFUSED, `exact replay of a message from ${sender}`);
      throw e;
    }
  }

  async #confirmReply(sender: Fqdn, keys: PeerKeys, body: Uint8Array, now: number): Promise<NotifyReply> {
    const sealed = await seal({ body, recipient: sender, time: now, sender: this.#o.own, to: keys });
    return {
      rcode: Rcode.NOERROR,
      aa: true,
      edns: { udpSize: 4096, extRcode: 0, version: 0, do: true, options: [encodeChunkOption({ format: ChunkFormat.JOSE, hmac: new Uint8Array(0), data: new TextEncoder().encode(sealed) })] },
    };
  }
}
