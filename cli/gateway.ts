// mpdns gateway --config FILE: the gateway role in its own process (actors/gateway/gateway.ts).
import { startControl } from '../actors/agent/control.ts';
import { startGateway } from '../actors/gateway/gateway.ts';
import { runCommand } from './args.ts';
import { runRole } from './role.ts';

const USAGE = `usage: mpdns gateway --config FILE [--nats URL]

The provider's gateway: listens for peers' NOTIFY(CHUNK) messages on the configured address
(TCP), checks, decrypts and hands them to the agent, and sends the agent's messages to peers
(signed and encrypted), retrying from its durable queue until a confirm verifies or they expire.

  --config FILE   provider configuration (YAML), the same file as the agent's; the gateway uses
                  identity, keyFile, namespace, gateway and gatewayMetrics (/metrics, loopback)
  --nats URL      the provider's NATS server (JetStream); default $MPDNS_NATS_URL. Credentials
                  from $MPDNS_NATS_USER (default "gateway") and $MPDNS_NATS_PASSWORD
  --help          this text
`;

export function run(argv: string[]): Promise<number> {
  const spec = { name: 'gateway', usage: USAGE, options: { config: { type: 'string' }, nats: { type: 'string' } } } as const;
  return runCommand(spec, argv, ({ values }) =>
    runRole({ role: 'gateway', embeddedAllowed: false }, values, async (ctx) => {
      const gateway = await startGateway(ctx);
      const metrics = ctx.config.gatewayMetrics === undefined ? undefined : await startControl(ctx.config.gatewayMetrics, undefined, ctx.metrics).catch(async (e: unknown) => {
        await gateway.stop();
        throw e;
      });
      return {
        ready: `gateway ${ctx.config.identity} listening on ${gateway.address.address}:${gateway.address.port}`,
        stop: async () => {
          await metrics?.stop();
          await gateway.stop();
        },
      };
    }),
  );
}
