// The in-memory IXFR journal: the last N zone changes, each from one serial to the next.
// Bounded by entry count and by total records; the oldest entries fall off first.
import type { ZoneDiff } from '../zone.ts';

export interface JournalLimits {
  /** Most diffs kept. Default 100. */
  readonly maxEntries?: number;
  /** Most records (removed + added, over all diffs) kept. Default 1,000,000. */
  readonly maxRecords?: number;
}

export class Journal {
  readonly #entries: ZoneDiff[] = [];
  #records = 0;
  readonly #maxEntries: number;
  readonly #maxRecords: number;

  constructor(limits: JournalLimits = {}) {
    this.#maxEntries = limits.maxEntries ?? 100;
    this.#maxRecords = limits.maxRecords ?? 1_000_000;
  }

  /**
   * Appends a diff. A diff that does not start at the last diff's end serial breaks the chain:
   * the journal restarts from it (older serials are answered with AXFR).
   */
  append(diff: ZoneDiff): void {
    const last = this.#entries[this.#entries.length - 1];
    if (last !== undefined && last.toSerial !== diff.fromSerial) this.clear();
    if (diff.fromSerial === diff.toSerial) return;
    this.#entries.push(diff);
    this.#records += diff.removed.length + diff.added.length;
    while (
      this.#entries.length > 0 &&
      (this.#entries.length > this.#maxEntries || this.#records > this.#maxRecords)
    ) {
      const old = this.#entries.shift();
      if (old !== undefined) this.#records -= old.removed.length + old.added.length;
    }
  }

  clear(): void {
    this.#entries.length = 0;
    this.#records = 0;
  }

  /**
   * The diffs that take a zone from `serial` to the newest serial, in order; [] when `serial`
   * is the newest; undefined when `serial` is not in the journal (the caller falls back to AXFR).
   */
  since(serial: number): ZoneDiff[] | undefined {
    const last = this.#entries[this.#entries.length - 1];
    if (last !== undefined && last.toSerial === serial) return [];
    const i = this.#entries.findIndex((d) => d.fromSerial === serial);
    return i < 0 ? undefined : this.#entries.slice(i);
  }

  get size(): number {
    return this.#entries.length;
  }

  /** The oldest serial an IXFR can start from, or undefined when empty. */
  get oldestSerial(): number | undefined {
    return this.#entries[0]?.fromSerial;
  }
}
