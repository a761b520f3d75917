// mpdns provider --config FILE: agent and gateway of one provider in one process
// (actors/lab/provider.ts), on the embedded broker unless a NATS server is given.
import { createHostInspector, DEFAULT_INSPECT_URL } from '../actors/inspect.ts';
import { startProviderRoles } from '../actors/lab/provider.ts';
import { runCommand } from './args.ts';
import { runRole } from './role.ts';

const USAGE = `usage: mpdns provider --config FILE [--nats URL] [--inspect[=URL]]

Both roles of a provider in one process: the agent (mpdns agent) and the gateway (mpdns gateway),
with the same configuration file. Without a NATS server they share an in-process broker, whose
state (peer machines, queued messages) is lost when the process ends.

  --config FILE     provider configuration (YAML), as for mpdns agent
  --nats URL        keep the broker on this NATS server (JetStream); default $MPDNS_NATS_URL,
                    else in-process. Credentials from $MPDNS_NATS_USER and $MPDNS_NATS_PASSWORD
  --inspect[=URL]   stream the peer machines to a Stately inspector (default ${DEFAULT_INSPECT_URL})
  --help            this text
`;

export function run(argv: string[]): Promise<number> {
  const args = argv.map((a) => (a === '--inspect' ? `--inspect=${DEFAULT_INSPECT_URL}` : a));
  const spec = { name: 'provider', usage: USAGE, options: { config: { type: 'string' }, nats: { type: 'string' }, inspect: { type: 'string' } } } as const;
  return runCommand(spec, args, ({ values }) =>
    runRole({ role: 'provider', embeddedAllowed: true }, values, async (ctx) => {
      const inspect = values.inspect === undefined ? undefined : createHostInspector(values.inspect);
      const roles = await startProviderRoles({ ...ctx, ...(inspect !== undefined ? { inspect } : {}) });
      return {
        ready: `provider ${ctx.config.identity} running: gateway ${ctx.config.gateway.address}:${ctx.config.gateway.port}, control http://${roles.control.address}:${roles.control.port}`,
        stop: async () => {
          await roles.stop();
          await inspect?.stop();
        },
      };
    }),
  );
}
