// One provider's roles in one process on one broker: its combiner (when configured), its gateway
// and its agent (with the agent's NOTIFY listener and control endpoint). The lab runs one of these per provider unless
// `--processes` asks for each role as its own process; `mpdns provider` runs one.
import type { Peer } from '../../dns/net/transport.ts';
import type { Agent } from '../agent/agent.ts';
import { startAgentRole, type AgentRoleOptions } from '../agent/role.ts';
import { Combiner } from '../combiner/combiner.ts';
import { startGateway } from '../gateway/gateway.ts';
import type { ProviderRunner } from './processes.ts';

export interface ProviderRoles {
  readonly agent: Agent;
  readonly control: Peer;
  /** Stops every role (the broker stays open). */
  stop(): Promise<void>;
}

/** The same as the agent role's: the gateway takes what it needs from them. */
export type ProviderRolesOptions = AgentRoleOptions;

export async function startProviderRoles(o: ProviderRolesOptions): Promise<ProviderRoles> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => {});
  };
  try {
    // The combiner (when configured) and the gateway first: the agent's first UPDATEs and HELLOs
    // go to them at once.
    if (o.config.combiner !== undefined) {
      const combiner = await Combiner.start({ config: o.config, broker: o.broker, metrics: o.metrics, logger: o.logger.child({ role: 'combiner' }) });
      stops.push(() => combiner.stop());
    }
    const gateway = await startGateway({ config: o.config, own: o.own, broker: o.broker, metrics: o.metrics, logger: o.logger.child({ role: 'gateway' }) });
    stops.push(() => gateway.stop());
    const agent = await startAgentRole({ ...o, logger: o.logger.child({ role: 'agent' }) });
    stops.push(() => agent.stop());
    return { agent: agent.agent, control: agent.control, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** A lab provider whose roles run in the lab's own process (stop and start keep its broker). */
export function inProcessRunner(o: ProviderRolesOptions): ProviderRunner {
  let running: ProviderRoles | undefined;
  return {
    start: async () => {
      running ??= await startProviderRoles(o);
    },
    stop: async () => {
      const r = running;
      running = undefined;
      await r?.stop();
    },
    peers: async () => running?.agent.peers(),
    pids: () => ({ agent: process.pid, gateway: process.pid }),
  };
}
