// Which actors stay in memory: least-recently-used order, an idle limit and a count limit.
// Evicting an actor only drops it from memory: its snapshot is already in KV (persisted after
// every transition) and its deadlines stay in the host's DeadlineWheel.

export interface EvictionPolicy {
  /** Evict actors that received no event for this long (ms). 0 or Infinity: never by age. */
  readonly idleMs: number;
  /** Keep at most this many actors resident (least recently used go first). */
  readonly maxResident: number;
}

interface Slot<T> {
  readonly value: T;
  lastUsed: number;
}

/** Residents in least-recently-used order (a Map re-inserted on every use). */
export class Residents<T> {
  readonly #slots = new Map<string, Slot<T>>();

  get size(): number {
    return this.#slots.size;
  }

  get(key: string): T | undefined {
    return this.#slots.get(key)?.value;
  }

  /** Inserts or marks `key` as used at `now` (moves it to the most-recently-used end). */
  touch(key: string, value: T, now: number): void {
    this.#slots.delete(key);
    this.#slots.set(key, { value, lastUsed: now });
  }

  delete(key: string): boolean {
    return this.#slots.delete(key);
  }

  values(): IterableIterator<T> {
    const it = this.#slots.values();
    return (function* () {
      for (const s of it) yield s.value;
    })();
  }

  /**
   * Keys to evict under `policy` at `now`, oldest first: every slot idle longer than idleMs, then
   * the least recently used until at most maxResident remain. `busy` keys are skipped.
   */
  victims(policy: EvictionPolicy, now: number, busy: (key: string) => boolean): string[] {
    const out: string[] = [];
    let excess = this.#slots.size - policy.maxResident;
    const idleCutoff = policy.idleMs > 0 && Number.isFinite(policy.idleMs) ? now - policy.idleMs : -Infinity;
    for (const [key, slot] of this.#slots) {
      const idle = slot.lastUsed <= idleCutoff;
      if (!idle && excess <= 0) break;
      if (busy(key)) continue;
      out.push(key);
      excess--;
    }
    return out;
  }
}
