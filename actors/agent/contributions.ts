// The agent's side of contributions and two-step confirmed delivery (NS only for now):
//   - its own contribution per zone (the provider's nameservers as the apex NS RRset, when
//     nsmgmt=agent and it is in `servers`) goes to its own combiner as an UPDATE and to every
//     peer sharing the zone as a SYNC, until each confirmed the current version;
//   - a SYNC from a peer becomes an UPDATE to the local combiner, and the combiner's per-record
//     result goes back to the peer as the final CONFIRM under the SYNC's distribution id;
//   - a final CONFIRM from a peer marks what that peer's combiner did with our records;
//   - an RFI (request for information) makes us send our contribution again; we send one to a
//     peer once our HELLO to it is accepted (start-up, joining) and when it recovers from
//     INTERRUPTED, so our combiner has everything even if it lost something meanwhile.
// Every step is idempotent (a SYNC carries a `replace`), so retries after losses or restarts
// are safe: unconfirmed deliveries are simply sent again at the peer's next BEAT.
import { createHash } from 'node:crypto';
import { decode, encode } from '../../broker/codec.ts';
import type { Broker } from '../../broker/types.ts';
import type { Fqdn } from '../../dns/name.ts';
import { confirmLists } from '../../protocol/contributions.ts';
import type { HsyncAnalysis } from '../../protocol/hsync-analysis.ts';
import type { Confirm, ConfirmStatus, Message, Rfi, ZoneData } from '../../protocol/messages.ts';
import { COMBINER_UPDATE, type UpdateReply } from '../combiner/combiner.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';

/** A SYNC without its final CONFIRM for this long is sent again at the next BEAT. */
const SYNC_PATIENCE_MS = 30_000;
/** How long an UPDATE may take at the combiner (it answers once the serial is served). */
const UPDATE_TIMEOUT_MS = 20_000;

/** What a peer's combiner did with our current contribution, for `ctl zone`. */
export interface Delivery {
  readonly peer: Fqdn;
  /** pending, or the final CONFIRM's status (SUCCESS, PARTIAL, REJECTED, PENDING, FAILED). */
  readonly status: string;
  readonly message: string;
  readonly rejected: readonly { record: string; reason: string }[];
  readonly at: number;
}

export interface ContributionsOptions {
  readonly self: Fqdn;
  readonly nameservers: readonly Fqdn[];
  readonly broker: Broker;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Queues a message for the gateway; returns its distribution id. */
  readonly send: (peer: Fqdn, message: Message, ttlMs: number, ref: Record<string, string>, distributionId?: string) => string;
}

interface Own {
  readonly digest: string;
  readonly update: Omit<ZoneData, 'type' | 'recipient' | 'time'>;
}

const key = (zone: Fqdn, peer: Fqdn): string => `${zone} ${peer}`;

/** The final CONFIRM's status for a combiner's answer. */
function statusOf(reply: UpdateReply): ConfirmStatus {
  if (reply.error !== undefined) return 'FAILED';
  const lists = confirmLists(reply.results);
  const accepted = lists.applied.length + lists.removed.length + lists.ignored.length;
  if (lists.rejected.length > 0) return accepted > 0 ? 'PARTIAL' : 'REJECTED';
  if (lists.pending.length > 0 || !reply.served) return 'PENDING';
  return lists.ignored.length > 0 && lists.applied.length + lists.removed.length === 0 ? 'IGNORED' : 'SUCCESS';
}

export class Contributions {
  readonly #o: ContributionsOptions;
  readonly #own = new Map<Fqdn, Own>();
  /** Digest our own combiner confirmed, per zone. */
  readonly #local = new Map<Fqdn, string>();
  readonly #localBusy = new Set<Fqdn>();
  /** Per (zone, peer): the digest confirmed and how. */
  readonly #delivered = new Map<string, Delivery & { digest: string }>();
  /** SYNCs waiting for their final CONFIRM, by distribution id. */
  readonly #pending = new Map<string, { zone: Fqdn; peer: Fqdn; digest: string; since: number }>();
  readonly #inflight = new Map<string, number>();

  constructor(o: ContributionsOptions) {
    this.#o = o;
  }

  /** A zone's analysis changed (or was read again): recompute our contribution and push it. */
  zoneAnalysed(a: HsyncAnalysis): void {
    // What a peer confirmed no longer holds once it, or we, left the zone: its combiner purged
    // it (or ours purged us), so a return starts from nothing and everything is sent again.
    const on = new Set(a.membership === 'on' ? a.peers.filter((p) => p.state === 'ON').map((p) => p.identity) : []);
    for (const [k, d] of this.#delivered) if (k.startsWith(`${a.zone} `) && !on.has(d.peer)) this.#delivered.delete(k);
    if (a.membership !== 'on') this.#local.delete(a.zone);
    const me = a.providers.find((p) => p.identity === this.#o.self);
    const contributes = a.membership === 'on' && a.params.nsmgmt === 'agent' && me?.roles.server === true && this.#o.nameservers.length > 0;
    if (!contributes) {
      this.#own.delete(a.zone);
      return;
    }
    const operations = [{ operation: 'replace' as const, rrtype: 'NS', records: this.#o.nameservers.map((n) => `${a.zone} 3600 IN NS ${n}`) }];
    const digest = createHash('sha256').update(JSON.stringify(operations)).digest('hex').slice(0, 16);
    if (this.#own.get(a.zone)?.digest !== digest) this.#own.set(a.zone, { digest, update: { originator: this.#o.self, zone: a.zone, operations, records: {}, nonce: digest } });
    this.#pushLocal(a.zone);
    for (const p of a.peers) if (p.state === 'ON') this.syncTo(a.zone, p.identity);
  }

  /** Sends our contribution to `peer` unless it confirmed the current one or a SYNC is on its way. */
  syncTo(zone: Fqdn, peer: Fqdn): void {
    this.#pushLocal(zone);
    const own = this.#own.get(zone);
    if (own === undefined) return;
    const k = key(zone, peer);
    if (this.#delivered.get(k)?.digest === own.digest) return;
    const since = this.#inflight.get(k);
    if (since !== undefined && Date.now() - since < SYNC_PATIENCE_MS) return;
    this.#inflight.set(k, Date.now());
    const message: ZoneData = { ...own.update, type: 'sync', recipient: peer, time: Date.now() };
    const distId = this.#o.send(peer, message, SYNC_PATIENCE_MS, { zone });
    this.#pending.set(distId, { zone, peer, digest: own.digest, since: Date.now() });
  }

  /** A peer's RFI: it wants our contribution again (it restarted, joined or lost it). */
  rfiReceived(peer: Fqdn, zone: Fqdn): void {
    const k = key(zone, peer);
    this.#delivered.delete(k);
    this.#inflight.delete(k);
    this.syncTo(zone, peer);
  }

  /** Asks `peer` to send its contribution to `zone` again (RFI SYNC). */
  requestFrom(peer: Fqdn, zone: Fqdn): void {
    const rfi: Rfi = { type: 'rfi', originator: this.#o.self, recipient: peer, zone, rfiType: 'SYNC', rfiSubtype: '', nonce: '', time: Date.now() };
    this.#o.send(peer, rfi, SYNC_PATIENCE_MS, { zone });
  }

  /** The gateway gave up on a SYNC: try again at the next BEAT. */
  syncNotDelivered(zone: Fqdn, peer: Fqdn): void {
    this.#inflight.delete(key(zone, peer));
  }

  #pushLocal(zone: Fqdn): void {
    const own = this.#own.get(zone);
    if (own === undefined || this.#local.get(zone) === own.digest || this.#localBusy.has(zone)) return;
    this.#localBusy.add(zone);
    void this.#update({ ...own.update, type: 'update', recipient: this.#o.self, time: Date.now() })
      .then((r) => {
        if (r.error === undefined && statusOf(r) === 'SUCCESS') this.#local.set(zone, own.digest);
        else this.#o.logger.info({ zone, status: statusOf(r), error: r.error }, 'own contribution not (yet) served by our combiner');
      })
      .catch((e: unknown) => this.#o.logger.info({ zone, err: e instanceof Error ? e.message : String(e) }, 'own contribution not sent to our combiner'))
      .finally(() => this.#localBusy.delete(zone));
  }

  async #update(update: ZoneData): Promise<UpdateReply> {
    const reply = decode(await this.#o.broker.request(COMBINER_UPDATE, encode({ zone: update.zone, update }), UPDATE_TIMEOUT_MS)) as UpdateReply;
    return reply;
  }

  /**
   * A peer's SYNC: its records to our combiner, and the result back as the final CONFIRM.
   * Throws when the combiner cannot be asked, so the inbox item is delivered again later.
   */
  async syncReceived(sender: Fqdn, distributionId: string, sync: ZoneData): Promise<void> {
    const reply = await this.#update({ ...sync, type: 'update', originator: sender, recipient: this.#o.self });
    const lists = confirmLists(reply.results);
    const status = statusOf(reply);
    this.#o.metrics.inc('mpdns_syncs_received_total', 'SYNCs from peers by final status', { status });
    const confirm: Confirm = {
      type: 'confirm',
      sender: this.#o.self,
      zone: sync.zone,
      distributionId,
      nonce: sync.nonce,
      status,
      message: reply.error ?? (reply.serial === undefined ? 'not served' : `${reply.served ? 'served' : 'not yet served'} at serial ${reply.serial}`),
      applied: lists.applied,
      removed: lists.removed,
      ignored: lists.ignored,
      rejected: lists.rejected,
      truncated: false,
      appliedCount: lists.applied.length,
      removedCount: lists.removed.length,
      ignoredCount: lists.ignored.length,
      rejectedCount: lists.rejected.length,
      time: Date.now(),
    };
    this.#o.send(sender, confirm, SYNC_PATIENCE_MS, { zone: sync.zone }, distributionId);
  }

  /** A final CONFIRM from a peer for one of our SYNCs. */
  confirmReceived(sender: Fqdn, confirm: Confirm): void {
    const p = this.#pending.get(confirm.distributionId);
    if (p === undefined || p.peer !== sender) return;
    this.#pending.delete(confirm.distributionId);
    const k = key(p.zone, p.peer);
    this.#inflight.delete(k);
    this.#o.metrics.inc('mpdns_syncs_confirmed_total', 'Final CONFIRMs of our SYNCs by status', { status: confirm.status });
    // A PENDING or FAILED answer is not final for this version: the next BEAT sends it again.
    if (confirm.status === 'PENDING' || confirm.status === 'FAILED') return;
    this.#delivered.set(k, { peer: p.peer, digest: p.digest, status: confirm.status, message: confirm.message, rejected: confirm.rejected, at: Date.now() });
    for (const [id, q] of this.#pending) if (Date.now() - q.since > SYNC_PATIENCE_MS) this.#pending.delete(id);
  }

  /** Our contribution to `zone` and where it stands with each peer. */
  view(zone: Fqdn): { contribution: readonly string[]; local: string; deliveries: Delivery[] } {
    const own = this.#own.get(zone);
    const deliveries: Delivery[] = [];
    for (const [k, d] of this.#delivered) if (k.startsWith(`${zone} `)) deliveries.push({ peer: d.peer, status: d.digest === own?.digest ? d.status : 'stale', message: d.message, rejected: d.rejected, at: d.at });
    for (const q of this.#pending.values()) if (q.zone === zone && !deliveries.some((d) => d.peer === q.peer)) deliveries.push({ peer: q.peer, status: 'pending', message: '', rejected: [], at: q.since });
    return {
      contribution: own?.update.operations.flatMap((o) => o.records) ?? [],
      local: own === undefined ? 'none' : this.#local.get(zone) === own.digest ? 'served' : 'pending',
      deliveries: deliveries.sort((a, b) => (a.peer < b.peer ? -1 : 1)),
    };
  }
}
