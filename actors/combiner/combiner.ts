// The combiner role (first version): for each configured zone it takes the owner's zone from the
// zone's primary (a secondary: NOTIFY, IXFR/AXFR, SOA refresh), keeps the providers'
// contributions in its KV bucket (one record per zone and originator), answers the agent's
// UPDATE requests with a per-record result after the gates (protocol/combiner-gates.ts), and
// serves the combined zone (protocol/combine.ts) to the provider's nameserver as a primary:
// journalled for IXFR, NOTIFY on every new serial. "Applied" means served: an UPDATE is answered
// once the provider's nameserver serves a serial that contains it, and the answer carries that
// serial. Its own HSYNC analysis comes from the transferred zone, so it needs no agent to judge.
import { decode, encode } from '../../broker/codec.ts';
import type { Broker, KvBucket, Stoppable } from '../../broker/types.ts';
import type { Fqdn } from '../../dns/name.ts';
import { query } from '../../dns/net/client.ts';
import { Notifier } from '../../dns/net/notify.ts';
import { PrimaryZone } from '../../dns/net/primary.ts';
import { Secondary } from '../../dns/net/secondary.ts';
import { DnsServer } from '../../dns/net/server.ts';
import type { Peer } from '../../dns/net/transport.ts';
import type { TsigKey } from '../../dns/tsig.ts';
import { soaSerial } from '../../dns/rdata/soa.ts';
import type { RR } from '../../dns/rr.ts';
import { serialGt } from '../../dns/serial.ts';
import { Rcode, RRType } from '../../dns/types.ts';
import { zoneFromRecords } from '../../dns/zone.ts';
import { combineZone, nextVersion, type Served } from '../../protocol/combine.ts';
import type { GateOptions } from '../../protocol/combiner-gates.ts';
import { applyUpdate, emptyStore, loadStore, serialiseContribution, contributionOf, originators, purgeOriginator, type ContributionStore, type RecordResult } from '../../protocol/contributions.ts';
import { analyseHsync, type HsyncAnalysis } from '../../protocol/hsync-analysis.ts';
import type { ZoneData } from '../../protocol/messages.ts';
import type { ProviderConfig, ZoneConfig } from '../config.ts';
import { zoneKeyPart } from '../keys.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';

/** The request/reply service the agent sends UPDATEs to. */
export const COMBINER_UPDATE = 'combiner.update';

/** The request/reply service the agent sets a zone's transfer chain with. */
export const COMBINER_CHAIN = 'combiner.chain';

/**
 * A zone's transfer chain, as the agent knows it: the upstream provider's combiner to transfer
 * from (absent: the zone's configured primary, the owner's) and the downstream providers that
 * transfer from us, each with the TSIG key of the pair.
 */
export interface ChainRequest {
  readonly zone: Fqdn;
  readonly upstream?: { readonly identity: Fqdn; readonly primary: Peer; readonly key: TsigKey };
  readonly downstreams: readonly { readonly identity: Fqdn; readonly key: TsigKey; readonly notify?: Peer }[];
}

export interface UpdateRequest {
  readonly zone: Fqdn;
  /** A sync or update message; its originator is the contributing provider. */
  readonly update: ZoneData;
}

export interface UpdateReply {
  readonly zone: Fqdn;
  readonly results: readonly RecordResult[];
  /** The serial that carries the result (served, when `served`). */
  readonly serial: number | undefined;
  /** True once the provider's nameserver serves `serial`. */
  readonly served: boolean;
  /** Why nothing was applied (zone unknown or not loaded yet). */
  readonly error?: string;
}

export interface CombinerOptions {
  readonly config: ProviderConfig;
  readonly broker: Broker;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** How long an UPDATE waits for its serial to be served before answering unserved. Default 10 s. */
  readonly servedTimeoutMs?: number;
}

const GATES: GateOptions = { dnskeyAlgorithms: [] };

class ZoneState {
  secondary: Secondary;
  /** Where the inbound zone comes from: `owner`, or the upstream provider's identity. */
  from = 'owner';
  chain: ChainRequest | undefined;
  /** NOTIFY to the downstream providers' combiners, TSIG-signed with each pair's key. */
  downstreamNotifiers: Notifier[] = [];
  store: ContributionStore;
  served: Served | undefined;
  source: PrimaryZone | undefined;
  /** Rebuilds and updates run one at a time per zone. */
  queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly config: ZoneConfig,
    store: ContributionStore,
    served: Served | undefined,
  ) {
    this.secondary = new Secondary({ zone: config.name, primary: config.primary, minIntervalMs: 1000 });
    this.store = store;
    this.served = served;
  }

  /** Runs `task` after every earlier task of this zone. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.queue.then(task, task);
    this.queue = next.catch(() => {});
    return next;
  }
}

const rdatasOf = (records: readonly RR[], zone: Fqdn, type: number): Uint8Array[] => records.filter((rr) => rr.type === type && rr.name === zone).map((rr) => rr.rdata);

export class Combiner {
  readonly #o: CombinerOptions;
  readonly #zones = new Map<Fqdn, ZoneState>();
  #kv!: KvBucket;
  #server!: DnsServer;
  #notifier: Notifier | undefined;
  #service: Stoppable | undefined;
  #chainService: Stoppable | undefined;
  #stopped = false;
  #address!: Peer;

  private constructor(o: CombinerOptions) {
    this.#o = o;
  }

  get address(): Peer {
    return this.#address;
  }

  static async start(o: CombinerOptions): Promise<Combiner> {
    const c = new Combiner(o);
    const listen = o.config.combiner;
    if (listen === undefined) throw new Error(`${o.config.identity}: the configuration has no combiner address`);
    c.#kv = await o.broker.kv('combiner');
    for (const z of o.config.zones) c.#zones.set(z.name, new ZoneState(z, await c.#loadStore(z.name), await c.#loadServed(z.name)));
    const primaries = [...new Set(o.config.zones.map((z) => z.primary.address))];
    c.#server = new DnsServer({
      address: listen.address,
      port: listen.port,
      allowNotify: primaries,
      // The provider's nameserver transfers from here; the lab's parties are on loopback.
      allowTransfer: o.config.nameserver !== undefined ? [`${o.config.nameserver.address}/32`] : [],
      onNotify: (zone, serial) => c.#zones.get(zone)?.secondary.notify(serial),
    });
    const bound = await c.#server.start();
    c.#address = { address: listen.address, port: bound.port };
    if (o.config.nameserver !== undefined) c.#notifier = new Notifier({ targets: [o.config.nameserver], initialDelayMs: 200 });
    for (const st of c.#zones.values()) {
      const chain = await c.#kv.get(`chain.${zoneKeyPart(st.config.name)}`);
      if (chain !== undefined) c.#applyChain(st, decode(chain.value) as ChainRequest);
      else c.#follow(st);
    }
    c.#service = await o.broker.respond(COMBINER_UPDATE, (data) => c.#onUpdate(decode(data) as UpdateRequest).then(encode));
    c.#chainService = await o.broker.respond(COMBINER_CHAIN, (data) => c.#onChain(decode(data) as ChainRequest).then(encode));
    return c;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#service?.stop();
    await this.#chainService?.stop();
    for (const st of this.#zones.values()) st.secondary.stop();
    this.#notifier?.close();
    await this.#server.stop();
    for (const st of this.#zones.values()) for (const n of st.downstreamNotifiers) n.close();
    await Promise.all([...this.#zones.values()].map((st) => st.queue));
  }

  // ---- the transfer chain ----

  /** Starts the zone's secondary (already set up) and wires its events. */
  #follow(st: ZoneState): void {
    const secondary = st.secondary;
    secondary.on('change', () => {
      this.#o.metrics.inc('mpdns_combiner_transfers_total', 'Inbound zone transfers by where they came from', { from: st.from });
      this.#rebuildSoon(st);
    });
    secondary.on('error', (err: unknown) => this.#o.logger.warn({ zone: st.config.name, from: st.from, err: err instanceof Error ? err.message : String(err) }, 'inbound zone not transferred'));
    secondary.start();
  }

  /**
   * Rebuilds after an inbound change; a rebuild that fails (the broker is unreachable, so the new
   * serial cannot be persisted) is tried again every second until it succeeds: the transfer
   * already holds the new content, so nothing else would bring it back.
   */
  #rebuildSoon(st: ZoneState): void {
    void st.run(() => this.#rebuild(st)).catch((err: unknown) => {
      this.#o.logger.warn({ zone: st.config.name, err: err instanceof Error ? err.message : String(err) }, 'combined zone not rebuilt; retrying in 1 s');
      if (!this.#stopped) setTimeout(() => this.#rebuildSoon(st), 1000).unref();
    });
  }

  /** Applies a chain setting: the inbound secondary's primary and key, downstream keys and NOTIFY. */
  #applyChain(st: ZoneState, chain: ChainRequest): void {
    const up = chain.upstream;
    const before = st.chain?.upstream;
    const sameUpstream = before?.identity === up?.identity && before?.primary.address === up?.primary.address && before?.primary.port === up?.primary.port;
    st.chain = chain;
    for (const d of chain.downstreams) this.#server.addKey(d.key);
    for (const n of st.downstreamNotifiers) n.close();
    st.downstreamNotifiers = chain.downstreams.flatMap((d) => (d.notify === undefined ? [] : [new Notifier({ targets: [d.notify], tsig: d.key, initialDelayMs: 200 })]));
    if (sameUpstream && st.secondary.listenerCount('change') > 0) return;
    if (up !== undefined) this.#server.addKey(up.key);
    st.secondary.stop();
    st.secondary.removeAllListeners();
    st.secondary = new Secondary({ zone: st.config.name, primary: up?.primary ?? st.config.primary, minIntervalMs: 1000, ...(up !== undefined ? { tsig: up.key } : {}) });
    st.from = up?.identity ?? 'owner';
    this.#o.logger.info({ zone: st.config.name, from: st.from }, 'inbound zone source');
    this.#follow(st);
  }

  async #onChain(req: ChainRequest): Promise<{ error?: string }> {
    const st = this.#zones.get(req.zone);
    if (st === undefined) return { error: `${req.zone} is not a zone of this combiner` };
    await this.#kv.put(`chain.${zoneKeyPart(req.zone)}`, encode(req));
    this.#applyChain(st, req);
    return {};
  }

  // ---- persistence ----

  async #loadStore(zone: Fqdn): Promise<ContributionStore> {
    const prefix = `contrib.${zoneKeyPart(zone)}.`;
    const texts: string[] = [];
    for (const key of await this.#kv.keys(prefix)) {
      const e = await this.#kv.get(key);
      if (e !== undefined) texts.push(new TextDecoder().decode(e.value));
    }
    return texts.length === 0 ? emptyStore(zone) : loadStore(zone, texts);
  }

  /**
   * The last served serial; the records are not kept, so the first build after a restart is a
   * new version (one serial more) unless nothing was ever served.
   */
  async #loadServed(zone: Fqdn): Promise<Served | undefined> {
    const e = await this.#kv.get(`served.${zoneKeyPart(zone)}`);
    return e === undefined ? undefined : { serial: Number(new TextDecoder().decode(e.value)), records: [] };
  }

  async #saveContribution(st: ZoneState, originator: Fqdn): Promise<void> {
    const key = `contrib.${zoneKeyPart(st.config.name)}.${zoneKeyPart(originator)}`;
    if (contributionOf(st.store, originator).length === 0) await this.#kv.delete(key);
    else await this.#kv.put(key, new TextEncoder().encode(serialiseContribution(st.store, originator)));
  }

  // ---- building and serving ----

  #analysis(st: ZoneState, owner: readonly RR[]): HsyncAnalysis {
    const zone = st.config.name;
    return analyseHsync({ zone, self: this.#o.config.identity, hsync: rdatasOf(owner, zone, RRType.HSYNC), hsyncparam: rdatasOf(owner, zone, RRType.HSYNCPARAM) });
  }

  /** Combines the owner's zone with the contributions; serves and announces a new version. */
  async #rebuild(st: ZoneState): Promise<void> {
    const owner = st.secondary.records();
    if (!owner.some((rr) => rr.type === RRType.SOA)) return;
    const analysis = this.#analysis(st, owner);
    // A provider the owner removed from HSYNC, or set OFF, loses its contributions.
    const listedOn = new Set(analysis.providers.filter((p) => p.state === 'ON').map((p) => p.identity));
    for (const o of originators(st.store)) {
      if (listedOn.has(o) || analysis.providers.length === 0) continue;
      st.store = purgeOriginator(st.store, o);
      await this.#saveContribution(st, o);
      this.#o.logger.info({ zone: st.config.name, originator: o }, 'contributions purged: the provider is no longer listed ON');
    }
    const combined = combineZone({ owner, store: st.store, analysis, options: GATES });
    const v = nextVersion(st.served, combined);
    if (!v.changed && st.source !== undefined) return;
    // Persist the serial before serving it, so a restart never serves a lower one.
    await this.#kv.put(`served.${zoneKeyPart(st.config.name)}`, new TextEncoder().encode(String(v.serial)));
    st.served = { serial: v.serial, records: v.records };
    const zone = zoneFromRecords(st.config.name, v.records);
    if (st.source === undefined) {
      st.source = new PrimaryZone(zone);
      this.#server.setZone(st.source);
    } else {
      st.source.update(zone);
    }
    this.#o.metrics.inc('mpdns_combiner_versions_total', 'New versions of combined zones served');
    this.#o.logger.info({ zone: st.config.name, serial: v.serial }, 'combined zone served');
    void this.#notifier?.notify(st.config.name, st.source.soa());
    for (const n of st.downstreamNotifiers) void n.notify(st.config.name, st.source.soa());
  }

  /** Resolves once the provider's nameserver serves `serial` (or at the timeout). */
  async #servedAt(zone: Fqdn, serial: number): Promise<boolean> {
    const ns = this.#o.config.nameserver;
    if (ns === undefined) return true;
    const deadline = Date.now() + (this.#o.servedTimeoutMs ?? 10_000);
    for (;;) {
      const r = await query(ns, zone, RRType.SOA, { timeoutMs: 1000, attempts: 1 }).catch(() => undefined);
      const soa = r?.message.rcode === Rcode.NOERROR ? r.message.answer.find((rr) => rr.type === RRType.SOA) : undefined;
      if (soa !== undefined && (soaSerial(soa.rdata) === serial || serialGt(soaSerial(soa.rdata), serial))) return true;
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  // ---- UPDATE from the agent ----

  async #onUpdate(req: UpdateRequest): Promise<UpdateReply> {
    const st = this.#zones.get(req.zone);
    if (st === undefined) return { zone: req.zone, results: [], serial: undefined, served: false, error: `${req.zone} is not a zone of this combiner` };
    const serial = await st.run(async () => {
      const owner = st.secondary.records();
      if (!owner.some((rr) => rr.type === RRType.SOA)) return { error: `${req.zone} is not transferred from its primary yet` };
      const applied = applyUpdate(st.store, req.update, this.#analysis(st, owner), GATES);
      st.store = applied.store;
      for (const o of applied.changed) await this.#saveContribution(st, o);
      await this.#rebuild(st);
      const counts = new Map<string, number>();
      for (const r of applied.results) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
      for (const [status, n] of counts) this.#o.metrics.inc('mpdns_combiner_records_total', 'Contributed records by result', { status }, n);
      return { results: applied.results, serial: st.served?.serial };
    });
    if ('error' in serial) return { zone: req.zone, results: [], serial: undefined, served: false, error: serial.error };
    const served = serial.serial === undefined ? false : await this.#servedAt(req.zone, serial.serial);
    return { zone: req.zone, results: serial.results, serial: serial.serial, served };
  }
}
