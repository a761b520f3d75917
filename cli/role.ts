// What `mpdns agent`, `mpdns gateway` and `mpdns provider` share: `--config FILE` (the provider
// configuration, validated at start with every problem reported at once), the private key it
// names, the broker (`--nats URL` / $MPDNS_NATS_URL; credentials from $MPDNS_NATS_USER and
// $MPDNS_NATS_PASSWORD, the user defaulting to the role's name), and a clean stop on SIGINT or
// SIGTERM. A role connects with the reply-inbox prefix `_INBOX_<role>` that deploy/nats grants
// it, and keeps reconnecting through a NATS outage instead of exiting.
import { readFile } from 'node:fs/promises';
import { createEmbeddedBroker } from '../broker/embedded.ts';
import { createJetStreamBroker } from '../broker/jetstream.ts';
import type { Broker } from '../broker/types.ts';
import { ConfigError, loadProviderConfig, type ProviderConfig } from '../actors/config.ts';
import { rootLogger, type Logger } from '../actors/logger.ts';
import { Metrics } from '../actors/metrics.ts';
import { ownKeys, type OwnKeys } from '../protocol/envelope.ts';
import { EnvelopeError } from '../protocol/errors.ts';
import { natsUrlFrom } from './ctl.ts';
import { complain, complainProblems, UsageError } from './errors.ts';

export interface RoleContext {
  readonly config: ProviderConfig;
  readonly own: OwnKeys;
  readonly broker: Broker;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

export interface RoleSpec {
  /** `agent`, `gateway`, or `provider` (both in one process). */
  readonly role: string;
  /** Whether the role may run on the embedded broker (only when every role is in this process). */
  readonly embeddedAllowed: boolean;
}

async function loadKey(file: string): Promise<OwnKeys> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, [`keyFile: cannot read: ${e instanceof Error ? e.message : String(e)}`]);
  }
  try {
    return await ownKeys(JSON.parse(text) as unknown, `private JWK in ${file}`);
  } catch (e) {
    if (e instanceof SyntaxError || e instanceof EnvelopeError) throw new ConfigError(file, [`keyFile: ${e.message}`]);
    throw e;
  }
}

/**
 * Reads the configuration and key, opens the broker, runs `start`, and waits for SIGINT or
 * SIGTERM; then stops what `start` returned and closes the broker. Exit 2 for a bad
 * configuration, 1 when the role cannot start.
 */
export async function runRole(
  spec: RoleSpec,
  flags: { config?: string; nats?: string },
  start: (ctx: RoleContext) => Promise<{ stop(): Promise<void>; ready: string }>,
): Promise<number> {
  if (flags.config === undefined) throw new UsageError('--config FILE is required');
  const url = natsUrlFrom(flags.nats);
  if (url === undefined && !spec.embeddedAllowed) {
    throw new UsageError(`needs the provider's NATS server: --nats URL or $MPDNS_NATS_URL (mpdns provider runs agent and gateway in one process without one)`);
  }
  let config: ProviderConfig;
  let own: OwnKeys;
  try {
    config = await loadProviderConfig(flags.config);
    own = await loadKey(config.keyFile);
  } catch (e) {
    if (e instanceof ConfigError) {
      complainProblems(spec.role, e.file, e.problems);
      return 2;
    }
    throw e;
  }
  const logger = rootLogger().child({ component: spec.role, provider: config.identity });
  const user = process.env['MPDNS_NATS_USER'] ?? '';
  const pass = process.env['MPDNS_NATS_PASSWORD'] ?? '';
  let broker: Broker;
  if (url === undefined) broker = createEmbeddedBroker({ namespace: config.namespace });
  else {
    broker = await createJetStreamBroker({
      servers: url,
      namespace: config.namespace,
      logger,
      name: `mpdns-${spec.role}-${config.namespace}`,
      ...(pass !== '' ? { user: user !== '' ? user : spec.role, pass } : {}),
      ...(spec.role === 'provider' ? {} : { inboxPrefix: `_INBOX_${spec.role}` }),
    });
  }
  let running: { stop(): Promise<void>; ready: string };
  try {
    running = await start({ config, own, broker, metrics: new Metrics(), logger });
  } catch (e) {
    await broker.close().catch(() => {});
    complain(spec.role, e instanceof Error ? e.message : String(e));
    return 1;
  }
  logger.info({ broker: url ?? 'embedded' }, running.ready);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  logger.info({}, 'stopping');
  await running.stop();
  await broker.close();
  return 0;
}
