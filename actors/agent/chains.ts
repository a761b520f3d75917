// Transfer chains between providers: a provider whose HSYNC upstream is another provider takes
// the zone from that provider's combiner instead of the owner's primary. What the agent knows
// and the combiner needs: the upstream's transfer endpoint (from its HELLO: TDNS's `addresses`
// and `port`), and for each pair the TSIG key derived from the two agents' keys
// (transfer-key.ts). For every zone the agent tells its combiner the whole chain setting (its
// upstream, if any, and its downstreams) whenever it changes; the combiner keeps it.
import { decode, encode } from '../../broker/codec.ts';
import type { Broker } from '../../broker/types.ts';
import type { Fqdn } from '../../dns/name.ts';
import type { Peer } from '../../dns/net/transport.ts';
import type { OwnKeys, PeerKeys } from '../../protocol/envelope.ts';
import type { HsyncAnalysis } from '../../protocol/hsync-analysis.ts';
import { COMBINER_CHAIN, type ChainRequest } from '../combiner/combiner.ts';
import type { Logger } from '../logger.ts';
import { transferKey } from './transfer-key.ts';

export interface ChainsOptions {
  readonly self: Fqdn;
  readonly own: OwnKeys;
  readonly broker: Broker;
  readonly logger: Logger;
  /** The discovered keys of a peer (undefined until discovered). */
  readonly keysOf: (peer: Fqdn) => PeerKeys | undefined;
}

export class Chains {
  readonly #o: ChainsOptions;
  /** Each peer's combiner transfer endpoint, from its HELLO. */
  readonly #endpoints = new Map<Fqdn, Peer>();
  readonly #analyses = new Map<Fqdn, HsyncAnalysis>();
  /** The setting last acknowledged by our combiner, per zone (as text, to compare). */
  readonly #sent = new Map<Fqdn, string>();

  constructor(o: ChainsOptions) {
    this.#o = o;
  }

  helloReceived(peer: Fqdn, addresses: readonly string[] | undefined, port: number | undefined): void {
    const address = addresses?.[0];
    if (address === undefined || port === undefined) return;
    const before = this.#endpoints.get(peer);
    if (before?.address === address && before.port === port) return;
    this.#endpoints.set(peer, { address, port });
    for (const a of this.#analyses.values()) this.#apply(a);
  }

  zoneAnalysed(a: HsyncAnalysis): void {
    this.#analyses.set(a.zone, a);
    this.#apply(a);
  }

  /** A peer's keys became known (discovery): settings that waited for them can be made. */
  keysKnown(): void {
    for (const a of this.#analyses.values()) this.#apply(a);
  }

  #setting(a: HsyncAnalysis): ChainRequest | undefined {
    const me = a.providers.find((p) => p.identity === this.#o.self);
    if (a.membership !== 'on' || me === undefined) return { zone: a.zone, downstreams: [] };
    const byLabel = new Map(a.providers.map((p) => [p.label, p]));
    let upstream: ChainRequest['upstream'];
    if (me.upstream !== null) {
      const up = byLabel.get(me.upstream);
      if (up === undefined || up.state !== 'ON') return undefined;
      const endpoint = this.#endpoints.get(up.identity);
      const keys = this.#o.keysOf(up.identity);
      if (endpoint === undefined || keys === undefined) return undefined; // not yet: wait for its HELLO and keys
      upstream = { identity: up.identity, primary: endpoint, key: transferKey(this.#o.self, this.#o.own, up.identity, keys) };
    }
    const downstreams: ChainRequest['downstreams'][number][] = [];
    for (const d of a.providers) {
      if (d.upstream !== me.label || d.state !== 'ON' || d.identity === this.#o.self) continue;
      const keys = this.#o.keysOf(d.identity);
      if (keys === undefined) continue;
      const notify = this.#endpoints.get(d.identity);
      downstreams.push({ identity: d.identity, key: transferKey(this.#o.self, this.#o.own, d.identity, keys), ...(notify !== undefined ? { notify } : {}) });
    }
    return { zone: a.zone, ...(upstream !== undefined ? { upstream } : {}), downstreams };
  }

  #apply(a: HsyncAnalysis): void {
    const setting = this.#setting(a);
    if (setting === undefined) return;
    const text = JSON.stringify(setting, (_, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
    if (this.#sent.get(a.zone) === text) return;
    this.#sent.set(a.zone, text);
    this.#o.broker
      .request(COMBINER_CHAIN, encode(setting), 10_000)
      .then((r) => {
        const reply = decode(r) as { error?: string };
        if (reply.error !== undefined) throw new Error(reply.error);
        this.#o.logger.info({ zone: a.zone, upstream: setting.upstream?.identity ?? 'owner', downstreams: setting.downstreams.map((d) => d.identity) }, 'transfer chain set at the combiner');
      })
      .catch((e: unknown) => {
        // Not acknowledged: try again at the next change or analysis.
        this.#sent.delete(a.zone);
        this.#o.logger.info({ zone: a.zone, err: e instanceof Error ? e.message : String(e) }, 'transfer chain not set at the combiner');
      });
  }
}
