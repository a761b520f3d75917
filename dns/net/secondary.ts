// A secondary for one zone (RFC 1034 §4.3.5, RFC 1996): checks the primary's SOA serial every
// refresh interval (retry after a failure), transfers by IXFR (falling back to AXFR) when the
// serial grew, stops serving after expire without contact, and transfers at once on NOTIFY.
// Keeps the zone's records and emits change events (the combiner's inbound zone uses this).
// SecondaryZone serves those records (`mpdns serve --secondary`): SERVFAIL until the first
// transfer and after expire, each new serial journalled for IXFR out.
import { EventEmitter } from 'node:events';
import type { Fqdn } from '../name.ts';
import type { RR } from '../rr.ts';
import { Rcode, RRType } from '../types.ts';
import type { TsigKey } from '../tsig.ts';
import { zoneFromRecords, type ZoneDiff } from '../zone.ts';
import type { SourceAnswer, SourceQueryOptions, ZoneSource } from '../zone-source.ts';
import { axfr, ixfr, soaSerialOf, type TransferResult } from './client.ts';
import { NetError } from './errors.ts';
import type { JournalLimits } from './journal.ts';
import { PrimaryZone, type UpdateOutcome } from './primary.ts';
import type { Peer } from './transport.ts';
import type { ServerLogger } from './server.ts';
import { soaSerial, soaTimers } from '../rdata/soa.ts';

export interface SecondaryOptions {
  readonly zone: Fqdn;
  readonly primary: Peer;
  readonly tsig?: TsigKey;
  readonly logger?: ServerLogger;
  /** Lower bound on refresh/retry intervals (tests use small SOA timers). Default 1000 ms. */
  readonly minIntervalMs?: number;
  readonly timeoutMs?: number;
}

export interface ZoneChange {
  readonly zone: Fqdn;
  readonly fromSerial: number | undefined;
  readonly serial: number;
  readonly kind: 'axfr' | 'ixfr';
  /** For IXFR: what was removed and added (SOA records included). */
  readonly removed: readonly RR[];
  readonly added: readonly RR[];
}

export interface SecondaryEvents {
  change: [ZoneChange];
  expired: [Fqdn];
  error: [unknown];
}

function rrKey(rr: RR): string {
  return `${rr.name}|${rr.type}|${rr.class}|${Buffer.from(rr.rdata).toString('hex')}`;
}

/** Seconds between tries while the zone was never transferred (no SOA retry timer yet). */
const BOOTSTRAP_RETRY_S = 10;

function serialGreater(a: number, b: number): boolean {
  return a !== b && ((a > b && a - b < 0x80000000) || (a < b && b - a > 0x80000000));
}

export class Secondary extends EventEmitter<SecondaryEvents> {
  #records = new Map<string, RR>();
  #soa: RR | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** When the primary last answered (ms since the epoch); expire counts from here. */
  #lastContact: number | undefined;
  #running = false;
  #busy: Promise<void> | undefined;
  #again = false;
  #expired = false;
  /** How many transfers of each kind happened (tests and metrics). */
  readonly stats = { axfr: 0, ixfr: 0, checks: 0, failures: 0 };

  constructor(readonly options: SecondaryOptions) {
    super();
  }

  get serial(): number | undefined {
    return this.#soa === undefined ? undefined : soaSerial(this.#soa.rdata);
  }

  get soa(): RR | undefined {
    return this.#soa;
  }

  /** True once the zone expired (no contact with the primary for SOA expire seconds). */
  get expired(): boolean {
    return this.#expired;
  }

  /** Every record, SOA included. */
  records(): RR[] {
    return [...this.#records.values()];
  }

  /** Starts refreshing; the first check runs at once. */
  start(): void {
    this.#running = true;
    this.#schedule(0);
  }

  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** A NOTIFY arrived: check now (a serial not newer than ours is ignored). */
  notify(serial?: number): void {
    const ours = this.serial;
    if (serial !== undefined && ours !== undefined && !serialGreater(serial, ours)) return;
    this.#schedule(0);
  }

  /** Checks the primary now and transfers if needed; resolves when done. */
  async refresh(): Promise<void> {
    if (this.#busy !== undefined) {
      this.#again = true;
      return this.#busy;
    }
    this.#busy = this.#refreshOnce().finally(() => {
      this.#busy = undefined;
    });
    await this.#busy;
    if (this.#again) {
      this.#again = false;
      await this.refresh();
    }
  }

  #schedule(ms: number): void {
    if (!this.#running) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.refresh().catch((err: unknown) => this.emit('error', err));
    }, ms);
  }

  #interval(seconds: number): number {
    return Math.max(this.options.minIntervalMs ?? 1000, seconds * 1000);
  }

  async #refreshOnce(): Promise<void> {
    const o = this.options;
    const xfrOpts = {
      ...(o.tsig !== undefined ? { tsig: o.tsig } : {}),
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    };
    this.stats.checks++;
    try {
      const remote = await soaSerialOf(o.primary, o.zone, xfrOpts);
      const ours = this.serial;
      if (ours === undefined || serialGreater(remote, ours)) {
        let result: TransferResult | undefined;
        if (this.#soa !== undefined) {
          try {
            result = await ixfr(o.primary, o.zone, this.#soa, xfrOpts);
          } catch (err) {
            o.logger?.warn({ zone: o.zone, err: String(err) }, 'IXFR failed, trying AXFR');
          }
        }
        result ??= await axfr(o.primary, o.zone, xfrOpts);
        this.#apply(result);
      }
      this.#lastContact = Date.now();
      this.#expired = false;
      const t = this.#soa === undefined ? undefined : soaTimers(this.#soa.rdata);
      this.#schedule(this.#interval(t?.refresh ?? 3600));
    } catch (err) {
      this.stats.failures++;
      o.logger?.warn({ zone: o.zone, err: String(err) }, 'refresh failed');
      const t = this.#soa === undefined ? undefined : soaTimers(this.#soa.rdata);
      if (t !== undefined) {
        this.#lastContact ??= Date.now();
        if (Date.now() >= this.#lastContact + t.expire * 1000 && !this.#expired) {
          this.#expired = true;
          this.emit('expired', o.zone);
        }
      }
      this.#schedule(this.#interval(t?.retry ?? BOOTSTRAP_RETRY_S));
    }
  }

  #apply(result: TransferResult): void {
    const from = this.serial;
    if (result.kind === 'uptodate') return;
    if (result.kind === 'axfr') {
      this.stats.axfr++;
      const next = new Map<string, RR>();
      for (const rr of result.records) next.set(rrKey(rr), rr);
      this.#records = next;
      this.#soa = result.records.find((r) => r.type === RRType.SOA);
      this.emit('change', { zone: this.options.zone, fromSerial: from, serial: result.serial, kind: 'axfr', removed: [], added: result.records });
      return;
    }
    this.stats.ixfr++;
    const removedAll: RR[] = [];
    const addedAll: RR[] = [];
    for (const d of result.diffs) {
      for (const rr of d.removed) {
        this.#records.delete(rrKey(rr));
        removedAll.push(rr);
      }
      for (const rr of d.added) {
        if (rr.type === RRType.SOA && rr.name === this.options.zone) {
          for (const [k, v] of this.#records) if (v.type === RRType.SOA && v.name === rr.name) this.#records.delete(k);
          this.#soa = rr;
        }
        this.#records.set(rrKey(rr), rr);
        addedAll.push(rr);
      }
    }
    this.emit('change', { zone: this.options.zone, fromSerial: from, serial: result.serial, kind: 'ixfr', removed: removedAll, added: addedAll });
  }
}

/** A SecondaryZone asked for its SOA or records before the first transfer or after expire. */
export class ZoneNotLoadedError extends NetError {
  override name = 'ZoneNotLoadedError';
}

export type LoadOutcome = UpdateOutcome | { readonly result: 'loaded'; readonly serial: number };

/**
 * A Secondary's zone as a ZoneSource: SERVFAIL (RFC 1035 §4.1.1: not loaded, as NSD and Knot
 * answer) until the first transfer and after expire; otherwise a PrimaryZone whose journal gets
 * each new serial, so IXFR out works and downstream secondaries can follow. Call `load()` on
 * each `change` of the Secondary.
 */
export class SecondaryZone implements ZoneSource {
  #zone: PrimaryZone | undefined;

  constructor(
    readonly secondary: Secondary,
    readonly limits: JournalLimits = {},
  ) {}

  get origin(): Fqdn {
    return this.secondary.options.zone;
  }

  /** Serving: transferred at least once and not expired. */
  get available(): boolean {
    return this.#zone !== undefined && !this.secondary.expired;
  }

  /** The served serial; 0 before the first transfer. */
  get serial(): number {
    return this.#zone?.serial ?? 0;
  }

  soa(): RR {
    return this.#served().soa();
  }

  query(qname: Fqdn, qtype: number, opts: SourceQueryOptions): SourceAnswer {
    if (this.#zone === undefined || this.secondary.expired) {
      return { rcode: Rcode.SERVFAIL, aa: false, answer: [], authority: [], additional: [] };
    }
    return this.#zone.query(qname, qtype, opts);
  }

  records(): Iterable<RR> {
    return this.#served().records();
  }

  diffsSince(serial: number): readonly ZoneDiff[] | undefined {
    return this.#zone?.diffsSince(serial);
  }

  /**
   * Serves the Secondary's current records, journalling the difference from what was served.
   * Throws ZoneError when they are not a valid zone (what was served stays served).
   */
  load(): LoadOutcome {
    const next = zoneFromRecords(this.origin, this.secondary.records());
    if (this.#zone === undefined) {
      this.#zone = new PrimaryZone(next, this.limits);
      return { result: 'loaded', serial: next.serial };
    }
    return this.#zone.update(next);
  }

  #served(): PrimaryZone {
    if (this.#zone === undefined || this.secondary.expired) {
      throw new ZoneNotLoadedError(`zone ${this.origin} is not loaded (no transfer yet, or expired)`);
    }
    return this.#zone;
  }
}
