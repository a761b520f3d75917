// A child process running one actor host, for the actor tests that kill processes.
// Not a test itself. Flags:
//   --nats URL | --embedded   broker (JetStream at URL, or in-process)
//   --namespace NS --shards N --replica ID --ack-wait-ms MS --max-deliver N --idle-ms MS
//   --coordinator             hold shards through broker/shards.ts leases instead of all of them
//   --crash-after-persist N   SIGKILL itself after the N-th persist, before its ack
//   --crash-after-ack N       SIGKILL itself right after the N-th ack
//   --inspect[=URL]           stream inspection events (actors/inspect.ts)
//   --local-events N          (embedded) send N local events, stop the host and return
//   --leave-inspector         after those, do not stop the inspector (it must not hold the process)
//   --wait-inspector-ms MS    before those, wait up to MS for the inspector socket to open
// Prints one JSON line per milestone on stdout: {"ready":...}, {"acquired":shard}, {"lost":shard},
// {"duplicates":n} (a redelivered message acked without applying it again).
import { parseArgs } from 'node:util';
import type { Broker, ShardCoordinator } from '../broker/types.ts';
import { createEmbeddedBroker } from '../broker/embedded.ts';
import { createJetStreamBroker } from '../broker/jetstream.ts';
import { createShardCoordinator } from '../broker/shards.ts';
import { ActorHost } from '../actors/host.ts';
import { createHostInspector, parseInspectFlag } from '../actors/inspect.ts';
import { componentLogger } from '../actors/logger.ts';
import { sequencedCounter } from '../machines/sequenced-counter.ts';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => !a.startsWith('--inspect')),
  options: {
    nats: { type: 'string' },
    embedded: { type: 'boolean', default: false },
    namespace: { type: 'string', default: 'mpdns' },
    shards: { type: 'string', default: '4' },
    replica: { type: 'string', default: `child-${process.pid}` },
    'ack-wait-ms': { type: 'string', default: '2000' },
    'max-deliver': { type: 'string', default: '20' },
    'idle-ms': { type: 'string', default: '0' },
    coordinator: { type: 'boolean', default: false },
    'crash-after-persist': { type: 'string' },
    'crash-after-ack': { type: 'string' },
    'local-events': { type: 'string' },
    'wait-inspector-ms': { type: 'string', default: '0' },
    'leave-inspector': { type: 'boolean', default: false },
  },
});
const inspectUrl = parseInspectFlag(process.argv.slice(2));

function say(o: object): void {
  process.stdout.write(`${JSON.stringify(o)}\n`);
}

function die(): void {
  process.kill(process.pid, 'SIGKILL');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10_000);
}

const log = componentLogger({ component: 'actors-child', replica: values.replica });
// Tests start their own nats-server: never fall back to a shared one on the default port.
if (!values.embedded && values.nats === undefined) throw new Error('actors-child: give --nats URL or --embedded');
const broker: Broker = values.embedded
  ? createEmbeddedBroker({ namespace: values.namespace })
  : await createJetStreamBroker({ servers: values.nats as string, namespace: values.namespace, logger: log });
const inspector = inspectUrl !== undefined ? createHostInspector(inspectUrl, 200) : undefined;
let persisted = 0;
let acked = 0;
let duplicates = 0;
const crashPersist = values['crash-after-persist'] !== undefined ? Number(values['crash-after-persist']) : -1;
const crashAck = values['crash-after-ack'] !== undefined ? Number(values['crash-after-ack']) : -1;
const host = await ActorHost.open({
  broker,
  kinds: [{ kind: 'sequenced-counter', machine: sequencedCounter }],
  shardCount: Number(values.shards),
  replicaId: values.replica,
  logger: log,
  ackWaitMs: Number(values['ack-wait-ms']),
  maxDeliver: Number(values['max-deliver']),
  idleMs: Number(values['idle-ms']),
  ...(inspector !== undefined ? { inspect: inspector } : {}),
  hooks: {
    afterPersist: () => {
      persisted++;
      if (persisted === crashPersist) die();
    },
    afterAck: () => {
      acked++;
      if (acked === crashAck) die();
    },
    afterDuplicate: () => say({ duplicates: ++duplicates }),
  },
});

let coordinator: ShardCoordinator | undefined;
if (values.coordinator) {
  coordinator = createShardCoordinator({
    kv: await broker.kv('shards'),
    group: 'actors',
    shardCount: Number(values.shards),
    replicaId: values.replica,
    renewMs: 1000,
    leaseTimeoutMs: 3000,
    logger: log,
  });
  host.attach(coordinator);
  coordinator.on('acquired', (shard) => say({ acquired: shard }));
  coordinator.on('lost', (shard) => say({ lost: shard }));
  await coordinator.start();
} else {
  await host.acquireAll();
}
say({ ready: values.replica, pid: process.pid });

if (values['local-events'] !== undefined) {
  const waitUntil = Date.now() + Number(values['wait-inspector-ms']);
  while (inspector !== undefined && !inspector.connected && Date.now() < waitUntil) {
    await new Promise((r) => setTimeout(r, 20));
  }
  for (let seq = 1; seq <= Number(values['local-events']); seq++) {
    await host.send('inspect.example.', 'ctr', 'sequenced-counter', { type: 'inc', seq });
  }
  say({ done: Number(values['local-events']), connected: inspector?.connected ?? false });
  await host.stop();
  if (!values['leave-inspector']) await inspector?.stop();
  await broker.close();
  // No process.exit: the process must end by itself (nothing left referenced).
} else {
  const shutdown = async (): Promise<void> => {
    await coordinator?.stop();
    await host.stop();
    await inspector?.stop();
    await broker.close();
  };
  process.once('SIGTERM', () => void shutdown());
}
