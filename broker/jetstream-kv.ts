// KV bucket on JetStream (nats-server 2.9 KV): revision CAS through expected-last-subject-sequence.
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { KvWatchInclude, type KV } from '@nats-io/kv';
import { headers } from '@nats-io/transport-node';
import { KeyExistsError, RevisionMismatchError } from './errors.ts';
import { EXPECTED_LAST_SUBJECT_SEQ_HEADER, pubAckOf } from './pub-ack.ts';
import type { ReplyInbox } from './reply-inbox.ts';
import { checkKey } from './subjects.ts';
import type { KvBucket, KvChange, KvEntry, Logger, Stoppable, WatchOptions } from './types.ts';

/** A plain Uint8Array view (nats.js hands out Buffers; callers compare with Uint8Array). */
export function plain(b: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(b) === Uint8Array.prototype ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function isWrongLastSequence(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
      err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

/** Server-side filter for a string prefix: exact up to its last complete token. */
function filterFor(prefix: string): string {
  const i = prefix.lastIndexOf('.');
  return i < 0 ? '>' : `${prefix.slice(0, i)}.>`;
}

/** How long a KV write waits for the server. */
const WRITE_TIMEOUT_MS = 5000;

export class JetStreamBucket implements KvBucket {
  /** `$KV.<bucket>.`: a key's subject is this plus the key (our buckets are not mirrors). */
  readonly #keyPrefix: string;

  constructor(
    readonly name: string,
    private readonly kv: KV,
    private readonly logger: Logger,
    private readonly open: Set<Stoppable>,
    private readonly inbox: ReplyInbox,
  ) {
    this.#keyPrefix = `$KV.${name}.`;
  }

  async get(key: string): Promise<KvEntry | undefined> {
    const e = await this.kv.get(checkKey(key));
    if (e === null || e.operation !== 'PUT') return undefined;
    return { value: plain(e.value), revision: e.revision };
  }

  async create(key: string, value: Uint8Array): Promise<number> {
    try {
      return await this.kv.create(checkKey(key), value);
    } catch (err) {
      if (isWrongLastSequence(err)) throw new KeyExistsError(key, { cause: err });
      throw err;
    }
  }

  put(key: string, value: Uint8Array): Promise<number> {
    return this.kv.put(checkKey(key), value);
  }

  async update(key: string, value: Uint8Array, expectedRevision: number): Promise<number> {
    if (expectedRevision <= 0) throw new RevisionMismatchError(key, expectedRevision);
    // Straight to the key's subject with the expected revision (what nats.js's kv.update sends),
    // without its key codec, option copies and request machinery: this is the host's hot path.
    const h = headers();
    h.set(EXPECTED_LAST_SUBJECT_SEQ_HEADER, String(expectedRevision));
    try {
      return pubAckOf(await this.inbox.request(this.#keyPrefix + checkKey(key), value, h, WRITE_TIMEOUT_MS)).seq;
    } catch (err) {
      if (isWrongLastSequence(err)) throw new RevisionMismatchError(key, expectedRevision, { cause: err });
      throw err;
    }
  }

  async delete(key: string, revision?: number): Promise<void> {
    try {
      await this.kv.delete(checkKey(key), revision !== undefined ? { previousSeq: revision } : {});
    } catch (err) {
      if (revision !== undefined && isWrongLastSequence(err)) {
        throw new RevisionMismatchError(key, revision, { cause: err });
      }
      throw err;
    }
  }

  async keys(prefix = ''): Promise<string[]> {
    const out: string[] = [];
    for await (const k of await this.kv.keys(filterFor(prefix))) if (k.startsWith(prefix)) out.push(k);
    return out.sort();
  }

  async watch(prefix: string | undefined, callback: (c: KvChange) => void, opts: WatchOptions = {}): Promise<Stoppable> {
    const p = prefix ?? '';
    // Entries up to this revision are initial values (nats.js flags the last of them as an update).
    const startRevision = opts.initial === true ? (await this.kv.status()).streamInfo.state.last_seq : 0;
    const iter = await this.kv.watch({
      key: filterFor(p),
      include: opts.initial === true ? KvWatchInclude.LastValue : KvWatchInclude.UpdatesOnly,
    });
    const loop = (async () => {
      for await (const e of iter) {
        if (!e.key.startsWith(p)) continue;
        // Initial values of deleted keys are skipped, like the embedded broker.
        if (e.revision <= startRevision && e.operation !== 'PUT') continue;
        const change: KvChange =
          e.operation === 'PUT'
            ? { key: e.key, op: 'put', value: plain(e.value), revision: e.revision }
            : { key: e.key, op: 'delete', value: undefined, revision: e.revision };
        try {
          callback(change);
        } catch (err) {
          this.logger.error({ bucket: this.name, key: e.key, err }, 'KV watch callback failed');
        }
      }
    })();
    const handle: Stoppable = {
      stop: async () => {
        iter.stop();
        await loop;
        this.open.delete(handle);
      },
    };
    this.open.add(handle);
    return handle;
  }
}
