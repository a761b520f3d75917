// Deadlines of persisted machines, and the one host-level timer that wakes them.
//
// Convention (docs/decisions.md, "Actor host"): a machine that waits on time keeps
// `context.deadlines: Record<string, number>`, absolute milliseconds since the epoch. The host
// delivers `{ type: 'deadline', id, at }` once a deadline is due, including after a restore or
// while the actor is evicted; the machine removes (or moves) the entry when it handles it. A
// deadline that fired and is still in context unchanged is not delivered again in this process.

/** The event the host sends when `context.deadlines[id]` is due. `at` is the host's clock. */
export interface DeadlineEvent {
  readonly type: 'deadline';
  readonly id: string;
  readonly at: number;
}

/** Pending deadlines of a snapshot: `context.deadlines` entries that are finite numbers. */
export function deadlinesOf(snapshot: unknown): Record<string, number> {
  if (typeof snapshot !== 'object' || snapshot === null) return {};
  const context = (snapshot as { context?: unknown }).context;
  if (typeof context !== 'object' || context === null) return {};
  const raw = (context as { deadlines?: unknown }).deadlines;
  if (typeof raw !== 'object' || raw === null) return {};
  const out: Record<string, number> = {};
  for (const [id, at] of Object.entries(raw)) if (typeof at === 'number' && Number.isFinite(at)) out[id] = at;
  return out;
}

interface Entry {
  /** The deadline as the machine's context has it (what `#live` compares). */
  readonly at: number;
  readonly key: string;
  readonly id: string;
  /** When to fire, if not at `at` (a retry after a delivery failed). */
  readonly due?: number;
}

const dueOf = (e: Entry): number => e.due ?? e.at;

/** setTimeout's longest delay; longer waits re-arm in steps. */
const MAX_DELAY = 2 ** 31 - 1;

/** `now` is the host's clock when it fired; `deadline` the value in the machine's context. */
export type DueHandler = (key: string, id: string, now: number, deadline: number) => void;

/**
 * A timer wheel for every actor of the host, resident or evicted: a binary heap of
 * `{ at, key, id }` and one unref'd timer for the earliest. Superseded entries are dropped lazily.
 */
export class DeadlineWheel {
  readonly #heap: Entry[] = [];
  readonly #current = new Map<string, Map<string, number>>();
  readonly #fired = new Map<string, Map<string, number>>();
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #stopped = false;

  constructor(
    private readonly onDue: DueHandler,
    private readonly now: () => number = Date.now,
  ) {}

  /** Replaces the pending deadlines of `key` (an empty record clears them). */
  set(key: string, deadlines: Record<string, number>): void {
    const fired = this.#fired.get(key);
    const next = new Map<string, number>();
    for (const [id, at] of Object.entries(deadlines)) {
      if (fired?.get(id) === at) continue;
      next.set(id, at);
    }
    if (fired !== undefined) for (const [id, at] of fired) if (deadlines[id] !== at) fired.delete(id);
    if (fired?.size === 0) this.#fired.delete(key);
    const before = this.#current.get(key);
    if (next.size === 0) {
      this.#current.delete(key);
      return;
    }
    this.#current.set(key, next);
    for (const [id, at] of next) if (before?.get(id) !== at) this.#push({ at, key, id });
    this.#arm();
  }

  /**
   * Fires a deadline again after `delayMs`: its delivery failed (the broker was unreachable), so
   * the machine never saw it. Nothing happens when the machine's deadlines moved on meanwhile.
   */
  retry(key: string, id: string, deadline: number, delayMs: number): void {
    const fired = this.#fired.get(key);
    if (fired?.get(id) !== deadline) return;
    fired.delete(id);
    if (fired.size === 0) this.#fired.delete(key);
    let cur = this.#current.get(key);
    if (cur === undefined) this.#current.set(key, (cur = new Map<string, number>()));
    cur.set(id, deadline);
    this.#push({ at: deadline, key, id, due: this.now() + delayMs });
    this.#arm();
  }

  /** Forgets `key` entirely (its shard was lost). */
  clear(key: string): void {
    this.#current.delete(key);
    this.#fired.delete(key);
  }

  /** Forgets every key for which `pred` holds (all machines of a lost shard). */
  clearWhere(pred: (key: string) => boolean): void {
    for (const key of [...this.#current.keys(), ...this.#fired.keys()]) if (pred(key)) this.clear(key);
  }

  /** Pending deadlines of `key`. */
  pending(key: string): Record<string, number> {
    return Object.fromEntries(this.#current.get(key) ?? []);
  }

  /** Keys with at least one pending deadline. */
  get size(): number {
    return this.#current.size;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #push(e: Entry): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p];
      if (parent === undefined || dueOf(parent) <= dueOf(e)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = e;
  }

  #pop(): Entry | undefined {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      let mAt = dueOf(last);
      const le = h[l];
      const re = h[r];
      if (le !== undefined && dueOf(le) < mAt) {
        m = l;
        mAt = dueOf(le);
      }
      if (re !== undefined && dueOf(re) < mAt) m = r;
      if (m === i) break;
      h[i] = h[m] as Entry;
      i = m;
    }
    h[i] = last;
    return top;
  }

  #live(e: Entry): boolean {
    return this.#current.get(e.key)?.get(e.id) === e.at;
  }

  #arm(): void {
    if (this.#stopped) return;
    while (this.#heap[0] !== undefined && !this.#live(this.#heap[0])) this.#pop();
    const first = this.#heap[0];
    if (first === undefined) return;
    if (this.#timer !== undefined && this.#timerAt <= dueOf(first)) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = dueOf(first);
    const delay = Math.min(MAX_DELAY, Math.max(0, dueOf(first) - this.now()));
    this.#timer = setTimeout(() => this.#tick(), delay);
    this.#timer.unref();
  }

  #tick(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = this.now();
    for (;;) {
      const first = this.#heap[0];
      if (first === undefined || dueOf(first) > now) break;
      this.#pop();
      if (!this.#live(first)) continue;
      const cur = this.#current.get(first.key);
      cur?.delete(first.id);
      if (cur?.size === 0) this.#current.delete(first.key);
      let fired = this.#fired.get(first.key);
      if (fired === undefined) this.#fired.set(first.key, (fired = new Map<string, number>()));
      fired.set(first.id, first.at);
      this.onDue(first.key, first.id, now, first.at);
    }
    this.#arm();
  }
}
