// mpdns combiner --config FILE: the combiner role in its own process (actors/combiner/combiner.ts).
import { Combiner } from '../actors/combiner/combiner.ts';
import { runCommand } from './args.ts';
import { runRole } from './role.ts';

const USAGE = `usage: mpdns combiner --config FILE [--nats URL]

The provider's combiner: transfers each configured zone from its primary (NOTIFY, IXFR/AXFR,
SOA refresh), takes the providers' contributions through the agent (UPDATE, checked against the
policy gates, kept in JetStream), and serves the combined zone to the provider's nameserver on
its DNS listener (IXFR, NOTIFY on every new serial). An UPDATE is answered once the nameserver
serves a serial that contains it.

  --config FILE   provider configuration (YAML), the same file as the agent's; the combiner uses
                  identity, namespace, combiner (its listener), nameserver and zones
  --nats URL      the provider's NATS server (JetStream); default $MPDNS_NATS_URL. Credentials
                  from $MPDNS_NATS_USER (default "combiner") and $MPDNS_NATS_PASSWORD
  --help          this text
`;

export function run(argv: string[]): Promise<number> {
  const spec = { name: 'combiner', usage: USAGE, options: { config: { type: 'string' }, nats: { type: 'string' } } } as const;
  return runCommand(spec, argv, ({ values }) =>
    runRole({ role: 'combiner', embeddedAllowed: false }, values, async (ctx) => {
      const combiner = await Combiner.start(ctx);
      return { ready: `combiner ${ctx.config.identity} serving on ${combiner.address.address}:${combiner.address.port}`, stop: () => combiner.stop() };
    }),
  );
}
