// The actor runtime under faults, on real JetStream: 3 replicas of the actor host over 16 shards
// run the sequenced counter (which records every event it applied) while 20,000 events for 2,000
// machines are published; meanwhile a random replica is SIGKILLed and restarted every few
// seconds, nats-server is SIGKILLed once and restarted on its store, and a fourth replica is
// added and removed (test/support/chaos.ts). Every event the broker acknowledged is applied
// exactly once, in publish order except where a fault interrupted its delivery (the order the
// host guarantees, docs/decisions.md "Actor host"), and nothing is dead-lettered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runChaos } from './support/chaos.ts';

test('actor host under chaos: every acknowledged event applied exactly once, in the guaranteed order', { timeout: 540_000 }, async () => {
  const started = Date.now();
  const r = await runChaos({
    keys: 2000,
    eventsPerKey: 10,
    shards: 16,
    replicas: 3,
    publishMs: 60_000,
    killEveryMs: 5000,
    ackWaitMs: 4000,
    maxDeliver: 50,
    drainTimeoutMs: 240_000,
    progress: (line) => process.stdout.write(`# ${line}\n`),
  });
  process.stdout.write(
    `# chaos: ${r.events} events in ${r.seconds.toFixed(1)} s = ${r.eventsPerSec.toFixed(0)} events/s; longest wait publish→apply ${r.maxDelayMs} ms; ` +
      `${r.replicaKills} replica kills; ${r.late} late events (each after a fault); ${r.duplicatesDropped} redeliveries dropped by the host; ${r.orphans} acked messages left in the stream; whole test ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
  );
  assert.deepEqual(
    { lost: r.lost, duplicated: r.duplicated, misordered: r.misordered, deadLetters: r.deadLetters },
    { lost: 0, duplicated: 0, misordered: 0, deadLetters: 0 },
    r.problems.join('\n'),
  );
  assert.ok(r.replicaKills >= 5, `replicas were killed (${r.replicaKills})`);
});
