// One provider's roles in one process: its gateway (NOTIFY(CHUNK) from peers), its agent, the
// agent's NOTIFY listener for the owner's primary, and the control endpoint. The lab runs one
// of these per provider; the separate `mpdns agent` and `mpdns gateway` processes will split it.
import { encode } from '../../broker/codec.ts';
import { Subjects } from '../../broker/subjects.ts';
import type { Broker } from '../../broker/types.ts';
import { DnsServer } from '../../dns/net/server.ts';
import type { Peer } from '../../dns/net/transport.ts';
import type { OwnKeys } from '../../protocol/envelope.ts';
import { Agent, AGENT_INBOX } from '../agent/agent.ts';
import { startControl, type ControlServer } from '../agent/control.ts';
import type { ProviderConfig } from '../config.ts';
import { CHUNK_QTYPE, deliveryId, Receiver, replayMaxAgeMs } from '../gateway/receive.ts';
import type { HostInspector } from '../inspect.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';

export interface ProviderRoles {
  readonly agent: Agent;
  readonly control: Peer;
  /** Stops every role (the broker stays open). */
  stop(): Promise<void>;
}

export interface ProviderRolesOptions {
  readonly config: ProviderConfig;
  readonly own: OwnKeys;
  readonly broker: Broker;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** The agent's DNS listener for the owner's NOTIFY. */
  readonly notify: Peer;
  readonly recheckMs?: number;
  readonly inspect?: HostInspector;
}

export async function startProviderRoles(o: ProviderRolesOptions): Promise<ProviderRoles> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => {});
  };
  try {
    const agent = await Agent.start({
      config: o.config,
      own: o.own,
      broker: o.broker,
      logger: o.logger,
      metrics: o.metrics,
      ...(o.recheckMs !== undefined ? { recheckMs: o.recheckMs } : {}),
      ...(o.inspect !== undefined ? { inspect: o.inspect } : {}),
    });
    stops.push(() => agent.stop());
    const subjects = new Subjects(o.config.namespace);
    const receiver = new Receiver({
      self: o.config.identity,
      own: o.own,
      peers: agent,
      replay: await o.broker.kv('gateway', { maxAgeMs: replayMaxAgeMs() }),
      deliver: async (a) => !(await o.broker.publish(subjects.work(AGENT_INBOX, a.sender), encode(a), { msgId: deliveryId(a) })).duplicate,
    });
    const gateway = new DnsServer({
      address: o.config.gateway.address,
      port: o.config.gateway.port,
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
    await gateway.start();
    stops.push(() => gateway.stop());
    const notify = new DnsServer({ address: o.notify.address, port: o.notify.port, allowNotify: ['127.0.0.0/8'], onNotify: (zone) => void agent.refresh(zone) });
    await notify.start();
    stops.push(() => notify.stop());
    const control: ControlServer = await startControl(o.config.control, agent, o.metrics);
    stops.push(() => control.stop());
    return { agent, control: control.address, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
