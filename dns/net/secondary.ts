// A secondary for one zone (RFC 1034 §4.3.5, RFC 1996): checks the primary's SOA serial every
// refresh interval (retry after a failure), transfers by IXFR (falling back to AXFR) when the
// serial grew, stops serving after expire without contact, and transfers at once on NOTIFY.
// Keeps the zone's records and emits change events (the combiner's inbound zone uses this).
import { EventEmitter } from 'node:events';
import type { Fqdn } from '../name.ts';
import type { RR } from '../rr.ts';
import { RRType } from '../types.ts';
import type { TsigKey } from '../tsig.ts';
import { axfr, ixfr, soaSerialOf, type TransferResult } from './client.ts';
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

function serialGreater(a: number, b: number): boolean {
  return a !== b && ((a > b && a - b < 0x80000000) || (a < b && b - a > 0x80000000));
}

export class Secondary extends EventEmitter<SecondaryEvents> {
  #records = new Map<string, RR>();
  #soa: RR | undefined;
  #timer: NodeJS.Timeout | undefined;
  #expireAt: number | undefined;
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
      this.#expireAt = undefined;
      this.#expired = false;
      const t = this.#soa === undefined ? undefined : soaTimers(this.#soa.rdata);
      this.#schedule(this.#interval(t?.refresh ?? 3600));
    } catch (err) {
      this.stats.failures++;
      o.logger?.warn({ zone: o.zone, err: String(err) }, 'refresh failed');
      const t = this.#soa === undefined ? undefined : soaTimers(this.#soa.rdata);
      if (t !== undefined) {
        this.#expireAt ??= Date.now() + t.expire * 1000;
        if (Date.now() >= this.#expireAt && !this.#expired) {
          this.#expired = true;
          this.emit('expired', o.zone);
        }
      }
      this.#schedule(this.#interval(t?.retry ?? 60));
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
