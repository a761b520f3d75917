// One mailbox per zone: jobs of a zone run strictly one after another, in the order they were
// posted; different zones run concurrently. A mailbox that drains is dropped from memory.

export type Job<T> = () => Promise<T>;

export class Mailboxes {
  readonly #tails = new Map<string, Promise<unknown>>();
  readonly #depth = new Map<string, number>();

  /** Runs `job` after every job posted earlier for `zone`; resolves or rejects with its result. */
  post<T>(zone: string, job: Job<T>): Promise<T> {
    const tail = this.#tails.get(zone) ?? Promise.resolve();
    const run = tail.then(job, job);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(zone, settled);
    this.#depth.set(zone, (this.#depth.get(zone) ?? 0) + 1);
    void settled.then(() => {
      const left = (this.#depth.get(zone) ?? 1) - 1;
      if (left > 0) {
        this.#depth.set(zone, left);
        return;
      }
      this.#depth.delete(zone);
      if (this.#tails.get(zone) === settled) this.#tails.delete(zone);
    });
    return run;
  }

  /** Jobs posted for `zone` that have not finished yet (0: idle). */
  pending(zone: string): number {
    return this.#depth.get(zone) ?? 0;
  }

  /** Zones with at least one unfinished job. */
  get busyZones(): number {
    return this.#depth.size;
  }

  /** Resolves once every job posted so far, in every zone, has finished. */
  async drain(): Promise<void> {
    while (this.#tails.size > 0) await Promise.all([...this.#tails.values()]);
  }
}
