// KV bucket of the embedded broker: per-bucket revisions, create/update compare-and-set, soft
// deletes, prefix watches. In memory only.
import { KeyExistsError, RevisionMismatchError } from './errors.ts';
import { checkKey } from './subjects.ts';
import type { KvBucket, KvChange, KvEntry, Logger, Stoppable, WatchOptions } from './types.ts';

interface Slot {
  value: Uint8Array | undefined;
  revision: number;
  /** When it was written (epoch ms), for the bucket's max age. */
  at: number;
}

interface Watcher {
  prefix: string;
  callback: (c: KvChange) => void;
}

export interface BucketState {
  revision: number;
  readonly entries: Map<string, Slot>;
  readonly watchers: Set<Watcher>;
  /** Entries older than this are gone (JetStream's max age), when set. */
  readonly maxAgeMs: number | undefined;
  /** Last time expired entries were dropped. */
  sweptAt: number;
}

export class EmbeddedBucket implements KvBucket {
  constructor(
    readonly name: string,
    private readonly state: BucketState,
    private readonly logger: Logger,
    private readonly open: Set<Stoppable>,
  ) {}

  /** The slot, unless it is deleted or older than the bucket's max age. */
  private live(key: string): Slot | undefined {
    const s = this.state.entries.get(key);
    if (s?.value === undefined) return undefined;
    const max = this.state.maxAgeMs;
    return max !== undefined && Date.now() - s.at > max ? undefined : s;
  }

  /** Drops expired entries, at most once a second (no watch events, as with JetStream's max age). */
  private sweep(): void {
    const max = this.state.maxAgeMs;
    const now = Date.now();
    if (max === undefined || now - this.state.sweptAt < 1000) return;
    this.state.sweptAt = now;
    for (const [key, s] of this.state.entries) if (now - s.at > max) this.state.entries.delete(key);
  }

  get(key: string): Promise<KvEntry | undefined> {
    const s = this.live(checkKey(key));
    if (s?.value === undefined) return Promise.resolve(undefined);
    return Promise.resolve({ value: s.value.slice(), revision: s.revision });
  }

  private write(key: string, value: Uint8Array | undefined): number {
    this.sweep();
    const revision = ++this.state.revision;
    const stored = value?.slice();
    this.state.entries.set(key, { value: stored, revision, at: Date.now() });
    const change: KvChange = { key, op: stored === undefined ? 'delete' : 'put', value: stored, revision };
    for (const w of this.state.watchers) {
      if (!key.startsWith(w.prefix)) continue;
      queueMicrotask(() => this.notify(w, change));
    }
    return revision;
  }

  private notify(w: Watcher, change: KvChange): void {
    if (!this.state.watchers.has(w)) return;
    try {
      w.callback({ ...change, value: change.value?.slice() });
    } catch (err) {
      this.logger.error({ bucket: this.name, key: change.key, err }, 'KV watch callback failed');
    }
  }

  create(key: string, value: Uint8Array): Promise<number> {
    if (this.live(checkKey(key)) !== undefined) return Promise.reject(new KeyExistsError(key));
    return Promise.resolve(this.write(key, value));
  }

  put(key: string, value: Uint8Array): Promise<number> {
    return Promise.resolve(this.write(checkKey(key), value));
  }

  update(key: string, value: Uint8Array, expectedRevision: number): Promise<number> {
    const s = this.live(checkKey(key));
    if (s === undefined || s.revision !== expectedRevision) {
      return Promise.reject(new RevisionMismatchError(key, expectedRevision));
    }
    return Promise.resolve(this.write(key, value));
  }

  delete(key: string, revision?: number): Promise<void> {
    const s = this.state.entries.get(checkKey(key));
    if (revision !== undefined && (s === undefined || s.revision !== revision)) {
      return Promise.reject(new RevisionMismatchError(key, revision));
    }
    if (s?.value !== undefined || revision !== undefined) this.write(key, undefined);
    return Promise.resolve();
  }

  keys(prefix = ''): Promise<string[]> {
    const out: string[] = [];
    for (const k of this.state.entries.keys()) if (k.startsWith(prefix) && this.live(k) !== undefined) out.push(k);
    return Promise.resolve(out.sort());
  }

  watch(prefix: string | undefined, callback: (c: KvChange) => void, opts: WatchOptions = {}): Promise<Stoppable> {
    const w: Watcher = { prefix: prefix ?? '', callback };
    this.state.watchers.add(w);
    if (opts.initial === true) {
      for (const [key, s] of this.state.entries) {
        if (s.value === undefined || !key.startsWith(w.prefix)) continue;
        const change: KvChange = { key, op: 'put', value: s.value, revision: s.revision };
        queueMicrotask(() => this.notify(w, change));
      }
    }
    const handle: Stoppable = {
      stop: () => {
        this.state.watchers.delete(w);
        this.open.delete(handle);
        return Promise.resolve();
      },
    };
    this.open.add(handle);
    return Promise.resolve(handle);
  }
}
