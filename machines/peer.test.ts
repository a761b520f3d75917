import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createActor, type SnapshotFrom } from 'xstate';
import { DEFAULT_PEER_TIMING, peerMachine, type PeerEvent } from './peer.ts';

const BEAT = 1000;
const ids = { peer: 'agent.bravo.example.', self: 'agent.alpha.example.' };
const timing = { ...DEFAULT_PEER_TIMING, beatMs: BEAT, helloRetryMs: 10, discoverRetryMs: 100 };

function harness() {
  const effects: string[] = [];
  const machine = peerMachine.provide({
    actions: {
      discover: (_, p) => effects.push(`discover ${p.peer}`),
      sendHello: (_, p) => effects.push(`hello ${p.zone} ${p.endpoint}`),
      sendBeat: (_, p) => effects.push(`beat ${p.zones.join(',')}`),
    },
  });
  const actor = createActor(machine, { input: { ...ids, timing } }).start();
  const send = (e: PeerEvent): void => actor.send(e);
  const state = (): string => {
    const v = actor.getSnapshot().value;
    return typeof v === 'string' ? v : Object.entries(v).map(([k, c]) => `${k}.${typeof c === 'string' ? c : JSON.stringify(c)}`)[0] ?? '';
  };
  const take = (): string[] => effects.splice(0);
  return { actor, send, state, take };
}

function toOperational(h: ReturnType<typeof harness>): void {
  h.send({ type: 'zones', ...ids, zones: ['customer.zone.'], at: 0 });
  h.send({ type: 'discovered', endpoint: '127.0.0.1:5301', keyId: 'k1', at: 1 });
  h.send({ type: 'helloAnswer', zone: 'customer.zone.', result: 'accepted', at: 2 });
  h.send({ type: 'beatConfirmed', at: 3 });
  h.take();
}

test('peer: NEEDED → KNOWN → INTRODUCED → OPERATIONAL, each step event-driven', () => {
  const h = harness();
  assert.equal(h.state(), 'retired');
  h.send({ type: 'zones', ...ids, zones: ['customer.zone.'], at: 100 });
  assert.equal(h.state(), 'needed');
  assert.deepEqual(h.take(), ['discover agent.bravo.example.']);
  h.send({ type: 'discovered', endpoint: '127.0.0.1:5301', keyId: 'k1', at: 110 });
  assert.equal(h.state(), 'linked.known');
  assert.deepEqual(h.take(), ['hello customer.zone. 127.0.0.1:5301'], 'HELLO at once, not at a beat');
  h.send({ type: 'helloAnswer', zone: 'customer.zone.', result: 'accepted', at: 120 });
  assert.equal(h.state(), 'linked.introduced');
  assert.deepEqual(h.take(), ['beat customer.zone.'], 'first BEAT at once');
  h.send({ type: 'beatConfirmed', at: 130 });
  const snap = h.actor.getSnapshot();
  assert.ok(snap.matches({ linked: { alive: 'operational' } }));
  assert.equal(snap.context.since, 130);
  assert.deepEqual(snap.context.deadlines, { beat: 1120, liveness: 1120 });
});

test('peer: a "retry later" HELLO is retried within milliseconds, doubling, then accepted', () => {
  const h = harness();
  h.send({ type: 'zones', ...ids, zones: ['customer.zone.'], at: 0 });
  h.send({ type: 'discovered', endpoint: 'e', keyId: 'k1', at: 0 });
  h.take();
  h.send({ type: 'helloAnswer', zone: 'customer.zone.', result: 'retry', reason: 'zone not served yet', at: 5 });
  assert.equal(h.actor.getSnapshot().context.deadlines['hello'], 15);
  assert.equal(h.actor.getSnapshot().context.lastError, 'zone not served yet');
  h.send({ type: 'deadline', id: 'hello', at: 15 });
  assert.deepEqual(h.take(), ['hello customer.zone. e']);
  h.send({ type: 'helloAnswer', zone: 'customer.zone.', result: 'retry', at: 16 });
  assert.equal(h.actor.getSnapshot().context.deadlines['hello'], 36);
  // The peer's own HELLO reached us first: ours goes out now, not at the retry.
  h.send({ type: 'helloReceived', zone: 'customer.zone.', at: 20 });
  assert.deepEqual(h.take(), ['hello customer.zone. e']);
  h.send({ type: 'helloAnswer', zone: 'customer.zone.', result: 'accepted', at: 21 });
  assert.ok(h.actor.getSnapshot().matches({ linked: 'introduced' }));
  assert.equal(h.actor.getSnapshot().context.deadlines['hello'], undefined);
  // An answer for a zone we did not ask about is ignored.
  const g = harness();
  g.send({ type: 'zones', ...ids, zones: ['a.'], at: 0 });
  g.send({ type: 'discovered', endpoint: 'e', keyId: 'k', at: 0 });
  g.send({ type: 'helloAnswer', zone: 'b.', result: 'accepted', at: 1 });
  assert.ok(g.actor.getSnapshot().matches({ linked: 'known' }));
});

test('peer: DEGRADED after 2 missed beats, INTERRUPTED after 10, OPERATIONAL on the next good beat', () => {
  const h = harness();
  toOperational(h);
  const live = (at: number): void => h.send({ type: 'deadline', id: 'liveness', at });
  live(3 + BEAT);
  assert.ok(h.actor.getSnapshot().matches({ linked: { alive: 'operational' } }), 'one missed interval is not yet degraded');
  live(3 + 2 * BEAT);
  assert.ok(h.actor.getSnapshot().matches({ linked: { alive: 'degraded' } }));
  assert.equal(h.actor.getSnapshot().context.since, 3 + 2 * BEAT);
  live(3 + 9 * BEAT);
  assert.ok(h.actor.getSnapshot().matches({ linked: { alive: 'degraded' } }));
  live(3 + 10 * BEAT);
  assert.ok(h.actor.getSnapshot().matches({ linked: { alive: 'interrupted' } }));
  assert.equal(h.actor.getSnapshot().context.deadlines['liveness'], 3 + 11 * BEAT);
  h.send({ type: 'beatReceived', at: 3 + 10 * BEAT + 5 });
  assert.ok(h.actor.getSnapshot().matches({ linked: { alive: 'operational' } }));
  assert.equal(h.actor.getSnapshot().context.since, 3 + 10 * BEAT + 5);
  // Beats go out on their deadline and re-arm it.
  h.send({ type: 'deadline', id: 'beat', at: 20_000 });
  assert.deepEqual(h.take(), ['beat customer.zone.']);
  assert.equal(h.actor.getSnapshot().context.deadlines['beat'], 20_000 + BEAT);
});

test('peer: a new shared zone sends HELLO for it at once; a key change re-introduces; no zones retires', () => {
  const h = harness();
  toOperational(h);
  h.send({ type: 'zones', ...ids, zones: ['customer.zone.', 'other.test.'], at: 50 });
  assert.deepEqual(h.take(), ['hello other.test. 127.0.0.1:5301']);
  assert.ok(h.actor.getSnapshot().matches({ linked: { alive: 'operational' } }), 'a HELLO for a new zone does not demote the peer');
  h.send({ type: 'zones', ...ids, zones: ['other.test.', 'customer.zone.'], at: 51 });
  assert.deepEqual(h.take(), [], 'the same set in another order changes nothing');
  h.send({ type: 'discovered', endpoint: '127.0.0.1:5301', keyId: 'k1', at: 60 });
  assert.deepEqual(h.take(), [], 're-discovery with the same key changes nothing');
  h.send({ type: 'discovered', endpoint: '127.0.0.1:5301', keyId: 'k2', at: 61 });
  assert.ok(h.actor.getSnapshot().matches({ linked: 'known' }));
  assert.equal(h.take().length, 1);
  h.send({ type: 'zones', ...ids, zones: [], at: 70 });
  assert.equal(h.state(), 'retired');
  assert.deepEqual(h.actor.getSnapshot().context.deadlines, {});
});

test('peer: failed discovery retries with backoff on its deadline', () => {
  const h = harness();
  h.send({ type: 'zones', ...ids, zones: ['z.'], at: 0 });
  h.take();
  h.send({ type: 'discoveryFailed', reason: 'no validated URI', at: 10 });
  h.send({ type: 'discoveryFailed', reason: 'no validated URI', at: 20 });
  assert.equal(h.actor.getSnapshot().context.deadlines['discover'], 220);
  h.send({ type: 'deadline', id: 'discover', at: 220 });
  assert.deepEqual(h.take(), ['discover agent.bravo.example.']);
  // Discovery runs again, under a watchdog in case its result is lost.
  assert.equal(h.actor.getSnapshot().context.deadlines['discover'], 220 + timing.maxDiscoverMs);
  h.send({ type: 'discovered', endpoint: 'e', keyId: 'k', at: 300 });
  assert.equal(h.actor.getSnapshot().context.deadlines['discover'], undefined);
  assert.equal(h.actor.getSnapshot().context.deadlines['hello'], 300 + BEAT, 'the HELLO watchdog');
});

test('peer: created without input, as the actor host does, it takes identities from the zones event', () => {
  const a = createActor(peerMachine, { input: undefined }).start();
  a.send({ type: 'zones', ...ids, zones: ['z.'], timing, at: 0 });
  assert.deepEqual([a.getSnapshot().context.peer, a.getSnapshot().context.self, a.getSnapshot().context.timing.beatMs], [ids.peer, ids.self, BEAT]);
  assert.ok(a.getSnapshot().matches('needed'));
});

test('peer: the persisted snapshot restores to the same state and deadlines', () => {
  const h = harness();
  toOperational(h);
  const persisted = h.actor.getPersistedSnapshot() as SnapshotFrom<typeof peerMachine>;
  const restored = createActor(peerMachine, { input: undefined, snapshot: JSON.parse(JSON.stringify(persisted)) as SnapshotFrom<typeof peerMachine> }).start();
  assert.ok(restored.getSnapshot().matches({ linked: { alive: 'operational' } }));
  assert.deepEqual(restored.getSnapshot().context.deadlines, h.actor.getSnapshot().context.deadlines);
  restored.send({ type: 'deadline', id: 'liveness', at: 3 + 2 * BEAT });
  assert.ok(restored.getSnapshot().matches({ linked: { alive: 'degraded' } }));
});
