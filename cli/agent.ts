// mpdns agent --config FILE: the agent role in its own process (actors/agent/role.ts).
import { startAgentRole } from '../actors/agent/role.ts';
import { createHostInspector, DEFAULT_INSPECT_URL } from '../actors/inspect.ts';
import { runCommand } from './args.ts';
import { runRole } from './role.ts';

const USAGE = `usage: mpdns agent --config FILE [--nats URL] [--inspect[=URL]]

The provider's agent: follows each configured zone's HSYNC at the owner's primary, discovers the
peers it lists through the validating resolver, and runs a peer machine per peer (HELLO, BEAT,
OPERATIONAL ...). Messages go out through the provider's gateway (mpdns gateway) over the broker.
Serves peers, zones and /metrics on the control endpoint (mpdns ctl --control URL).

  --config FILE     provider configuration (YAML): identity, keyFile, namespace, resolver,
                    gateway, control, controlTokenFile, notify, beatSeconds, zones
  --nats URL        the provider's NATS server (JetStream); default $MPDNS_NATS_URL. Credentials
                    from $MPDNS_NATS_USER (default "agent") and $MPDNS_NATS_PASSWORD
  --inspect[=URL]   stream the peer machines to a Stately inspector (default ${DEFAULT_INSPECT_URL})
  --help            this text
`;

export function run(argv: string[]): Promise<number> {
  const args = argv.map((a) => (a === '--inspect' ? `--inspect=${DEFAULT_INSPECT_URL}` : a));
  const spec = { name: 'agent', usage: USAGE, options: { config: { type: 'string' }, nats: { type: 'string' }, inspect: { type: 'string' } } } as const;
  return runCommand(spec, args, ({ values }) =>
    runRole({ role: 'agent', embeddedAllowed: false }, values, async (ctx) => {
      const inspect = values.inspect === undefined ? undefined : createHostInspector(values.inspect);
      const role = await startAgentRole({ ...ctx, ...(inspect !== undefined ? { inspect } : {}) });
      return {
        ready: `agent ${ctx.config.identity} running; control http://${role.control.address}:${role.control.port}`,
        stop: async () => {
          await role.stop();
          await inspect?.stop();
        },
      };
    }),
  );
}
