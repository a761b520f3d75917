// The gateway role between two providers, end to end: alpha's and bravo's gateways started with
// startGateway on one embedded broker hub (namespaces alpha and bravo), listening on loopback
// port 0, each knowing the other from a directory entry written the way the agent writes it. No
// agent runs: the test plays it, publishing Outbound items on the `gateway` queue and reading
// `agent-inbox`. Covered: inline and query-mode delivery with the outcome reported, retries of
// an undiscovered peer until expiry, a peer gateway that comes back before expiry, an item
// already expired, and an item that outlives its gateway (stopped and started anew).
import { strict as assert } from 'node:assert';
import { after, before, test } from 'node:test';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import pino from 'pino';
import type { ProviderConfig } from '../actors/config.ts';
import { DIRECTORY_BUCKET, directoryKey, encodeEntry } from '../actors/gateway/directory.ts';
import { startGateway, type Gateway } from '../actors/gateway/gateway.ts';
import { AGENT_INBOX, decodeInbox, encodeOutbound, GATEWAY_QUEUE, type InboxItem, type Outbound, type Sent } from '../actors/gateway/queues.ts';
import type { Accepted } from '../actors/gateway/receive.ts';
import { INLINE_LIMIT, newDistributionId } from '../actors/gateway/send.ts';
import { Metrics } from '../actors/metrics.ts';
import { createEmbeddedBroker, encode, EmbeddedHub, Subjects, type Broker, type Stoppable } from '../broker/index.ts';
import { parseName, type Fqdn } from '../dns/name.ts';
import { ownKeys, peerKeys, seal, type OwnKeys } from '../protocol/envelope.ts';
import { encodeMessage, type Message } from '../protocol/messages.ts';
import { pollUntil } from './support/poll.ts';

const ALPHA = parseName('agent.alpha.example.');
const BRAVO = parseName('agent.bravo.example.');
const CHARLIE = parseName('agent.charlie.example.'); // never in any directory
const DELTA = parseName('agent.delta.example.'); // listed with alpha, never discovered (no keys)
const ZONE = parseName('customer.zone.');
const logger = pino({ level: 'silent' });

interface Side {
  readonly identity: Fqdn;
  readonly namespace: string;
  own: OwnKeys;
  pub: JWK;
  broker: Broker;
  metrics: Metrics;
  gateway: Gateway;
  port: number;
  readonly inbox: InboxItem[];
  inboxConsumer: Stoppable;
}

function config(s: Side, port: number): ProviderConfig {
  return {
    identity: s.identity,
    keyFile: '/nonexistent',
    namespace: s.namespace,
    resolver: { address: '127.0.0.1', port: 53 },
    insecure: true,
    gateway: { address: '127.0.0.1', port },
    control: { address: '127.0.0.1', port: 0 },
    notify: undefined,
    gatewayMetrics: undefined,
    combiner: undefined,
    nameserver: undefined,
    nameservers: [],
    controlTokenFile: undefined,
    beatSeconds: 15,
    recheckSeconds: 60,
    zones: [],
  };
}

async function start(s: Side, port: number): Promise<void> {
  s.gateway = await startGateway({ config: config(s, port), own: s.own, broker: s.broker, metrics: s.metrics, logger });
  s.port = s.gateway.address.port;
}

/** Writes `peer`'s entry in `s`'s directory as the agent does, and waits for the gateway to see it. */
async function writeEntry(s: Side, peer: Side, port = peer.port): Promise<void> {
  const bucket = await s.broker.kv(DIRECTORY_BUCKET);
  await bucket.put(directoryKey(peer.identity), encodeEntry({ identity: peer.identity, zones: [ZONE], jwk: peer.pub, endpoint: { host: parseName(`dns.${peer.identity}`), port, addresses: ['127.0.0.1'] } }));
  await pollUntil(`${s.identity} sees ${peer.identity} at port ${port}`, () => s.gateway.directory.addressOf(peer.identity)?.endpoint.port === port);
}

const hub = new EmbeddedHub();
const sides: Side[] = [];
let alpha: Side, bravo: Side;

async function side(identity: Fqdn, namespace: string): Promise<Side> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const priv = await exportJWK(privateKey);
  const { d: _d, ...pub } = priv;
  const broker = createEmbeddedBroker({ namespace, hub });
  const s = { identity, namespace, own: await ownKeys(priv), pub, broker, metrics: new Metrics(), port: 0, inbox: [] } as unknown as Side;
  s.inboxConsumer = await broker.consume(AGENT_INBOX, (m) => {
    s.inbox.push(decodeInbox(m.data));
  });
  sides.push(s);
  return s;
}

before(async () => {
  [alpha, bravo] = await Promise.all([side(ALPHA, 'alpha'), side(BRAVO, 'bravo')]);
  await start(alpha, 0);
  await start(bravo, 0);
  // Entries after both gateways are up: each names the other's bound port.
  await writeEntry(alpha, bravo);
  await writeEntry(bravo, alpha);
  // DELTA: listed with alpha in ZONE but not discovered yet (an entry without keys).
  await (await alpha.broker.kv(DIRECTORY_BUCKET)).put(directoryKey(DELTA), encodeEntry({ identity: DELTA, zones: [ZONE] }));
});

after(async () => {
  for (const s of sides) {
    await s.gateway?.stop();
    await s.inboxConsumer?.stop();
    await s.broker.close();
  }
});

/** Plays alpha's agent: one outbound item on alpha's `gateway` queue. */
async function queue(peer: Fqdn, message: Message, ttlMs: number, ref: Record<string, string> = {}): Promise<Outbound> {
  const item: Outbound = { peer, message, distributionId: newDistributionId(), expiresAt: Date.now() + ttlMs, ref };
  await alpha.broker.publish(new Subjects('alpha').work(GATEWAY_QUEUE, peer), encodeOutbound(item));
  return item;
}

const sentOf = (s: Side, item: Outbound): Sent | undefined => s.inbox.map((i) => (i.kind === 'sent' && i.sent.distributionId === item.distributionId ? i.sent : undefined)).find((x) => x !== undefined);
const receivedOf = (s: Side, item: Outbound): Accepted | undefined =>
  s.inbox.map((i) => (i.kind === 'received' && i.accepted.sender === ALPHA && i.accepted.distributionId === item.distributionId ? i.accepted : undefined)).find((x) => x !== undefined);
const outcome = (s: Side, item: Outbound, timeoutMs = 20_000): Promise<Sent> => pollUntil(`outcome of ${item.message.type} ${item.distributionId}`, () => sentOf(s, item), { timeoutMs });

/** Sum of a counter over all its label sets matching `match`. */
function counter(m: Metrics, name: string, match = ''): number {
  let n = 0;
  for (const line of m.text().split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!line.includes(match)) continue;
    n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}
const retries = (): number => counter(alpha.metrics, 'mpdns_send_retries_total');
const bravoMessages = (): number => counter(bravo.metrics, 'mpdns_gateway_messages_total');
const bravoReceived = (): number => bravo.inbox.filter((i) => i.kind === 'received').length;

const hello = (to: Fqdn = BRAVO): Message => ({ type: 'hello', sender: ALPHA, recipient: to, zone: ZONE, time: Date.now() });

/** A sync with `n` TXT records: about 90 bytes of plaintext each (2 000 make an envelope well over 60 000 bytes). */
function bigSync(n: number): Message {
  const records = Array.from({ length: n }, (_, i) => `r${i}.${ZONE} 3600 IN TXT "contribution ${i} ${'x'.repeat(40)}"`);
  return { type: 'sync', originator: ALPHA, recipient: BRAVO, zone: ZONE, operations: [{ operation: 'replace', rrtype: 'TXT', records }], records: {}, nonce: 'n1', time: Date.now() };
}

test('gateway role: startGateway honours port 0 and reports the bound port', () => {
  assert.ok(alpha.port > 0 && bravo.port > 0 && alpha.port !== bravo.port, `${alpha.port} ${bravo.port}`);
  assert.equal(alpha.gateway.address.address, '127.0.0.1');
});

test('gateway role: a hello from alpha reaches bravo’s agent-inbox; alpha is told sent ok, attempts 1, ref echoed', async () => {
  const item = await queue(BRAVO, hello(), 30_000, { zone: ZONE, note: 'first' });
  const got = await pollUntil('bravo receives the hello', () => receivedOf(bravo, item));
  assert.deepEqual(got.message, item.message);
  assert.equal(got.sender, ALPHA);
  const sent = await outcome(alpha, item);
  assert.deepEqual([sent.ok, sent.attempts, sent.reason, sent.peer, sent.type], [true, 1, '', BRAVO, 'hello']);
  assert.deepEqual(sent.ref, { zone: ZONE, note: 'first' });
  assert.equal(counter(alpha.metrics, 'mpdns_messages_sent_total', 'outcome="confirmed"'), 1);
  assert.equal(counter(bravo.metrics, 'mpdns_gateway_messages_total', 'outcome="accepted"'), 1);
  // Nothing for alpha's agent but its own outcome; nothing for bravo's but the message.
  assert.equal(alpha.inbox.filter((i) => i.kind === 'received').length, 0);
  assert.equal(bravo.inbox.filter((i) => i.kind === 'sent').length, 0);
});

test('gateway role: a sync too large for one NOTIFY goes in query mode between the gateways and arrives whole', async () => {
  const m = bigSync(2_000);
  const envelope = await seal({ body: encodeMessage(m), recipient: BRAVO, time: Date.now(), sender: alpha.own, to: await peerKeys(bravo.pub) });
  assert.ok(envelope.length > INLINE_LIMIT, `envelope of ${envelope.length} bytes`);
  const item = await queue(BRAVO, m, 60_000, { zone: ZONE });
  const got = await pollUntil('bravo receives the sync', () => receivedOf(bravo, item), { timeoutMs: 30_000 });
  assert.deepEqual(got.message, m);
  const sent = await outcome(alpha, item, 30_000);
  assert.deepEqual([sent.ok, sent.attempts, sent.type], [true, 1, 'sync']);
});

test('gateway role: an item for an undiscovered peer is retried until it expires, then reported not ok, nothing sent', async () => {
  const before = { retries: retries(), messages: bravoMessages(), received: bravoReceived() };
  // CHARLIE: no directory entry at all; DELTA: an entry without keys or endpoint.
  const [noEntry, noKeys] = [await queue(CHARLIE, hello(CHARLIE), 400), await queue(DELTA, hello(DELTA), 400)];
  for (const [item, peer] of [
    [noEntry, CHARLIE],
    [noKeys, DELTA],
  ] as const) {
    const sent = await outcome(alpha, item);
    assert.equal(sent.ok, false);
    assert.equal(sent.peer, peer);
    assert.ok(sent.attempts > 1, `attempts ${sent.attempts}`);
    assert.match(sent.reason, new RegExp(`${peer.replace(/\./g, '\\.')} is not discovered`));
  }
  assert.ok(retries() - before.retries >= 2, `retries ${retries() - before.retries}`);
  assert.equal(counter(alpha.metrics, 'mpdns_messages_sent_total', 'outcome="expired"'), 2);
  assert.equal(bravoMessages(), before.messages, 'bravo’s gateway saw nothing');
  assert.equal(bravoReceived(), before.received);
  assert.equal(alpha.inbox.filter((i) => i.kind === 'received').length, 0);
});

test('gateway role: an item already expired when consumed is reported not ok without a send attempt', async () => {
  const before = { retries: retries(), messages: bravoMessages(), received: bravoReceived() };
  const item = await queue(BRAVO, hello(), -1);
  const sent = await outcome(alpha, item);
  assert.deepEqual([sent.ok, sent.attempts, sent.reason], [false, 1, 'expired before it could be sent']);
  assert.equal(retries(), before.retries);
  assert.equal(bravoMessages(), before.messages, 'nothing reached bravo’s listener');
  assert.equal(bravoReceived(), before.received);
});

test('gateway role: a malformed outbound item is dead-lettered, not retried, and nothing is reported', async () => {
  const before = { retries: retries(), inbox: alpha.inbox.length, messages: bravoMessages() };
  await alpha.broker.publish(new Subjects('alpha').work(GATEWAY_QUEUE, BRAVO), encode({ peer: BRAVO, distributionId: '0000bad0' }));
  const dead = await pollUntil('dead letter', async () => (await alpha.broker.deadLetters(GATEWAY_QUEUE)).find((d) => /lacks peer, message/.test(d.reason)));
  assert.equal(dead.deliveryCount, 1);
  assert.equal(retries(), before.retries);
  assert.equal(alpha.inbox.length, before.inbox);
  assert.equal(bravoMessages(), before.messages);
});

test('gateway role: a peer gateway that is down at first and comes back before expiry gets the item; reported ok after retries', async () => {
  const port = bravo.port;
  await bravo.gateway.stop();
  const before = retries();
  const item = await queue(BRAVO, hello(), 30_000, { zone: ZONE });
  await pollUntil('alpha retrying', () => retries() - before >= 2);
  assert.equal(sentOf(alpha, item), undefined, 'no outcome while it is still being retried');
  await start(bravo, port); // back on the port alpha's directory names
  assert.equal(bravo.port, port);
  const got = await pollUntil('bravo receives the hello', () => receivedOf(bravo, item));
  assert.deepEqual(got.message, item.message);
  const sent = await outcome(alpha, item);
  assert.equal(sent.ok, true);
  assert.ok(sent.attempts > 2, `attempts ${sent.attempts}`);
});

test('gateway role: an item queued while alpha’s gateway stops is sent by the next gateway on the same broker', async () => {
  // The embedded hub plays the broker server: its queues outlive a gateway (not the process).
  const bravoPort = bravo.port;
  await bravo.gateway.stop();
  const before = retries();
  const item = await queue(BRAVO, hello(), 60_000, { zone: ZONE, note: 'restart' });
  await pollUntil('alpha retrying', () => retries() - before >= 1);
  await alpha.gateway.stop();
  const attemptsBefore = retries() - before;
  await start(bravo, bravoPort);
  // Nothing consumes alpha's gateway queue now: bravo being back changes nothing.
  assert.equal(sentOf(alpha, item), undefined);
  assert.equal(receivedOf(bravo, item), undefined);
  await start(alpha, 0);
  await writeEntry(bravo, alpha); // alpha's new listener port, as the agent's rediscovery would write
  const got = await pollUntil('bravo receives the hello', () => receivedOf(bravo, item));
  assert.deepEqual(got.message, item.message);
  const sent = await outcome(alpha, item);
  assert.equal(sent.ok, true);
  assert.ok(sent.attempts > attemptsBefore, `attempts ${sent.attempts} after ${attemptsBefore} failed`);
  assert.deepEqual(sent.ref, { zone: ZONE, note: 'restart' });
});
