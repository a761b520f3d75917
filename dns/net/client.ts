// The DNS client: queries with timeout and retry over UDP and TCP fallback on TC, SOA serial
// checks, AXFR and IXFR in (RFC 5936, RFC 1995) with TSIG on the request and every response.
import { randomInt } from 'node:crypto';
import { decodeMessage, encodeMessage, makeQuery, type MakeQueryOptions, type Message } from '../message.ts';
import type { Fqdn } from '../name.ts';
import type { RR } from '../rr.ts';
import { Rcode, RRType } from '../types.ts';
import { signMessage, TsigStreamVerifier, verifyMessage, type TsigKey } from '../tsig.ts';
import { TimeoutError, TransferError, TsigRejectedError } from './errors.ts';
import { TcpConnection, tcpExchange, udpExchange, type PipelinedTcp } from './exchange.ts';
import type { Peer } from './transport.ts';
import { soaSerial } from '../rdata/soa.ts';

export interface QueryOptions extends Omit<MakeQueryOptions, 'id' | 'class'> {
  /** Per-attempt timeout. Default 2000 ms. */
  readonly timeoutMs?: number;
  /** UDP attempts before giving up. Default 3. */
  readonly attempts?: number;
  /** Force TCP. */
  readonly tcp?: boolean;
  readonly tsig?: TsigKey;
  readonly now?: () => number;
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** Builds the request bytes (signed when a key is given) and its MAC. */
export function buildRequest(
  qname: Fqdn,
  qtype: number,
  opts: QueryOptions = {},
  id: number = randomInt(0, 0x10000),
): { bytes: Uint8Array; id: number; mac?: Uint8Array } {
  const msg = makeQuery(qname, qtype, { ...opts, id });
  const bytes = encodeMessage(msg, {});
  if (opts.tsig === undefined) return { bytes, id };
  const signed = signMessage(bytes, opts.tsig, { now: (opts.now ?? nowSeconds)() });
  return { bytes: signed.bytes, id, mac: signed.mac };
}

function checkTsig(resp: Uint8Array, opts: QueryOptions, mac: Uint8Array | undefined): void {
  if (opts.tsig === undefined || mac === undefined) return;
  const v = verifyMessage(resp, opts.tsig, { now: (opts.now ?? nowSeconds)(), requestMac: mac });
  if (!v.ok) throw new TsigRejectedError(`response TSIG: ${v.reason}`, v.error);
}

/** The decoded response, with its raw bytes. */
export interface Response {
  readonly message: Message;
  readonly bytes: Uint8Array;
  readonly transport: 'udp' | 'tcp';
}

/**
 * Sends a query and returns the response. UDP is retried `attempts` times, then a TC answer
 * is retried over TCP. TSIG responses are verified (TsigRejectedError when they fail).
 */
export async function query(server: Peer, qname: Fqdn, qtype: number, opts: QueryOptions = {}): Promise<Response> {
  const timeoutMs = opts.timeoutMs ?? 2000;
  const req = buildRequest(qname, qtype, opts);
  if (opts.tcp !== true) {
    const attempts = opts.attempts ?? 3;
    const started = performance.now();
    for (let i = 0; i < attempts; i++) {
      try {
        const bytes = await udpExchange(server, req.bytes, timeoutMs);
        const message = decodeMessage(bytes);
        if (!message.tc) {
          checkTsig(bytes, opts, req.mac);
          return { message, bytes, transport: 'udp' };
        }
        break; // truncated: fall back to TCP
      } catch (err) {
        if (!(err instanceof TimeoutError)) throw err;
        if (i === attempts - 1) {
          // What was waited in all, not the last try's deadline.
          const waited = Math.round(performance.now() - started).toLocaleString('en-US');
          const tries = attempts === 1 ? '1 try' : `${attempts} tries of ${timeoutMs.toLocaleString('en-US')} ms each`;
          throw new TimeoutError(`no UDP answer from ${server.address}:${server.port} in ${waited} ms (${tries})`, { cause: err });
        }
      }
    }
  }
  const bytes = await tcpExchange(server, req.bytes, timeoutMs);
  checkTsig(bytes, opts, req.mac);
  return { message: decodeMessage(bytes), bytes, transport: 'tcp' };
}

/** A query over an open pipelined TCP connection (shared by concurrent queries; see PipelinedTcp). */
export async function queryOn(conn: PipelinedTcp, qname: Fqdn, qtype: number, opts: QueryOptions = {}): Promise<Response> {
  const req = buildRequest(qname, qtype, opts, conn.freeId());
  const bytes = await conn.exchange(req.bytes, opts.timeoutMs ?? 2000);
  checkTsig(bytes, opts, req.mac);
  return { message: decodeMessage(bytes), bytes, transport: 'tcp' };
}

/** The zone's SOA serial as the server reports it. */
export async function soaSerialOf(server: Peer, zone: Fqdn, opts: QueryOptions = {}): Promise<number> {
  const r = await query(server, zone, RRType.SOA, opts);
  if (r.message.rcode !== Rcode.NOERROR) {
    throw new TransferError(`SOA query for ${zone} answered rcode ${r.message.rcode}`, r.message.rcode);
  }
  const soa = r.message.answer.find((rr) => rr.type === RRType.SOA && rr.name === zone);
  if (soa === undefined) throw new TransferError(`no SOA for ${zone} in the answer`);
  return soaSerial(soa.rdata);
}

/** The result of a transfer in. */
export type TransferResult =
  | { readonly kind: 'axfr'; readonly serial: number; readonly records: RR[]; readonly messages: number }
  | {
      readonly kind: 'ixfr';
      readonly serial: number;
      readonly diffs: { fromSerial: number; toSerial: number; removed: RR[]; added: RR[] }[];
      readonly messages: number;
    }
  | { readonly kind: 'uptodate'; readonly serial: number; readonly messages: number };

export interface TransferOptions {
  readonly tsig?: TsigKey;
  /** Deadline for each message. Default 10 s. */
  readonly timeoutMs?: number;
  readonly now?: () => number;
}

/** Reads the response messages of one transfer, verifying TSIG, until `done` says so. */
async function readTransfer(
  server: Peer,
  zone: Fqdn,
  qtype: number,
  opts: TransferOptions,
  authority: RR[],
  consume: (rrs: readonly RR[]) => boolean,
): Promise<number> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const now = opts.now ?? nowSeconds;
  const req = buildRequest(zone, qtype, {
    udpSize: 0,
    authority,
    ...(opts.tsig !== undefined ? { tsig: opts.tsig } : {}),
    now,
  });
  const conn = await TcpConnection.open(server, timeoutMs);
  try {
    conn.send(req.bytes);
    const verifier =
      opts.tsig !== undefined && req.mac !== undefined ? new TsigStreamVerifier(opts.tsig, req.mac) : undefined;
    let messages = 0;
    for (;;) {
      const bytes = await conn.read(timeoutMs);
      const msg = decodeMessage(bytes);
      if (msg.id !== req.id) continue;
      messages++;
      if (msg.rcode !== Rcode.NOERROR) {
        throw new TransferError(`${zone} transfer refused with rcode ${msg.rcode}`, msg.rcode);
      }
      if (verifier !== undefined) {
        const v = verifier.verify(bytes, now());
        if (!v.ok) throw new TsigRejectedError(`${zone} transfer TSIG: ${v.reason}`, v.error);
      }
      if (consume(msg.answer)) {
        if (verifier !== undefined && !verifier.settled) {
          throw new TsigRejectedError(`${zone} transfer ended on an unsigned message`, Rcode.BADSIG);
        }
        return messages;
      }
    }
  } finally {
    conn.close();
  }
}

const isApexSoa = (rr: RR, zone: Fqdn): boolean => rr.type === RRType.SOA && rr.name === zone;

/** The serial of a transfer's first record, which must be the SOA. */
function openingSerial(rr: RR, zone: Fqdn, kind: 'AXFR' | 'IXFR'): number {
  if (rr.type !== RRType.SOA) throw new TransferError(`${zone} ${kind} does not start with SOA`);
  return soaSerial(rr.rdata);
}

/** AXFR in: every record of the zone, the SOA first (the closing SOA is dropped). */
export async function axfr(server: Peer, zone: Fqdn, opts: TransferOptions = {}): Promise<TransferResult> {
  const records: RR[] = [];
  let serial: number | undefined;
  const messages = await readTransfer(server, zone, RRType.AXFR, opts, [], (rrs) => {
    for (const rr of rrs) {
      if (serial === undefined) {
        serial = openingSerial(rr, zone, 'AXFR');
        records.push(rr);
        continue;
      }
      if (isApexSoa(rr, zone)) return true;
      records.push(rr);
    }
    return false;
  });
  return { kind: 'axfr', serial: serial ?? 0, records, messages };
}

/**
 * IXFR in from `fromSerial` (`currentSoa` is our SOA, sent in the authority section). The server
 * may answer with diffs, with a full zone (AXFR-style), or with a single SOA (up to date).
 */
export async function ixfr(
  server: Peer,
  zone: Fqdn,
  currentSoa: RR,
  opts: TransferOptions = {},
): Promise<TransferResult> {
  const fromSerial = soaSerial(currentSoa.rdata);
  const all: RR[] = [];
  let newSerial: number | undefined;
  let soaCount = 0;
  let mode: 'unknown' | 'axfr' | 'ixfr' = 'unknown';
  const messages = await readTransfer(server, zone, RRType.IXFR, opts, [currentSoa], (rrs) => {
    for (const rr of rrs) {
      if (newSerial === undefined) {
        newSerial = openingSerial(rr, zone, 'IXFR');
        all.push(rr);
        continue;
      }
      const isSoa = isApexSoa(rr, zone);
      if (mode === 'unknown') mode = isSoa ? 'ixfr' : 'axfr';
      all.push(rr);
      if (isSoa) {
        soaCount++;
        if (mode === 'axfr' && soaCount === 1) return true;
        if (mode === 'ixfr' && soaSerial(rr.rdata) === newSerial && soaCount % 2 === 1) return true;
      }
    }
    // A single SOA alone in the whole first message: up to date.
    return newSerial !== undefined && mode === 'unknown' && all.length === 1;
  });
  const serial = newSerial ?? fromSerial;
  if (mode === 'unknown') return { kind: 'uptodate', serial, messages };
  if (mode === 'axfr') return { kind: 'axfr', serial, records: all.slice(0, -1), messages };
  // all = SOA(new), [SOA(old) removed.. SOA(new') added..]*, SOA(new)
  const diffs: { fromSerial: number; toSerial: number; removed: RR[]; added: RR[] }[] = [];
  let i = 1;
  while (i < all.length - 1) {
    const oldSoa = all[i++] as RR;
    const removed: RR[] = [];
    while (i < all.length && !isApexSoa(all[i] as RR, zone)) {
      removed.push(all[i++] as RR);
    }
    const newSoa = all[i++];
    if (newSoa === undefined) throw new TransferError(`${zone} IXFR ends inside a diff`);
    const added: RR[] = [newSoa];
    while (i < all.length - 1 && !isApexSoa(all[i] as RR, zone)) {
      added.push(all[i++] as RR);
    }
    diffs.push({ fromSerial: soaSerial(oldSoa.rdata), toSerial: soaSerial(newSoa.rdata), removed: [oldSoa, ...removed], added });
  }
  if (diffs[0] !== undefined && diffs[0].fromSerial !== fromSerial) {
    throw new TransferError(`${zone} IXFR starts at serial ${diffs[0].fromSerial}, we have ${fromSerial}`);
  }
  return { kind: 'ixfr', serial, diffs, messages };
}
