// The gateway role: the provider's end of the inter-provider transport. Inbound, a TCP DNS
// listener for NOTIFY(CHUNK) whose accepted messages go to the agent's inbox queue; outbound,
// a consumer of its own `gateway` queue that sends each item until a confirm verifies, retrying
// with exponential backoff (a nak with delay: the item stays in the durable queue across
// restarts) until the item expires, and reports the outcome to the agent's inbox. What it
// knows of peers comes from the agent's directory (directory.ts). `mpdns gateway` runs it
// alone; the lab and `mpdns provider` run it next to the agent on one broker.
import { Subjects } from '../../broker/subjects.ts';
import type { Broker, Stoppable } from '../../broker/types.ts';
import { DnsServer } from '../../dns/net/server.ts';
import type { Peer } from '../../dns/net/transport.ts';
import type { OwnKeys } from '../../protocol/envelope.ts';
import type { ProviderConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { DIRECTORY_BUCKET, DirectoryView } from './directory.ts';
import { AGENT_INBOX, decodeOutbound, encodeInbox, GATEWAY_QUEUE, retryDelayMs, type Outbound, type Sent } from './queues.ts';
import { CHUNK_QTYPE, deliveryId, Receiver, replayMaxAgeMs } from './receive.ts';
import { ChunkStore, chunkQueryHandler } from './chunks.ts';
import { Connections, sendMessage } from './send.ts';

export interface GatewayOptions {
  readonly config: ProviderConfig;
  readonly own: OwnKeys;
  readonly broker: Broker;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

export interface Gateway {
  /** Where it listens for NOTIFY(CHUNK). */
  readonly address: Peer;
  readonly directory: DirectoryView;
  stop(): Promise<void>;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export async function startGateway(o: GatewayOptions): Promise<Gateway> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => {});
  };
  try {
    const subjects = new Subjects(o.broker.namespace);
    const self = o.config.identity;
    const directory = await DirectoryView.open(() => o.broker.kv(DIRECTORY_BUCKET, { create: false }), o.logger);
    stops.push(() => directory.stop());
    const toAgent = (item: Parameters<typeof encodeInbox>[0], key: string, msgId: string): Promise<boolean> =>
      o.broker.publish(subjects.work(AGENT_INBOX, key), encodeInbox(item), { msgId }).then((ack) => !ack.duplicate);

    const receiver = new Receiver({
      self,
      own: o.own,
      peers: directory,
      replay: await o.broker.kv('gateway', { maxAgeMs: replayMaxAgeMs() }),
      deliver: (accepted) => toAgent({ kind: 'received', accepted }, accepted.sender, deliveryId(accepted)),
    });
    // Query mode: envelopes too large for one NOTIFY are served from here as CHUNK RRs.
    const chunks = new ChunkStore();
    const listener = new DnsServer({
      address: o.config.gateway.address,
      port: o.config.gateway.port,
      queryHandlers: new Map([[CHUNK_QTYPE, chunkQueryHandler(chunks)]]),
      notifyHandlers: new Map([
        [
          CHUNK_QTYPE,
          async (m, ctx) => {
            const r = await receiver.handle(m, ctx);
            const labels = r.outcome.kind === 'refused' ? { outcome: 'refused', reason: r.outcome.reason } : { outcome: r.outcome.kind };
            o.metrics.inc('mpdns_gateway_messages_total', 'Messages at the gateway by outcome and refusal reason', labels);
            if (r.outcome.kind === 'refused') o.logger.info({ reason: r.outcome.reason, remote: ctx.remote.address }, r.outcome.detail);
            return r.reply;
          },
        ],
      ]),
    });
    const bound = await listener.start();
    stops.push(() => listener.stop());
    // Where peers fetch our chunks: the listener's own address (not a wildcard: peers fetch only
    // from the endpoint they discovered for us, which names a real address).
    const wildcard = o.config.gateway.address === '0.0.0.0' || o.config.gateway.address === '::';
    const queryEndpoint = wildcard ? undefined : o.config.gateway.address.includes(':') ? `[${o.config.gateway.address}]:${bound.port}` : `${o.config.gateway.address}:${bound.port}`;

    const connections = new Connections();
    stops.push(() => Promise.resolve(connections.close()));
    const report = async (item: Outbound, ok: boolean, reason: string, attempts: number): Promise<void> => {
      o.metrics.inc('mpdns_messages_sent_total', 'Messages sent to peers by type and outcome', { type: item.message.type, outcome: ok ? 'confirmed' : 'expired' });
      const sent: Sent = { peer: item.peer, type: item.message.type, distributionId: item.distributionId, ok, reason, attempts, ref: item.ref, at: Date.now() };
      await toAgent({ kind: 'sent', sent }, item.peer, `sent/${item.peer}/${item.distributionId}`);
    };
    const outbound: Stoppable = await o.broker.consume(
      GATEWAY_QUEUE,
      async (m) => {
        const item = decodeOutbound(m.data);
        let reason: string;
        const peer = directory.addressOf(item.peer);
        if (Date.now() > item.expiresAt) reason = 'expired before it could be sent';
        else if (peer === undefined) reason = `${item.peer} is not discovered (not in the directory)`;
        else {
          try {
            await sendMessage(peer, item.message, { self, own: o.own, distributionId: item.distributionId, connections, timeoutMs: 3000, chunks, ...(queryEndpoint !== undefined ? { queryEndpoint } : {}) });
            await report(item, true, '', m.deliveryCount);
            return;
          } catch (e) {
            reason = message(e);
          }
        }
        const delay = retryDelayMs(m.deliveryCount);
        if (Date.now() + delay > item.expiresAt) {
          o.logger.info({ peer: item.peer, type: item.message.type, attempts: m.deliveryCount, reason }, 'message not delivered before it expired');
          await report(item, false, reason, m.deliveryCount);
          return;
        }
        o.metrics.inc('mpdns_send_retries_total', 'Outbound attempts that failed and will be retried', { type: item.message.type });
        m.nak(delay);
      },
      { concurrency: 16, maxDeliver: 100_000 },
    );
    stops.push(() => outbound.stop());
    return { address: { address: o.config.gateway.address, port: bound.port }, directory, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
