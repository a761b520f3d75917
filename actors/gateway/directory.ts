// The peer directory: which remote providers this provider may talk to, with their discovered
// keys and endpoint and the zones it shares with each. The agent owns it (it follows HSYNC and
// runs discovery) and writes one KV entry per peer in the `directory` bucket; every gateway
// replica watches the bucket and answers the receiver's questions from memory, so no message
// waits on the agent and the agent may be restarting while peers talk to us. A peer listed
// with us but not discovered yet is an entry without keys: its messages are refused until the
// agent's discovery lands, and the peer's retry then gets through.
import { decode, encode } from '../../broker/codec.ts';
import { BucketNotFoundError } from '../../broker/errors.ts';
import type { KvBucket, KvChange, Stoppable } from '../../broker/types.ts';
import type { Fqdn } from '../../dns/name.ts';
import type { Endpoint } from '../../protocol/discovery.ts';
import { peerKeys, type PeerKeys } from '../../protocol/envelope.ts';
import { zoneKeyPart } from '../keys.ts';
import type { Logger } from '../logger.ts';
import type { PeerDirectory } from './receive.ts';
import type { PeerAddress } from './send.ts';

/** The agent's KV bucket of directory entries (the gateway only reads it). */
export const DIRECTORY_BUCKET = 'directory';

/** One peer, as the agent writes it. */
export interface DirectoryEntry {
  readonly identity: Fqdn;
  /** Zones whose HSYNC lists both the peer and us (ON), sorted. */
  readonly zones: readonly Fqdn[];
  /** The peer's public JWK or JWK set, once discovered. */
  readonly jwk?: unknown;
  readonly endpoint?: Endpoint;
}

const PREFIX = 'peer.';

export function directoryKey(identity: Fqdn): string {
  return `${PREFIX}${zoneKeyPart(identity)}`;
}

export function encodeEntry(e: DirectoryEntry): Uint8Array {
  return encode({ identity: e.identity, zones: e.zones, ...(e.jwk !== undefined ? { jwk: e.jwk } : {}), ...(e.endpoint !== undefined ? { endpoint: e.endpoint } : {}) });
}

export function decodeEntry(bytes: Uint8Array): DirectoryEntry {
  const raw = decode(bytes) as Partial<DirectoryEntry> | null;
  if (raw === null || typeof raw !== 'object' || typeof raw.identity !== 'string' || !Array.isArray(raw.zones)) throw new Error('directory entry without identity or zones');
  return raw as DirectoryEntry;
}

interface Known {
  readonly entry: DirectoryEntry;
  readonly keys: PeerKeys | undefined;
}

/** The gateway's copy of the directory, kept current by a KV watch. */
export class DirectoryView implements PeerDirectory {
  readonly #peers = new Map<Fqdn, Known>();
  readonly #logger: Logger;
  #watch: Stoppable | undefined;
  #retry: NodeJS.Timeout | undefined;
  #attaching = false;
  #stopped = false;
  /** Watch changes are applied in order (importing keys is asynchronous). */
  #chain: Promise<void> = Promise.resolve();

  private constructor(logger: Logger) {
    this.#logger = logger;
  }

  /**
   * Opens the view; resolves once the entries present at start are loaded. The agent creates the
   * bucket (the gateway may only read it): while it does not exist yet the view is empty and
   * looks again every half second, so a gateway that starts first refuses peers until then.
   */
  static async open(open: () => Promise<KvBucket>, logger: Logger): Promise<DirectoryView> {
    const v = new DirectoryView(logger);
    const attach = async (): Promise<boolean> => {
      try {
        const watch = await (await open()).watch(PREFIX, (c) => v.#apply(c), { initial: true });
        if (v.#stopped) {
          await watch.stop();
          return true;
        }
        v.#watch = watch;
        await v.#chain;
        return true;
      } catch (e) {
        if (!(e instanceof BucketNotFoundError)) throw e;
        return false;
      }
    };
    if (!(await attach())) {
      logger.info({ bucket: DIRECTORY_BUCKET }, 'the agent has not created the peer directory yet; every sender is refused until it does');
      v.#retry = setInterval(() => {
        if (v.#attaching) return;
        v.#attaching = true;
        attach()
          .then((ok) => {
            if (!ok || v.#retry === undefined) return;
            clearInterval(v.#retry);
            v.#retry = undefined;
            logger.info({ bucket: DIRECTORY_BUCKET }, 'peer directory found');
          })
          .catch((e: unknown) => logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'peer directory not opened'))
          .finally(() => (v.#attaching = false));
      }, 500);
    }
    return v;
  }

  #apply(c: KvChange): void {
    this.#chain = this.#chain.then(async () => {
      if (c.op === 'delete' || c.value === undefined) {
        for (const [id, k] of this.#peers) if (directoryKey(k.entry.identity) === c.key) this.#peers.delete(id);
        return;
      }
      try {
        const entry = decodeEntry(c.value);
        const keys = entry.jwk === undefined ? undefined : await peerKeys(entry.jwk, `JWK of ${entry.identity}`);
        this.#peers.set(entry.identity, { entry, keys });
      } catch (e) {
        this.#logger.warn({ key: c.key, err: e instanceof Error ? e.message : String(e) }, 'unusable directory entry ignored');
      }
    });
  }

  /** Resolves once every change seen so far is applied (tests, and start-up). */
  settled(): Promise<void> {
    return this.#chain;
  }

  keysOf(identity: Fqdn): PeerKeys | undefined {
    return this.#peers.get(identity)?.keys;
  }

  sharesZone(peer: Fqdn, zone: Fqdn): boolean {
    return this.#peers.get(peer)?.entry.zones.includes(zone) ?? false;
  }

  endpointOf(identity: Fqdn): Endpoint | undefined {
    return this.#peers.get(identity)?.entry.endpoint;
  }

  /** Everything needed to send to `identity`, once it is discovered. */
  addressOf(identity: Fqdn): PeerAddress | undefined {
    const k = this.#peers.get(identity);
    if (k?.keys === undefined || k.entry.endpoint === undefined) return undefined;
    return { identity, keys: k.keys, endpoint: k.entry.endpoint };
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#retry);
    this.#retry = undefined;
    await this.#watch?.stop();
    await this.#chain;
  }
}
