// The authoritative server: decodes a request, picks the zone by longest match, answers from a
// ZoneSource (RFC 1034 §4.3.2), handles EDNS0, TSIG, transfers (xfr-out.ts) and NOTIFY in.
// Malformed input never throws out of the handler: FORMERR, or silence when even the header
// is unreadable.
import { decodeMessage, encodeMessage, responseTo, type Message, type Question } from '../message.ts';
import { WireError } from '../errors.ts';
import { parentName, type Fqdn } from '../name.ts';
import { Opcode, Rcode, RRType } from '../types.ts';
import {
  signMessage,
  unsignedError,
  verifyMessage,
  type TsigKey,
  type TsigRecord,
} from '../tsig.ts';
import { Acl } from './acl.ts';
import { ConnectionClosedError } from './errors.ts';
import { listen, type Listener, type RequestContext, type Send } from './transport.ts';
import { streamTransfer } from './xfr-out.ts';
import { soaSerial } from '../rdata/soa.ts';
import type { ZoneSource } from '../zone-source.ts';

/** Minimal structural logger (pino's Logger fits). */
export interface ServerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export type NotifyHandler = (zone: Fqdn, serial: number | undefined, from: RequestContext['remote']) => void;

/**
 * A NOTIFY handler that sees the whole request (QTYPE, EDNS options, every section, transport and
 * sender) and chooses the response's fields (RCODE, sections, OPT with options); the server
 * fills in the header, echoes the question and signs with TSIG when the request was signed.
 * It does its own authentication (the NOTIFY ACL does not apply); a throw answers SERVFAIL.
 */
export type NotifyMessageHandler = (msg: Message, ctx: RequestContext) => Promise<NotifyReply> | NotifyReply;
export type NotifyReply = Partial<Message> & { rcode: number };

/**
 * A QUERY handler for one QTYPE that answers from something other than a zone (e.g. CHUNK RRs
 * a gateway holds for a while): it sees the whole request and returns the response's fields
 * (the server fills in the header, echoes the question and signs with TSIG as for any answer),
 * or undefined to let the zones answer as usual. It does its own access control; a throw
 * answers SERVFAIL.
 */
export type QueryMessageHandler = (msg: Message, ctx: RequestContext) => Promise<QueryReply | undefined> | QueryReply | undefined;
export type QueryReply = Partial<Message> & { rcode: number };

export interface ServerOptions {
  readonly address: string;
  readonly port: number;
  /** Addresses allowed to transfer without TSIG. */
  readonly allowTransfer?: readonly string[];
  /** TSIG keys by name: a transfer or NOTIFY signed with one of them is allowed. */
  readonly keys?: readonly TsigKey[];
  /** NOTIFY in: accepted from these addresses, or signed with a known key. */
  readonly allowNotify?: readonly string[];
  readonly onNotify?: NotifyHandler;
  /** NOTIFYs of these QTYPEs go to their handler with the whole message (e.g. CHUNK, 65288). */
  readonly notifyHandlers?: ReadonlyMap<number, NotifyMessageHandler>;
  /** QUERYs of these QTYPEs go to their handler first (see QueryMessageHandler). */
  readonly queryHandlers?: ReadonlyMap<number, QueryMessageHandler>;
  readonly logger?: ServerLogger;
  /** TCP timeouts and limits: see ListenOptions in transport.ts. */
  readonly tcpIdleMs?: number;
  readonly tcpReadTimeoutMs?: number;
  readonly maxTcpConnections?: number;
  /** Clock in seconds (TSIG); tests may inject. */
  readonly now?: () => number;
}

/** Largest UDP answer we send whatever the client advertises (RFC 9715-ish default). */
const MAX_UDP = 1232;
const FORMERR_HEADER = 12;
/** Bytes kept free for the TSIG RR when a signed answer must fit a UDP limit (owner aside). */
const TSIG_ROOM = 120;

const noop = (): void => {};
const silentLogger: ServerLogger = { info: noop, warn: noop, debug: noop };

/** An answer to a request that came with TSIG: how to sign what we send back. */
interface TsigContext {
  readonly key: TsigKey;
  readonly requestMac: Uint8Array;
}

export class DnsServer {
  readonly #zones = new Map<Fqdn, ZoneSource>();
  readonly #keys = new Map<Fqdn, TsigKey>();
  readonly #transferAcl: Acl;
  readonly #notifyAcl: Acl;
  readonly #log: ServerLogger;
  readonly #now: () => number;
  #listener: Listener | undefined;
  /** Counters for tests and metrics. */
  readonly stats = { queries: 0, formerr: 0, dropped: 0, axfr: 0, ixfr: 0, notifyIn: 0, tsigRejected: 0 };

  constructor(readonly options: ServerOptions) {
    this.#transferAcl = new Acl(options.allowTransfer ?? []);
    this.#notifyAcl = new Acl(options.allowNotify ?? []);
    for (const k of options.keys ?? []) this.#keys.set(k.name, k);
    this.#log = options.logger ?? silentLogger;
    this.#now = options.now ?? (() => Math.floor(Date.now() / 1000));
  }

  /** Adds or replaces a TSIG key: requests signed with it may transfer and NOTIFY. */
  addKey(key: TsigKey): void {
    this.#keys.set(key.name, key);
  }

  /** Adds or replaces the zone with the same origin. */
  setZone(zone: ZoneSource): void {
    this.#zones.set(zone.origin, zone);
  }

  removeZone(origin: Fqdn): void {
    this.#zones.delete(origin);
  }

  zone(origin: Fqdn): ZoneSource | undefined {
    return this.#zones.get(origin);
  }

  get zones(): readonly ZoneSource[] {
    return [...this.#zones.values()];
  }

  async start(): Promise<{ address: string; port: number }> {
    this.#listener = await listen({
      address: this.options.address,
      port: this.options.port,
      handler: (req, ctx, send) => this.handle(req, ctx, send),
      ...(this.options.tcpIdleMs !== undefined ? { tcpIdleMs: this.options.tcpIdleMs } : {}),
      ...(this.options.tcpReadTimeoutMs !== undefined ? { tcpReadTimeoutMs: this.options.tcpReadTimeoutMs } : {}),
      ...(this.options.maxTcpConnections !== undefined
        ? { maxTcpConnections: this.options.maxTcpConnections }
        : {}),
      onError: (err, ctx) => {
        // A client hanging up (mid-AXFR, say) is routine: one line at debug, no stack.
        if (err instanceof ConnectionClosedError) this.#log.debug({ remote: ctx?.remote, reason: err.message }, 'client hung up');
        else this.#log.warn({ err, remote: ctx?.remote }, 'request failed');
      },
    });
    return { address: this.#listener.address, port: this.#listener.port };
  }

  async stop(): Promise<void> {
    await this.#listener?.close();
    this.#listener = undefined;
  }

  /** Longest-match zone for a name: walks up from the name, one map lookup per label. */
  findZone(name: Fqdn): ZoneSource | undefined {
    for (let n: Fqdn | undefined = name; n !== undefined; n = parentName(n)) {
      const z = this.#zones.get(n);
      if (z !== undefined) return z;
    }
    return undefined;
  }

  /** Handles one request. Never throws for bad input. */
  async handle(req: Uint8Array, ctx: RequestContext, send: Send): Promise<void> {
    this.stats.queries++;
    if (req.length < FORMERR_HEADER || ((req[2] ?? 0) & 0x80) !== 0) {
      this.stats.dropped++;
      return; // unreadable header, or a response: silence
    }
    let msg: Message;
    try {
      msg = decodeMessage(req);
    } catch (err) {
      if (!(err instanceof WireError)) throw err;
      this.stats.formerr++;
      this.#log.debug({ remote: ctx.remote, reason: err.message }, 'malformed request');
      await send(formerrHeader(req));
      return;
    }
    let tsig: TsigContext | undefined;
    if (msg.tsig !== undefined) {
      let verdict: ReturnType<typeof verifyMessage>;
      try {
        verdict = verifyMessage(req, this.#keys, { now: this.#now() });
      } catch (err) {
        // decodeMessage does not look inside the TSIG RDATA; a malformed one is FORMERR.
        if (!(err instanceof WireError)) throw err;
        this.stats.formerr++;
        await send(formerrHeader(req));
        return;
      }
      if (!verdict.ok) {
        await this.#tsigReject(msg, ctx, verdict, send);
        return;
      }
      tsig = { key: verdict.key, requestMac: verdict.tsig.mac };
    }
    if (msg.edns !== undefined && msg.edns.version > 0) {
      await this.#reply(msg, ctx, send, tsig, { rcode: Rcode.BADVERS, question: msg.question });
      return;
    }
    switch (msg.opcode) {
      case Opcode.QUERY:
        await this.#query(msg, ctx, send, tsig);
        return;
      case Opcode.NOTIFY:
        await this.#notify(msg, ctx, send, tsig);
        return;
      default:
        await this.#reply(msg, ctx, send, tsig, { rcode: Rcode.NOTIMP, question: msg.question });
    }
  }

  async #tsigReject(
    msg: Message,
    ctx: RequestContext,
    verdict: { error: number; reason: string; tsig?: TsigRecord },
    send: Send,
  ): Promise<void> {
    this.stats.tsigRejected++;
    this.#log.warn(
      { remote: ctx.remote, tsigError: verdict.error, reason: verdict.reason, qname: msg.question[0]?.name },
      'TSIG verification failed',
    );
    const body = this.#encode(responseTo(msg, { rcode: Rcode.NOTAUTH, question: msg.question }), 65535);
    const t = verdict.tsig;
    if (t === undefined) {
      await send(body);
      return;
    }
    if (verdict.error === Rcode.BADTIME) {
      const key = this.#keys.get(t.keyName);
      if (key !== undefined) {
        const other = new Uint8Array(6);
        const now = this.#now();
        other.set([Math.floor(now / 2 ** 40) & 0xff, Math.floor(now / 2 ** 32) & 0xff]);
        new DataView(other.buffer).setUint32(2, now >>> 0);
        await send(signMessage(body, key, { now, requestMac: t.mac, error: Rcode.BADTIME, otherData: other }).bytes);
        return;
      }
    }
    await send(unsignedError(body, t, verdict.error));
  }

  #encode(msg: Message, maxSize: number): Uint8Array {
    return encodeMessage(msg, { maxSize });
  }

  /** Builds, encodes (with UDP size limits) and signs a single response. */
  async #reply(
    req: Message,
    ctx: RequestContext,
    send: Send,
    tsig: TsigContext | undefined,
    fields: Partial<Message> & { rcode: number },
  ): Promise<void> {
    const resp = responseTo(req, fields);
    // Leave room for the TSIG RR when signing (name + fixed fields + MAC).
    const tsigRoom = tsig === undefined ? 0 : TSIG_ROOM + tsig.key.name.length;
    const limit = ctx.transport === 'tcp' ? 65535 : udpLimit(req);
    let bytes = this.#encode(resp, limit - tsigRoom);
    if (tsig !== undefined) {
      bytes = signMessage(bytes, tsig.key, { now: this.#now(), requestMac: tsig.requestMac }).bytes;
    }
    await send(bytes);
  }

  async #query(msg: Message, ctx: RequestContext, send: Send, tsig: TsigContext | undefined): Promise<void> {
    const q = msg.question[0];
    if (msg.question.length !== 1 || q === undefined) {
      this.stats.formerr++;
      await this.#reply(msg, ctx, send, tsig, { rcode: Rcode.FORMERR, question: msg.question });
      return;
    }
    if (q.type === RRType.AXFR || q.type === RRType.IXFR) {
      await this.#transfer(msg, q, ctx, send, tsig);
      return;
    }
    const dynamic = this.options.queryHandlers?.get(q.type);
    if (dynamic !== undefined) {
      let fields: QueryReply | undefined;
      try {
        fields = await dynamic(msg, ctx);
      } catch (err) {
        this.#log.warn({ err, remote: ctx.remote, qname: q.name, qtype: q.type }, 'query handler failed');
        fields = { rcode: Rcode.SERVFAIL };
      }
      if (fields !== undefined) {
        await this.#reply(msg, ctx, send, tsig, { question: msg.question, ...fields });
        return;
      }
    }
    const zone = this.findZone(q.name);
    if (zone === undefined || (q.class !== 1 && q.class !== 255)) {
      await this.#reply(msg, ctx, send, tsig, { rcode: Rcode.REFUSED, question: msg.question });
      return;
    }
    const a = zone.query(q.name, q.type, { dnssecOk: msg.edns?.do === true });
    await this.#reply(msg, ctx, send, tsig, {
      rcode: a.rcode,
      aa: a.aa,
      question: msg.question,
      answer: [...a.answer],
      authority: [...a.authority],
      additional: [...a.additional],
    });
  }

  #transferAllowed(ctx: RequestContext, tsig: TsigContext | undefined): boolean {
    return tsig !== undefined || this.#transferAcl.allows(ctx.remote.address);
  }

  async #transfer(
    msg: Message,
    q: Question,
    ctx: RequestContext,
    send: Send,
    tsig: TsigContext | undefined,
  ): Promise<void> {
    const zone = this.#zones.get(q.name);
    if (zone === undefined) {
      await this.#reply(msg, ctx, send, tsig, { rcode: Rcode.NOTAUTH, question: msg.question });
      return;
    }
    if (!this.#transferAllowed(ctx, tsig)) {
      // A key exists but the request was not signed: NOTAUTH; otherwise plainly REFUSED.
      const rcode = this.#keys.size > 0 ? Rcode.NOTAUTH : Rcode.REFUSED;
      this.#log.warn({ remote: ctx.remote, zone: zone.origin, qtype: q.type, rcode }, 'transfer refused');
      await this.#reply(msg, ctx, send, tsig, { rcode, question: msg.question });
      return;
    }
    // A zone that cannot answer for its own SOA (a secondary not transferred yet, or expired).
    if (zone.query(zone.origin, RRType.SOA, { dnssecOk: false }).rcode === Rcode.SERVFAIL) {
      await this.#reply(msg, ctx, send, tsig, { rcode: Rcode.SERVFAIL, question: msg.question });
      return;
    }
    if (ctx.transport === 'udp') {
      if (q.type === RRType.AXFR) {
        await this.#reply(msg, ctx, send, tsig, { rcode: Rcode.FORMERR, question: msg.question });
      } else {
        // RFC 1995 §2: an IXFR over UDP that does not fit gets the current SOA (go to TCP).
        await this.#reply(msg, ctx, send, tsig, { rcode: 0, aa: true, question: msg.question, answer: [zone.soa()] });
      }
      return;
    }
    let clientSerial: number | undefined;
    if (q.type === RRType.IXFR) {
      const soa = msg.authority.find((rr) => rr.type === RRType.SOA);
      if (soa === undefined) {
        await this.#reply(msg, ctx, send, tsig, { rcode: Rcode.FORMERR, question: msg.question });
        return;
      }
      clientSerial = soaSerial(soa.rdata);
    }
    const kind = await streamTransfer({
      zone,
      request: msg,
      ...(clientSerial !== undefined ? { clientSerial } : {}),
      send,
      ...(tsig !== undefined ? { tsig } : {}),
      now: this.#now,
    });
    if (kind === 'ixfr') this.stats.ixfr++;
    else this.stats.axfr++;
    this.#log.info(
      { remote: ctx.remote, zone: zone.origin, serial: zone.serial, requested: q.type === RRType.IXFR ? 'IXFR' : 'AXFR', sent: kind, clientSerial, tsig: tsig?.key.name },
      'zone transfer',
    );
  }

  async #notify(msg: Message, ctx: RequestContext, send: Send, tsig: TsigContext | undefined): Promise<void> {
    const q = msg.question[0];
    if (msg.question.length !== 1 || q === undefined) {
      await this.#reply(msg, ctx, send, tsig, { rcode: Rcode.FORMERR, question: msg.question });
      return;
    }
    this.stats.notifyIn++;
    const whole = this.options.notifyHandlers?.get(q.type);
    if (whole !== undefined) {
      let fields: NotifyReply;
      try {
        fields = await whole(msg, ctx);
      } catch (err) {
        this.#log.warn({ err, remote: ctx.remote, zone: q.name, qtype: q.type }, 'NOTIFY handler failed');
        fields = { rcode: Rcode.SERVFAIL };
      }
      await this.#reply(msg, ctx, send, tsig, { question: msg.question, ...fields });
      return;
    }
    const handler = this.options.onNotify;
    if (handler === undefined) {
      await this.#reply(msg, ctx, send, tsig, { rcode: Rcode.NOTIMP, question: msg.question });
      return;
    }
    if (tsig === undefined && !this.#notifyAcl.allows(ctx.remote.address)) {
      const rcode = this.#keys.size > 0 ? Rcode.NOTAUTH : Rcode.REFUSED;
      this.#log.warn({ remote: ctx.remote, zone: q.name, rcode }, 'NOTIFY refused');
      await this.#reply(msg, ctx, send, tsig, { rcode, question: msg.question });
      return;
    }
    const soa = msg.answer.find((rr) => rr.type === RRType.SOA);
    await this.#reply(msg, ctx, send, tsig, { rcode: 0, aa: true, question: msg.question });
    handler(q.name, soa === undefined ? undefined : soaSerial(soa.rdata), ctx.remote);
  }
}

function udpLimit(req: Message): number {
  if (req.edns === undefined) return 512;
  return Math.max(512, Math.min(req.edns.udpSize, MAX_UDP));
}

/** FORMERR for bytes that do not decode: the header's id and opcode, no sections. */
export function formerrHeader(req: Uint8Array): Uint8Array {
  const out = new Uint8Array(12);
  out[0] = req[0] ?? 0;
  out[1] = req[1] ?? 0;
  out[2] = 0x80 | ((req[2] ?? 0) & 0x79); // QR, opcode and RD kept
  out[3] = Rcode.FORMERR;
  return out;
}
