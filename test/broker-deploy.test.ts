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
/** A refusal for lack of permission on a subject matching `what` (nats.js nests the violation in `cause`). */
const deniedFor = (what: RegExp) => (err: unknown): boolean => {
  const cause: unknown = err instanceof Error ? err.cause : undefined;
  const text = `${String(err)} ${cause instanceof Error ? cause.message : ''}`;
  return /permissions? violation/i.test(text) && what.test(text);
};

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

  it('the gateway reads the agent\'s directory but cannot write it', T, async () => {
    const enc = (t: string): Uint8Array => new TextEncoder().encode(t);
    const agent = await as('agent');
    const directory = await agent.kv('directory');
    await directory.put('peer.agent_bravo_example', enc('127.0.0.1:5301'));
    const gateway = await as('gateway');
    const view = await gateway.kv('directory');
    assert.equal(new TextDecoder().decode((await view.get('peer.agent_bravo_example'))?.value), '127.0.0.1:5301');
    const seen: string[] = [];
    const w = await view.watch('peer', (c) => seen.push(c.key), { initial: true });
    await pollUntil('the gateway\'s watch saw the entry', () => seen.includes('peer.agent_bravo_example'));
    await w.stop();

    await assert.rejects(view.put('peer.agent_bravo_example', enc('6.6.6.6:53')), deniedFor(/\$KV\.mpdns_directory\./));
    await assert.rejects(view.delete('peer.agent_bravo_example'), deniedFor(/\$KV\.mpdns_directory\./));
    assert.equal(new TextDecoder().decode((await directory.get('peer.agent_bravo_example'))?.value), '127.0.0.1:5301');
  });

  it('the gateway feeds agent-inbox, not the agent\'s machine queue; the agent consumes agent-inbox', T, async () => {
    const ns = new Subjects();
    const gateway = await as('gateway');
    assert.ok((await gateway.publish(ns.work('agent-inbox', 'agent.bravo.example.'), new TextEncoder().encode('accepted'))).seq >= 1);
    await assert.rejects(
      gateway.publish(ns.work('agent', 'customer.zone.'), new TextEncoder().encode('forged event')),
      (err: unknown) => err instanceof PermissionDeniedError && /mpdns_work_agent"|mpdns\.work\.agent\./.test(err.message),
    );
    // The subject itself is closed to the gateway, not only the agent's stream API.
    const nc = await connect({ servers: server.url, user: 'gateway', pass: pass('gateway'), inboxPrefix: '_INBOX_gateway' });
    try {
      await assert.rejects(
        nc.request(ns.work('agent', 'customer.zone.'), new Uint8Array(), { timeout: 2000 }),
        deniedFor(/"mpdns\.work\.agent\./),
      );
    } finally {
      await nc.close();
    }

    const agent = await as('agent');
    const got: string[] = [];
    const c = await agent.consume('agent-inbox', async (m) => {
      got.push(new TextDecoder().decode(m.data));
      await m.ack();
    });
    await pollUntil('the agent got the inbox item', () => got.length === 1);
    assert.deepEqual(got, ['accepted']);
    await c.stop();
  });

  it('the agent feeds the gateway\'s queue but cannot consume it nor read its replay records', T, async () => {
    const ns = new Subjects();
    const gateway = await as('gateway');
    const replay = await gateway.kv('gateway', { maxAgeMs: 60_000 });
    await replay.put('seen.x', new TextEncoder().encode('1'));
    const got: string[] = [];
    const c = await gateway.consume('gateway', async (m) => {
      got.push(new TextDecoder().decode(m.data));
      await m.ack();
    });

    const agent = await as('agent');
    assert.ok((await agent.publish(ns.work('gateway', 'agent.bravo.example.'), new TextEncoder().encode('hello'))).seq >= 1);
    await pollUntil('the gateway got the outbound item', () => got.length === 1);
    assert.deepEqual(got, ['hello']);
    await c.stop();

    await assert.rejects(agent.consume('gateway', async (m) => m.ack()), deniedFor(/mpdns_work_gateway/));
    await assert.rejects(agent.kv('gateway'), deniedFor(/KV_mpdns_gateway/));
  });
});
