// The agent (first part): follows each configured zone's apex HSYNC + HSYNCPARAM at the owner's
// primary (at start, on the primary's NOTIFY, and every `recheckSeconds`), analyses it, and runs one
// peer machine per remote provider on the actor host (queue and bucket `agent`). The machines'
// effects are bound here: discovery through the validating resolver, HELLO and BEAT as items on
// the gateway's outbound queue; their results come back to the machines as durable work. The
// gateway's inbox items (messages it accepted, outcomes of outbound items) become machine
// events. The agent keeps the peer directory (gateway/directory.ts) the gateway answers from.
import { Subjects } from '../../broker/subjects.ts';
import type { Broker, KvBucket, Stoppable } from '../../broker/types.ts';
import type { Fqdn } from '../../dns/name.ts';
import { query } from '../../dns/net/client.ts';
import { Rcode, RRType } from '../../dns/types.ts';
import { peerMachine, type PeerContext, type PeerTiming } from '../../machines/peer.ts';
import { peerKeys, type OwnKeys, type PeerKeys } from '../../protocol/envelope.ts';
import { analyseHsync, problemText, type HsyncAnalysis } from '../../protocol/hsync-analysis.ts';
import type { Endpoint } from '../../protocol/discovery.ts';
import type { Message } from '../../protocol/messages.ts';
import type { ProviderConfig, ZoneConfig } from '../config.ts';
import { decodeEntry, DIRECTORY_BUCKET, directoryKey, encodeEntry } from '../gateway/directory.ts';
import { AGENT_INBOX, decodeInbox, encodeOutbound, GATEWAY_QUEUE, type Sent } from '../gateway/queues.ts';
import type { Accepted } from '../gateway/receive.ts';
import { newDistributionId } from '../gateway/send.ts';
import { ActorHost, type MachineView } from '../host.ts';
import type { HostInspector } from '../inspect.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { Chains } from './chains.ts';
import { Contributions } from './contributions.ts';
import { discoverPeer } from './discovery.ts';

/** The agent's machines: queue, snapshot bucket (deploy/nats grants the role these). */
const AGENT_QUEUE = 'agent';
const PEER_KIND = 'peer';
/** A HELLO the gateway could not deliver for this long is reported back; the machine says it again. */
const HELLO_TTL_MS = 10_000;
const PEER_ID = 'peer';

export interface AgentOptions {
  readonly config: ProviderConfig;
  readonly own: OwnKeys;
  readonly broker: Broker;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** `--inspect`: the peer machines' events and snapshots go to a Stately inspector. */
  readonly inspect?: HostInspector;
  /** Peer machine timing (beat interval from the config unless given). */
  readonly timing?: Partial<PeerTiming>;
}

/** A peer as `mpdns ctl peers` shows it. */
export interface PeerView {
  readonly label: string;
  readonly identity: string;
  readonly state: string;
  /** ISO 8601 time the state was entered. */
  readonly since: string;
  readonly zones: readonly string[];
  readonly lastError?: string;
}

interface Discovered {
  readonly jwk: unknown;
  readonly keys: PeerKeys;
  readonly endpoint: Endpoint;
  readonly keyId: string;
  /** When to look again (the records' smallest TTL). */
  readonly expiresAt: number;
}

/** The operator's name of a peer machine's state value. */
export function peerStateName(value: unknown): string {
  if (typeof value === 'string') return value === 'retired' ? 'RETIRED' : value.toUpperCase();
  if (typeof value === 'object' && value !== null) {
    const linked = (value as { linked?: unknown }).linked;
    if (typeof linked === 'string') return linked.toUpperCase();
    const alive = typeof linked === 'object' && linked !== null ? (linked as { alive?: unknown }).alive : undefined;
    if (typeof alive === 'string') return alive.toUpperCase();
  }
  return 'UNKNOWN';
}

export class Agent {
  readonly #o: AgentOptions;
  readonly #timing: PeerTiming;
  readonly #analyses = new Map<Fqdn, HsyncAnalysis>();
  /** The zones each peer's machine was last told it shares with us (sorted). */
  readonly #sharedZones = new Map<Fqdn, readonly Fqdn[]>();
  readonly #discovered = new Map<Fqdn, Discovered>();
  readonly #discovering = new Map<Fqdn, Promise<Discovered>>();
  readonly #labels = new Map<Fqdn, string>();
  readonly #subjects: Subjects;
  readonly #contributions: Contributions;
  readonly #chains: Chains;
  #host!: ActorHost;
  #directory!: KvBucket;
  #inbox: Stoppable | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #refreshing = false;

  private constructor(opts: AgentOptions) {
    this.#o = opts;
    this.#subjects = new Subjects(opts.broker.namespace);
    this.#contributions = new Contributions({
      self: opts.config.identity,
      nameservers: opts.config.nameservers,
      broker: opts.broker,
      logger: opts.logger,
      metrics: opts.metrics,
      send: (peer, message, ttlMs, ref, distributionId) => this.#send(peer, message, ttlMs, ref, distributionId),
    });
    this.#chains = new Chains({ self: opts.config.identity, own: opts.own, broker: opts.broker, logger: opts.logger, keysOf: (peer) => this.#discovered.get(peer)?.keys });
    this.#timing = { beatMs: opts.config.beatSeconds * 1000, helloRetryMs: 20, discoverRetryMs: 500, maxDiscoverMs: 30_000, ...opts.timing };
  }

  static async start(opts: AgentOptions): Promise<Agent> {
    const a = new Agent(opts);
    const machine = peerMachine.provide({
      actions: {
        discover: (_, p) => a.#discover(p.peer as Fqdn),
        sendHello: (_, p) => a.#hello(p.peer as Fqdn, p.zone as Fqdn),
        sendBeat: (_, p) => a.#beat(p.peer as Fqdn, p.zones as Fqdn[]),
      },
    });
    a.#host = await ActorHost.open({
      broker: opts.broker,
      kinds: [{ kind: PEER_KIND, machine }],
      queue: AGENT_QUEUE,
      bucket: AGENT_QUEUE,
      logger: opts.logger,
      idleMs: 0,
      ...(opts.inspect !== undefined ? { inspect: opts.inspect } : {}),
    });
    a.#directory = await opts.broker.kv(DIRECTORY_BUCKET);
    await a.#loadDirectory();
    await a.#host.acquireAll();
    // A SYNC whose combiner cannot be asked yet is delivered again, with backoff, for a long while.
    a.#inbox = await opts.broker.consume(AGENT_INBOX, (m) => a.#onInbox(m.data), { concurrency: 8, maxDeliver: 1000, backoffMs: [500, 1000, 2000, 5000] });
    await a.refreshAll();
    a.#timer = setInterval(() => void a.refreshAll(), opts.config.recheckSeconds * 1000);
    a.#timer.unref();
    return a;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#inbox?.stop();
    await this.#host.stop();
  }

  // ---- zones ----

  /** Re-reads every configured zone. */
  /**
   * Re-reads every configured zone, at most 8 at a time (all at once exhausted the primary's TCP
   * connections with 1,000 zones), and never two rounds at once.
   */
  async refreshAll(): Promise<void> {
    if (this.#refreshing) return;
    this.#refreshing = true;
    try {
      const zones = this.#o.config.zones.map((z) => z.name);
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < zones.length && !this.#stopped) await this.refresh(zones[next++] as Fqdn);
      };
      await Promise.all(Array.from({ length: Math.min(8, zones.length) }, worker));
    } finally {
      this.#refreshing = false;
    }
  }

  /** Re-reads one zone's HSYNC + HSYNCPARAM at its primary (the NOTIFY handler calls this). */
  async refresh(zone: Fqdn): Promise<void> {
    const z = this.#o.config.zones.find((c) => c.name === zone);
    if (z === undefined || this.#stopped) return;
    let analysis: HsyncAnalysis;
    try {
      const [hsync, hsyncparam] = await Promise.all([fetchRdatas(z, RRType.HSYNC), fetchRdatas(z, RRType.HSYNCPARAM)]);
      analysis = analyseHsync({ zone, self: this.#o.config.identity, hsync, hsyncparam });
    } catch (e) {
      this.#o.logger.warn({ zone, err: e instanceof Error ? e.message : String(e) }, 'HSYNC not readable at the primary');
      return;
    }
    const before = this.#analyses.get(zone);
    this.#analyses.set(zone, analysis);
    for (const p of analysis.problems) this.#o.logger.warn({ zone, problem: p.kind }, problemText(p));
    if (before === undefined || JSON.stringify(before.providers) !== JSON.stringify(analysis.providers)) {
      this.#o.logger.info({ zone, membership: analysis.membership, peers: analysis.peers.map((p) => `${p.label}:${p.state}`) }, 'HSYNC analysed');
    }
    for (const p of analysis.providers) this.#labels.set(p.identity, p.label);
    await this.#publishShared();
    this.#contributions.zoneAnalysed(analysis);
    this.#chains.zoneAnalysed(analysis);
  }

  /** Zones each peer shares with us (both listed ON), sent to its machine when they change. */
  async #publishShared(): Promise<void> {
    const shared = new Map<Fqdn, Fqdn[]>();
    for (const a of this.#analyses.values()) {
      if (a.membership !== 'on') continue;
      for (const p of a.peers) if (p.state === 'ON') shared.set(p.identity, [...(shared.get(p.identity) ?? []), a.zone]);
    }
    const peers = new Set<Fqdn>([...shared.keys(), ...this.#sharedZones.keys()]);
    const at = Date.now();
    for (const peer of peers) {
      const zones = [...(shared.get(peer) ?? [])].sort();
      const key = zones.join(' ');
      if (this.#sharedZones.get(peer)?.join(' ') === key) continue;
      this.#sharedZones.set(peer, zones);
      if (zones.length === 0) this.#discovered.delete(peer);
      await this.#writeEntry(peer);
      await this.#submit(peer, { type: 'zones', peer, self: this.#o.config.identity, zones, timing: this.#timing, at });
    }
  }

  // ---- the directory the gateway answers from ----

  /**
   * Takes the keys and endpoints of the directory as left by an earlier run, marked stale: the
   * gateway keeps accepting known peers while this run looks them up again.
   */
  async #loadDirectory(): Promise<void> {
    for (const key of await this.#directory.keys('peer.')) {
      const e = await this.#directory.get(key);
      if (e === undefined) continue;
      try {
        const entry = decodeEntry(e.value);
        if (entry.jwk === undefined || entry.endpoint === undefined) continue;
        const keys = await peerKeys(entry.jwk, `JWK of ${entry.identity}`);
        this.#discovered.set(entry.identity, { jwk: entry.jwk, keys, endpoint: entry.endpoint, keyId: '', expiresAt: 0 });
      } catch {
        // An unusable entry is rewritten or deleted when the peer's zones are published.
      }
    }
  }

  /** Writes (or, when it shares no zone any more, deletes) the peer's directory entry. */
  async #writeEntry(peer: Fqdn): Promise<void> {
    const zones = this.#sharedZones.get(peer) ?? [];
    try {
      if (zones.length === 0) {
        await this.#directory.delete(directoryKey(peer));
        return;
      }
      const d = this.#discovered.get(peer);
      await this.#directory.put(directoryKey(peer), encodeEntry({ identity: peer, zones, ...(d !== undefined ? { jwk: d.jwk, endpoint: d.endpoint } : {}) }));
    } catch (e) {
      this.#o.logger.warn({ peer, err: e instanceof Error ? e.message : String(e) }, 'directory entry not written');
    }
  }

  /**
   * Looks a peer up (one lookup at a time per peer) and writes its directory entry. After a
   * restart, or when the records' TTL runs out, the peer is looked up again. A changed key or
   * endpoint is told to the peer's machine, which introduces itself again.
   */
  #lookup(peer: Fqdn): Promise<Discovered> {
    const running = this.#discovering.get(peer);
    if (running !== undefined) return running;
    const before = this.#discovered.get(peer);
    const p = (async () => {
      const d = await discoverPeer(peer, { resolver: this.#o.config.resolver, insecure: this.#o.config.insecure });
      const found: Discovered = { jwk: d.jwk, keys: await peerKeys(d.jwk, `JWK of ${peer}`), endpoint: d.endpoint, keyId: d.keyId, expiresAt: Date.now() + d.ttlSeconds * 1000 };
      this.#discovered.set(peer, found);
      await this.#writeEntry(peer);
      this.#chains.keysKnown();
      return found;
    })().finally(() => this.#discovering.delete(peer));
    this.#discovering.set(peer, p);
    p.then(
      (d) => {
        if (before !== undefined && before.keyId !== '' && (before.keyId !== d.keyId || before.endpoint.port !== d.endpoint.port || before.endpoint.addresses[0] !== d.endpoint.addresses[0])) {
          void this.#submit(peer, { type: 'discovered', endpoint: `${d.endpoint.addresses[0] ?? ''}:${d.endpoint.port}`, keyId: d.keyId, at: Date.now() });
        }
      },
      () => {},
    );
    return p;
  }

  // ---- effects of the peer machines ----

  #submit(peer: Fqdn, event: { type: string; at: number; [k: string]: unknown }): Promise<unknown> {
    if (this.#stopped) return Promise.resolve();
    return this.#host.submit({ zone: peer, machineId: PEER_ID, kind: PEER_KIND, event }).catch((e: unknown) => {
      this.#o.logger.warn({ peer, event: event.type, err: e instanceof Error ? e.message : String(e) }, 'machine event not queued');
    });
  }

  #discover(peer: Fqdn): void {
    void (async () => {
      try {
        const d = await this.#lookup(peer);
        this.#o.metrics.inc('mpdns_discoveries_total', 'Peer discoveries by outcome', { outcome: 'ok' });
        await this.#submit(peer, { type: 'discovered', endpoint: `${d.endpoint.addresses[0] ?? ''}:${d.endpoint.port}`, keyId: d.keyId, at: Date.now() });
      } catch (e) {
        this.#o.metrics.inc('mpdns_discoveries_total', 'Peer discoveries by outcome', { outcome: 'failed' });
        const reason = e instanceof Error ? e.message : String(e);
        this.#o.logger.info({ peer, reason }, 'discovery failed');
        await this.#submit(peer, { type: 'discoveryFailed', reason, at: Date.now() });
      }
    })();
  }

  /** Queues one message for the gateway; its outcome comes back on the inbox (#onSent). */
  #send(peer: Fqdn, message: Message, ttlMs: number, ref: Record<string, string>, distributionId = newDistributionId()): string {
    if (this.#stopped) return distributionId;
    const item = { peer, message, distributionId, expiresAt: Date.now() + ttlMs, ref };
    this.#o.broker.publish(this.#subjects.work(GATEWAY_QUEUE, peer), encodeOutbound(item)).catch((e: unknown) => {
      const reason = `not queued for the gateway: ${e instanceof Error ? e.message : String(e)}`;
      void this.#onSent({ peer, type: message.type, distributionId: item.distributionId, ok: false, reason, attempts: 0, ref, at: Date.now() });
    });
    return distributionId;
  }

  #hello(peer: Fqdn, zone: Fqdn): void {
    // Our combiner's transfer endpoint, for a peer whose upstream we are (not a wildcard address).
    const xfr = this.#o.config.combiner;
    const endpoint = xfr !== undefined && xfr.address !== '0.0.0.0' && xfr.address !== '::' ? { addresses: [xfr.address], port: xfr.port } : {};
    this.#send(peer, { type: 'hello', sender: this.#o.config.identity, recipient: peer, zone, time: Date.now(), ...endpoint }, HELLO_TTL_MS, { zone });
  }

  #beat(peer: Fqdn, zones: readonly Fqdn[]): void {
    // Discovery results expire with their records' TTL: look the peer up again in the background.
    const d = this.#discovered.get(peer);
    if (d === undefined || d.expiresAt < Date.now()) this.#lookup(peer).catch(() => {});
    this.#send(peer, { type: 'beat', sender: this.#o.config.identity, recipient: peer, interval: this.#o.config.beatSeconds, zones, time: Date.now() }, this.#timing.beatMs, {});
    // Contributions the peer has not confirmed yet go again (idempotent).
    for (const zone of zones) this.#contributions.syncTo(zone, peer);
  }

  // ---- the gateway's inbox ----

  async #onInbox(data: Uint8Array): Promise<void> {
    const item = decodeInbox(data);
    if (item.kind === 'received') await this.#onMessage(item.accepted);
    else await this.#onSent(item.sent);
  }

  async #onSent(s: Sent): Promise<void> {
    if (s.type === 'hello') {
      const zone = s.ref['zone'] ?? '';
      await this.#submit(s.peer, { type: 'helloAnswer', zone, result: s.ok ? 'accepted' : 'retry', ...(s.ok ? {} : { reason: s.reason }), at: s.at });
      if (s.ok) this.#contributions.requestFrom(s.peer, zone as Fqdn);
    } else if (s.type === 'beat' && s.ok) {
      await this.#submit(s.peer, { type: 'beatConfirmed', at: s.at });
    } else if (s.type === 'sync' && !s.ok) {
      this.#contributions.syncNotDelivered((s.ref['zone'] ?? '') as Fqdn, s.peer);
    }
  }

  async #onMessage(a: Accepted): Promise<void> {
    this.#o.metrics.inc('mpdns_messages_received_total', 'Messages accepted from peers by type', { type: a.message.type });
    const at = Date.now();
    if (a.message.type === 'hello') {
      this.#chains.helloReceived(a.sender, a.message.addresses, a.message.port);
      await this.#submit(a.sender, { type: 'helloReceived', zone: a.message.zone, at });
    }
    else if (a.message.type === 'beat') {
      const was = peerStateName((await this.#host.view(a.sender, PEER_ID))?.value);
      await this.#submit(a.sender, { type: 'beatReceived', at });
      // Back from INTERRUPTED: ask for its contributions again.
      if (was === 'INTERRUPTED') for (const zone of this.#sharedZones.get(a.sender) ?? []) this.#contributions.requestFrom(a.sender, zone);
    } else if (a.message.type === 'rfi') this.#contributions.rfiReceived(a.sender, a.message.zone);
    else if (a.message.type === 'sync') await this.#contributions.syncReceived(a.sender, a.distributionId, a.message);
    else if (a.message.type === 'confirm') this.#contributions.confirmReceived(a.sender, a.message);
  }

  // ---- views ----

  /** Every peer machine, for `ctl peers`. */
  async peers(): Promise<PeerView[]> {
    const out: PeerView[] = [];
    for (const identity of [...this.#sharedZones.keys()].sort()) {
      const v: MachineView | undefined = await this.#host.view(identity, PEER_ID);
      if (v === undefined) continue;
      const c = v.context as PeerContext;
      out.push({
        label: this.#labels.get(identity) ?? '',
        identity,
        state: peerStateName(v.value),
        since: new Date(c.since).toISOString(),
        zones: c.zones,
        ...(c.lastError !== undefined ? { lastError: c.lastError } : {}),
      });
    }
    return out;
  }

  /** Every configured zone's analysis, for `ctl zones`. */
  zones(): { zone: string; membership: string; providers: { label: string; identity: string; state: string; roles: string[] }[]; problems: string[]; contribution: ReturnType<Contributions['view']> }[] {
    return this.#o.config.zones.map((z) => {
      const a = this.#analyses.get(z.name);
      return {
        zone: z.name,
        membership: a?.membership ?? 'unknown',
        providers: (a?.providers ?? []).map((p) => ({ label: p.label, identity: p.identity, state: p.state, roles: Object.entries(p.roles).filter(([, v]) => v).map(([k]) => k) })),
        problems: (a?.problems ?? []).map(problemText),
        contribution: this.#contributions.view(z.name),
      };
    });
  }
}

/** The RDATA of one apex RRset at the zone's primary (TCP, no recursion). */
async function fetchRdatas(z: ZoneConfig, type: number): Promise<Uint8Array[]> {
  const r = await query(z.primary, z.name, type, { tcp: true, timeoutMs: 3000 });
  if (r.message.rcode !== Rcode.NOERROR) throw new Error(`${z.name} type ${type} at ${z.primary.address}:${z.primary.port}: rcode ${r.message.rcode}`);
  return r.message.answer.filter((rr) => rr.type === type && rr.name === z.name).map((rr) => rr.rdata);
}

