// NOTIFY out (RFC 1996): on every serial change, tell each target, retrying with exponential
// backoff until it answers (bounded attempts). A newer serial for the same zone and target
// replaces the pending one.
import type { Fqdn } from '../name.ts';
import type { RR } from '../rr.ts';
import { Opcode, Rcode, RRType } from '../types.ts';
import type { TsigKey } from '../tsig.ts';
import { query } from './client.ts';
import type { Peer } from './transport.ts';
import type { ServerLogger } from './server.ts';

export interface NotifierOptions {
  readonly targets: readonly Peer[];
  readonly tsig?: TsigKey;
  /** Attempts per (zone, target) before giving up. Default 8. */
  readonly maxAttempts?: number;
  /** First retry delay; doubles each time, capped at 30 s. Default 500 ms. */
  readonly initialDelayMs?: number;
  /** Per-attempt answer timeout. Default 2000 ms. */
  readonly timeoutMs?: number;
  readonly logger?: ServerLogger;
}

export type NotifyOutcome = { readonly target: Peer; readonly ok: boolean; readonly attempts: number; readonly rcode?: number };

/** Sends one NOTIFY and waits for its answer (one attempt). Returns the rcode. */
export async function sendNotify(
  target: Peer,
  zone: Fqdn,
  soa: RR | undefined,
  opts: { tsig?: TsigKey; timeoutMs?: number } = {},
): Promise<number> {
  const r = await query(target, zone, RRType.SOA, {
    opcode: Opcode.NOTIFY,
    aa: true,
    udpSize: 0,
    attempts: 1,
    timeoutMs: opts.timeoutMs ?? 2000,
    ...(soa !== undefined ? { answer: [soa] } : {}),
    ...(opts.tsig !== undefined ? { tsig: opts.tsig } : {}),
  });
  return r.message.rcode;
}

export class Notifier {
  readonly #pending = new Map<string, { serial: number; cancel: () => void }>();
  #closed = false;

  constructor(readonly options: NotifierOptions) {}

  /** Notifies every target about `zone` at the serial of `soa`. Resolves when all settled. */
  notify(zone: Fqdn, soa: RR): Promise<NotifyOutcome[]> {
    return Promise.all(this.options.targets.map((t) => this.#notifyOne(t, zone, soa)));
  }

  async #notifyOne(target: Peer, zone: Fqdn, soa: RR): Promise<NotifyOutcome> {
    const key = `${zone}|${target.address}|${target.port}`;
    this.#pending.get(key)?.cancel();
    let cancelled = false;
    let timer: NodeJS.Timeout | undefined;
    let wake: (() => void) | undefined;
    const cancel = (): void => {
      cancelled = true;
      if (timer !== undefined) clearTimeout(timer);
      wake?.();
    };
    this.#pending.set(key, { serial: 0, cancel });
    const max = this.options.maxAttempts ?? 8;
    let delay = this.options.initialDelayMs ?? 500;
    const log = this.options.logger;
    let attempts = 0;
    try {
      for (let attempt = 1; attempt <= max && !cancelled && !this.#closed; attempt++) {
        attempts = attempt;
        try {
          const rcode = await sendNotify(target, zone, soa, {
            ...(this.options.tsig !== undefined ? { tsig: this.options.tsig } : {}),
            ...(this.options.timeoutMs !== undefined ? { timeoutMs: this.options.timeoutMs } : {}),
          });
          log?.info({ zone, target, attempt, rcode }, 'NOTIFY answered');
          return { target, ok: rcode === Rcode.NOERROR, attempts: attempt, rcode };
        } catch (err) {
          log?.warn({ zone, target, attempt, err: String(err) }, 'NOTIFY not answered');
        }
        // Cancelled or closed while this attempt was in flight: no further backoff timer.
        if (attempt === max || cancelled || this.#closed) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, delay);
        });
        delay = Math.min(delay * 2, 30_000);
      }
      return { target, ok: false, attempts };
    } finally {
      if (this.#pending.get(key)?.cancel === cancel) this.#pending.delete(key);
    }
  }

  /** Stops all retries. */
  close(): void {
    this.#closed = true;
    for (const p of this.#pending.values()) p.cancel();
    this.#pending.clear();
  }
}
