// `mpdns ctl identity-records`: the discovery records a provider publishes in its identity zone
// (URI, SVCB, A/AAAA, JWK), printed as zone-file lines for the operator to add and sign.
import { readFile } from 'node:fs/promises';
import { parseUserName } from '../dns/name.ts';
import { parseHostPort } from '../dns/net/transport.ts';
import { identityRecords } from '../protocol/discovery.ts';
import { peerKeys } from '../protocol/envelope.ts';
import { EnvelopeError } from '../protocol/errors.ts';
import { flagValue, runCommand } from './args.ts';
import { complain, UsageError } from './errors.ts';

export const IDENTITY_USAGE = `usage: mpdns ctl identity-records --identity NAME --endpoint ADDR:PORT [--endpoint ADDR:PORT] --key FILE [--ttl SECONDS]

  --identity NAME      the agent identity (the name in HSYNC records), e.g. agent.alpha.example.
  --endpoint ADDR:PORT where the gateway listens (TCP); repeat for an IPv6 and an IPv4 address
                       with the same port
  --key FILE           the agent's JWK (private or public; only the public part is printed)
  --ttl SECONDS        TTL of the records (default 3600)
`;

export function identityCommand(argv: string[]): Promise<number> {
  const spec = {
    name: 'ctl',
    usage: IDENTITY_USAGE,
    options: { identity: { type: 'string' }, endpoint: { type: 'string', multiple: true }, key: { type: 'string' }, ttl: { type: 'string' } },
  } as const;
  return runCommand(spec, argv, async ({ values }) => {
    if (values.identity === undefined) throw new UsageError('--identity is required');
    if (values.endpoint === undefined) throw new UsageError('--endpoint is required');
    if (values.key === undefined) throw new UsageError('--key is required');
    const identity = flagValue('--identity', values.identity, parseUserName);
    const peers = values.endpoint.map((e) => flagValue('--endpoint', e, (t) => parseHostPort(t)));
    const port = peers[0]?.port ?? 0;
    if (peers.some((p) => p.port !== port)) throw new UsageError('--endpoint: every address must have the same port');
    const ttl = values.ttl === undefined ? 3600 : flagValue('--ttl', values.ttl, (t) => {
      if (!/^[0-9]{1,10}$/.test(t) || Number(t) > 2147483647) throw new UsageError(`--ttl: "${t}" is not a TTL in seconds`);
      return Number(t);
    });
    let jwk: Record<string, unknown>;
    try {
      jwk = JSON.parse(await readFile(values.key, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      complain('ctl', `--key ${values.key}: ${e instanceof Error ? e.message : String(e)}`);
      return 1;
    }
    // Publish only the public half: drop the private scalar of a key or of every key in a set.
    const strip = (k: unknown): unknown => {
      if (typeof k !== 'object' || k === null) return k;
      const { d: _d, ...pub } = k as Record<string, unknown>;
      return pub;
    };
    const published = Array.isArray(jwk['keys']) ? { keys: (jwk['keys'] as unknown[]).map(strip) } : strip(jwk);
    try {
      await peerKeys(published, `--key ${values.key}`);
    } catch (e) {
      if (!(e instanceof EnvelopeError)) throw e;
      complain('ctl', e.message);
      return 1;
    }
    process.stdout.write(`${identityRecords(identity, { addresses: peers.map((p) => p.address), port }, published, ttl).join('\n')}\n`);
    return 0;
  });
}
