// deploy/nats/nats-server.conf: accepted by `nats-server -t` with the secrets set (and refused
// without them); started with it, each role can do its own work and no more.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  PermissionDeniedError,
  Subjects,
  createJetStreamBroker,
  type Broker,
} from '../broker/index.ts';
import { connect } from '@nats-io/transport-node';
import { haveBinary } from './support/daemon.ts';
import { NATS_SERVER, startNatsServer, type NatsServer } from './support/nats.ts';
import { pollUntil } from './support/poll.ts';

const CONF = fileURLToPath(new URL('../deploy/nats/nats-server.conf', import.meta.url));
const ROLES = ['agent', 'combiner', 'signer', 'gateway', 'admin'] as const;
// nats-server parses a variable's value as a config value: a password starting with a digit
// would become a number (see deploy/nats/README.md).
const secrets: Record<string, string> = Object.fromEntries(
  ROLES.map((r) => [`MPDNS_NATS_${r.toUpperCase()}_PASSWORD`, `p${randomBytes(12).toString('hex')}`]),
);
const checkEnv: NodeJS.ProcessEnv = { ...process.env, ...secrets, MPDNS_NATS_STORE_DIR: '/nonexistent/mpdns-check' };
const pass = (role: string): string => secrets[`MPDNS_NATS_${role.toUpperCase()}_PASSWORD`] ?? '';
const T = { timeout: 20_000 };

describe('deploy/nats permissions', { skip: !haveBinary('nats-server') && 'nats-server not installed' }, () => {
  let server: NatsServer;
  const brokers: Broker[] = [];
  const as = async (role: string): Promise<Broker> => {
    const b = await createJetStreamBroker({
      servers: server.url,
      user: role,
      pass: pass(role),
      inboxPrefix: `_INBOX_${role}`,
      publishTimeoutMs: 3000,
    });
    brokers.push(b);
    return b;
  };
  before(async () => {
    server = await startNatsServer({ configFile: CONF, env: { ...process.env, ...secrets } });
  });
  after(async () => {
    for (const b of brokers) await b.close();
    await server.stop();
  });

  it('nats-server -t accepts the file with the secrets set, and names a missing one', T, () => {
    const ok = spawnSync(NATS_SERVER, ['-c', CONF, '-t'], { env: checkEnv, encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    const env = { ...checkEnv };
    delete env['MPDNS_NATS_SIGNER_PASSWORD'];
    const bad = spawnSync(NATS_SERVER, ['-c', CONF, '-t'], { env, encoding: 'utf8' });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr + bad.stdout, /MPDNS_NATS_SIGNER_PASSWORD/);
  });

  it('an agent may feed the combiner but not the signer; the combiner consumes its queue', T, async () => {
    const ns = new Subjects();
    const agent = await as('agent');
    const ack = await agent.publish(ns.work('combiner', 'example.com.', 4), new TextEncoder().encode('update'));
    assert.ok(ack.seq >= 1);
    await assert.rejects(
      agent.publish(ns.work('signer', 'example.com.', 4), new TextEncoder().encode('forged zone')),
      (err: unknown) => err instanceof PermissionDeniedError && /permission/i.test(err.message),
    );

    // The subject itself is closed to agents, not only the signer's stream API.
    const nc = await connect({ servers: server.url, user: 'agent', pass: pass('agent'), inboxPrefix: '_INBOX_agent' });
    try {
      await assert.rejects(
        nc.request(ns.work('signer', 'example.com.', 4), new Uint8Array(), { timeout: 2000 }),
        (err: unknown) => /permissions violation for publish to "mpdns\.work\.signer/i.test(String((err as Error).cause ?? err)),
      );
    } finally {
      await nc.close();
    }

    const combiner = await as('combiner');
    const got: string[] = [];
    const c = await combiner.consume('combiner', async (m) => {
      got.push(new TextDecoder().decode(m.data));
      await m.ack();
    }, { shards: [0, 1, 2, 3] });
    await pollUntil('combiner got the update', () => got.length === 1);
    assert.deepEqual(got, ['update']);
    await c.stop();
  });

  it('roles reach their own KV and services only', T, async () => {
    const agent = await as('agent');
    const kv = await agent.kv('agent');
    const rev = await kv.put('zone.example_com', new TextEncoder().encode('snapshot'));
    assert.equal((await kv.get('zone.example_com'))?.revision, rev);
    await assert.rejects(agent.kv('signer'), PermissionDeniedError);

    const combiner = await as('combiner');
    const r = await combiner.respond('combiner.status', () => new TextEncoder().encode('ok'));
    assert.equal(new TextDecoder().decode(await agent.request('combiner.status', new Uint8Array(), 2000)), 'ok');
    const gateway = await as('gateway');
    await assert.rejects(gateway.request('combiner.status', new Uint8Array(), 2000), PermissionDeniedError);
    await r.stop();
  });
});
