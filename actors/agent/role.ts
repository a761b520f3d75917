// The agent role: the agent, its listener for the owner primaries' NOTIFY, and its control
// endpoint (peers, zones, /metrics; a bearer token from `controlTokenFile` when configured).
// `mpdns agent` runs it alone; the lab and `mpdns provider` run it next to the gateway.
import { readFile } from 'node:fs/promises';
import type { Broker } from '../../broker/types.ts';
import { DnsServer } from '../../dns/net/server.ts';
import type { Peer } from '../../dns/net/transport.ts';
import type { OwnKeys } from '../../protocol/envelope.ts';
import type { ProviderConfig } from '../config.ts';
import type { HostInspector } from '../inspect.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { Agent } from './agent.ts';
import { startControl } from './control.ts';

export interface AgentRoleOptions {
  readonly config: ProviderConfig;
  readonly own: OwnKeys;
  readonly broker: Broker;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly inspect?: HostInspector;
}

export interface AgentRole {
  readonly agent: Agent;
  readonly control: Peer;
  stop(): Promise<void>;
}

/** The control token: the first line of the file, which must not be empty. */
export async function readControlToken(file: string): Promise<string> {
  const token = (await readFile(file, 'utf8')).split('\n')[0]?.trim() ?? '';
  if (token === '') throw new Error(`${file}: the control token file is empty`);
  return token;
}

export async function startAgentRole(o: AgentRoleOptions): Promise<AgentRole> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => {});
  };
  try {
    const token = o.config.controlTokenFile === undefined ? undefined : await readControlToken(o.config.controlTokenFile);
    const agent = await Agent.start({
      config: o.config,
      own: o.own,
      broker: o.broker,
      logger: o.logger,
      metrics: o.metrics,
      ...(o.inspect !== undefined ? { inspect: o.inspect } : {}),
    });
    stops.push(() => agent.stop());
    if (o.config.notify !== undefined) {
      const primaries = [...new Set(o.config.zones.map((z) => z.primary.address))];
      const notify = new DnsServer({ address: o.config.notify.address, port: o.config.notify.port, allowNotify: primaries, onNotify: (zone) => void agent.refresh(zone) });
      await notify.start();
      stops.push(() => notify.stop());
    }
    const control = await startControl(o.config.control, agent, o.metrics, token);
    stops.push(() => control.stop());
    return { agent, control: control.address, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
