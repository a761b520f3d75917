// Outgoing zone transfers over TCP: AXFR (RFC 5936) and IXFR (RFC 1995) from the journal,
// packed into multi-message responses and TSIG-signed on every message when asked.
import { encodeMessage, responseTo, type Message } from '../message.ts';
import type { RR } from '../rr.ts';
import { RRType } from '../types.ts';
import { TsigStreamSigner, type TsigKey } from '../tsig.ts';
import type { Send } from './transport.ts';
import { soaWithSerial } from '../rdata/soa.ts';
import type { ZoneDiff } from '../zone.ts';
import type { ZoneSource } from '../zone-source.ts';

/** Target size of one transfer message (well under 64 KiB so TSIG and slack fit). */
export const XFR_MESSAGE_BYTES = 16_000;

export interface TransferRequest {
  readonly zone: ZoneSource;
  readonly request: Message;
  /** The client's serial (IXFR); undefined for AXFR. */
  readonly clientSerial?: number;
  readonly send: Send;
  readonly tsig?: { readonly key: TsigKey; readonly requestMac: Uint8Array };
  readonly now: () => number;
}

/** RFC 1982: is a newer than b? */
function serialGreater(a: number, b: number): boolean {
  return a !== b && ((a > b && a - b < 0x80000000) || (a < b && b - a > 0x80000000));
}

/** The IXFR body: SOA(new), then per diff SOA(old) removed… SOA(new) added…, then SOA(new). */
function* ixfrRecords(soa: RR, diffs: readonly ZoneDiff[]): Iterable<RR> {
  yield soa;
  for (const d of diffs) {
    const oldSoa = d.removed.find((r) => r.type === RRType.SOA) ?? soaWithSerial(soa, d.fromSerial);
    yield oldSoa;
    for (const r of d.removed) if (r.type !== RRType.SOA) yield r;
    const newSoa = d.added.find((r) => r.type === RRType.SOA) ?? soaWithSerial(soa, d.toSerial);
    yield newSoa;
    for (const r of d.added) if (r.type !== RRType.SOA) yield r;
  }
  yield soa;
}

function* axfrRecords(zone: ZoneSource): Iterable<RR> {
  const soa = zone.soa();
  yield soa;
  for (const r of zone.records()) if (r.type !== RRType.SOA) yield r;
  yield soa;
}

/**
 * Streams the transfer. Returns what was sent: 'ixfr', 'axfr' (full zone, also as the IXFR
 * fallback), or 'uptodate' (a single SOA: the client's serial is current or newer).
 */
export async function streamTransfer(t: TransferRequest): Promise<'axfr' | 'ixfr' | 'uptodate'> {
  const soa = t.zone.soa();
  let records: Iterable<RR>;
  let kind: 'axfr' | 'ixfr' | 'uptodate';
  if (t.clientSerial !== undefined && !serialGreater(t.zone.serial, t.clientSerial)) {
    records = [soa];
    kind = 'uptodate';
  } else if (t.clientSerial !== undefined) {
    const diffs = t.zone.diffsSince?.(t.clientSerial);
    if (diffs !== undefined && diffs.length > 0) {
      records = ixfrRecords(soa, diffs);
      kind = 'ixfr';
    } else {
      records = axfrRecords(t.zone);
      kind = 'axfr';
    }
  } else {
    records = axfrRecords(t.zone);
    kind = 'axfr';
  }
  const signer = t.tsig === undefined ? undefined : new TsigStreamSigner(t.tsig.key, t.tsig.requestMac);
  let batch: RR[] = [];
  let size = 0;
  let first = true;
  const flush = async (): Promise<void> => {
    const msg = responseTo(t.request, {
      rcode: 0,
      aa: true,
      question: first ? t.request.question : [],
      answer: batch,
    });
    // Transfers go over TCP only: no truncation, the batch size keeps each message small.
    let bytes = encodeMessage(msg, {});
    if (signer !== undefined) bytes = signer.sign(bytes, t.now());
    first = false;
    batch = [];
    size = 0;
    await t.send(bytes);
  };
  for (const rr of records) {
    // Text length + 1 is the wire length of a plain name (an overestimate with escapes).
    const rrSize = rr.name.length + 11 + rr.rdata.length;
    if (batch.length > 0 && size + rrSize > XFR_MESSAGE_BYTES) await flush();
    batch.push(rr);
    size += rrSize;
  }
  if (batch.length > 0 || first) await flush();
  return kind;
}
