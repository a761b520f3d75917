// The gateway's receiving side against every bad input the transport must refuse, sent from a
// raw DNS client over real sockets, with the replay records in real JetStream KV and accepted
// messages on the agent's real work queue: each bad input gets its RCODE and its named reason,
// and nothing but the accepted messages reaches the queue.
import { strict as assert } from 'node:assert';
import { after, before, test } from 'node:test';
import { CompactEncrypt, CompactSign, exportJWK, generateKeyPair } from 'jose';
import { Receiver, CHUNK_QTYPE, deliveryId, replayMaxAgeMs, type Accepted, type Outcome } from '../actors/gateway/receive.ts';
import { DeliveryError, sendMessage, type PeerAddress } from '../actors/gateway/send.ts';
import { createJetStreamBroker, decode, encode, Subjects, type Broker, type Stoppable } from '../broker/index.ts';
import { ChunkFormat, encodeChunkOption } from '../dns/edns.ts';
import { parseName, type Fqdn } from '../dns/name.ts';
import { query } from '../dns/net/client.ts';
import { DnsServer } from '../dns/net/server.ts';
import { Opcode, Rcode } from '../dns/types.ts';
import { ownKeys, peerKeys, seal, type OwnKeys, type PeerKeys } from '../protocol/envelope.ts';
import { encodeMessage, type Message } from '../protocol/messages.ts';
import { startNatsServer, type NatsServer } from './support/nats.ts';
import { pollUntil } from './support/poll.ts';

const ALPHA = parseName('agent.alpha.example.');
const BRAVO = parseName('agent.bravo.example.');
const CHARLIE = parseName('agent.charlie.example.');
const MALLORY = parseName('agent.mallory.example.');
const ZONE = parseName('customer.zone.');

interface Party {
  own: OwnKeys;
  pub: PeerKeys;
}
async function party(): Promise<Party> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const priv = await exportJWK(privateKey);
  const { d: _d, ...pub } = priv;
  return { own: await ownKeys(priv), pub: await peerKeys(pub) };
}

let nats: NatsServer;
let broker: Broker;
let server: DnsServer;
let consumer: Stoppable;
let port = 0;
const queued: Accepted[] = [];
const outcomes: Outcome[] = [];
let alpha: Party, bravo: Party, charlie: Party, mallory: Party;

before(async () => {
  [alpha, bravo, charlie, mallory] = await Promise.all([party(), party(), party(), party()]);
  nats = await startNatsServer();
  broker = await createJetStreamBroker({ servers: nats.url, namespace: 'bravo' });
  const subjects = new Subjects('bravo');
  const replay = await broker.kv('gateway', { maxAgeMs: replayMaxAgeMs(60_000) });
  consumer = await broker.consume('agent', (m) => {
    queued.push(decode(m.data) as Accepted);
  });
  const receiver = new Receiver({
    self: BRAVO,
    own: bravo.own,
    replay,
    peers: {
      keysOf: (id) => (id === ALPHA ? alpha.pub : id === CHARLIE ? charlie.pub : undefined),
      sharesZone: (peer, zone) => peer === ALPHA && zone === ZONE,
      endpointOf: () => undefined,
    },
    deliver: async (a) => !(await broker.publish(subjects.work('agent', a.sender), encode(a), { msgId: deliveryId(a) })).duplicate,
    windowMs: 60_000,
  });
  server = new DnsServer({
    address: '127.0.0.1',
    port: 0,
    notifyHandlers: new Map([
      [
        CHUNK_QTYPE,
        async (msg, ctx) => {
          const r = await receiver.handle(msg, ctx);
          outcomes.push(r.outcome);
          return r.reply;
        },
      ],
    ]),
  });
  port = (await server.start()).port;
});

after(async () => {
  await server?.stop();
  await consumer?.stop();
  await broker?.close();
  await nats?.stop();
});

const hello = (from: Fqdn, to: Fqdn = BRAVO, zone: Fqdn = ZONE): Message => ({ type: 'hello', sender: from, recipient: to, zone, time: Date.now() });
const toBravo = (): PeerAddress => ({ identity: BRAVO, keys: bravo.pub, endpoint: { host: BRAVO, port, addresses: ['127.0.0.1'] } });

/** Sends a raw NOTIFY(CHUNK) with `payload` (format 2 unless given) as sender `qsender`. */
async function raw(qsender: Fqdn, payload: string | undefined, o: { distId?: string; format?: number; udp?: boolean; qtype?: number } = {}): Promise<number> {
  const opts = payload === undefined ? [] : [encodeChunkOption({ format: o.format ?? ChunkFormat.JOSE, hmac: new Uint8Array(0), data: new TextEncoder().encode(payload) })];
  const r = await query({ address: '127.0.0.1', port }, parseName(`${o.distId ?? '0badc0de'}.${qsender}`), o.qtype ?? CHUNK_QTYPE, {
    opcode: Opcode.NOTIFY,
    tcp: o.udp !== true,
    udpSize: 4096,
    ednsOptions: opts,
    attempts: 1,
  });
  return r.message.rcode;
}

const sealFrom = (from: Party, body: Uint8Array, opts: { to?: PeerKeys; recipient?: string; time?: number } = {}): Promise<string> =>
  seal({ body, recipient: opts.recipient ?? BRAVO, time: opts.time ?? Date.now(), sender: from.own, to: opts.to ?? bravo.pub });

const lastRefusal = (): string => {
  const o = outcomes[outcomes.length - 1];
  return o?.kind === 'refused' ? o.reason : (o?.kind ?? 'none');
};

test('gateway: a good message is confirmed and queued once; a TDNS-style retry gets the same confirm', async () => {
  const c = await sendMessage(toBravo(), hello(ALPHA), { self: ALPHA, own: alpha.own, distributionId: '0000abcd' });
  assert.equal(c.status, 'ok');
  assert.equal(c.distributionId, '0000abcd');
  assert.equal(c.sender, BRAVO);
  // The same plaintext sealed again (fresh signature) under the same distid: answered, not requeued.
  const body = encodeMessage(hello(ALPHA));
  const first = await raw(ALPHA, await sealFrom(alpha, body), { distId: '0000beef' });
  const again = await raw(ALPHA, await sealFrom(alpha, body), { distId: '0000beef' });
  assert.deepEqual([first, again, lastRefusal()], [Rcode.NOERROR, Rcode.NOERROR, 'retry']);
  // Same distid, another payload: a new message.
  assert.equal(await raw(ALPHA, await sealFrom(alpha, encodeMessage({ ...hello(ALPHA), time: Date.now() + 1 })), { distId: '0000beef' }), Rcode.NOERROR);
  assert.equal(lastRefusal(), 'accepted');
  await pollUntil('three messages queued', () => queued.length === 3, { timeoutMs: 20_000, intervalMs: 50 });
});

test('gateway: the attack catalogue, each refused with its RCODE and reason, nothing queued', async () => {
  const before = queued.length;
  const good = encodeMessage(hello(ALPHA));
  const cases: [string, () => Promise<number>, number, string][] = [
    ['unknown sender', async () => raw(MALLORY, await sealFrom(mallory, encodeMessage(hello(MALLORY)))), Rcode.REFUSED, 'unknown-sender'],
    ['unknown sender, over UDP, no payload', () => raw(MALLORY, undefined, { udp: true }), Rcode.REFUSED, 'unknown-sender'],
    ['identity inside differs from the QNAME sender', async () => raw(ALPHA, await sealFrom(alpha, encodeMessage(hello(CHARLIE)))), Rcode.REFUSED, 'identity'],
    ['recipient inside is someone else', async () => raw(ALPHA, await sealFrom(alpha, encodeMessage(hello(ALPHA, CHARLIE)))), Rcode.REFUSED, 'identity'],
    ['sender not listed in the zone', async () => raw(CHARLIE, await sealFrom(charlie, encodeMessage(hello(CHARLIE)))), Rcode.REFUSED, 'zone'],
    ['zone not shared', async () => raw(ALPHA, await sealFrom(alpha, encodeMessage(hello(ALPHA, BRAVO, parseName('other.zone.'))))), Rcode.REFUSED, 'zone'],
    ['signed by another key', async () => raw(ALPHA, await sealFrom(mallory, good)), Rcode.REFUSED, 'signature'],
    ['encrypted to another recipient', async () => raw(ALPHA, await sealFrom(alpha, good, { to: charlie.pub })), Rcode.REFUSED, 'decrypt'],
    ['peer_id names another recipient', async () => raw(ALPHA, await sealFrom(alpha, good, { recipient: CHARLIE })), Rcode.REFUSED, 'recipient'],
    ['timestamp outside the window', async () => raw(ALPHA, await sealFrom(alpha, good, { time: Date.now() - 120_000 })), Rcode.REFUSED, 'time'],
    ['malformed JOSE', () => raw(ALPHA, 'bm90IGEgSldT'), Rcode.FORMERR, 'malformed'],
    ['not base64 at all', () => raw(ALPHA, '!!!'), Rcode.FORMERR, 'malformed'],
    ['malformed JSON inside a good envelope', async () => raw(ALPHA, await sealFrom(alpha, new TextEncoder().encode('{"MessageType":'))), Rcode.FORMERR, 'json'],
    ['NOTIFY over UDP', async () => raw(ALPHA, await sealFrom(alpha, good), { udp: true }), Rcode.REFUSED, 'udp'],
    ['plain-text payload', () => raw(ALPHA, new TextDecoder().decode(good), { format: ChunkFormat.JSON }), Rcode.REFUSED, 'plaintext'],
    ['no payload', () => raw(ALPHA, undefined), Rcode.FORMERR, 'no-payload'],
    ['oversize payload', () => raw(ALPHA, 'A'.repeat(60_004)), Rcode.REFUSED, 'oversize'],
    ['bad distribution id', async () => raw(ALPHA, await sealFrom(alpha, good), { distId: 'xyz' }), Rcode.FORMERR, 'qname'],
  ];
  // Tampered ciphertext, re-signed by the real sender: verifies, does not decrypt.
  const jwe = await new CompactEncrypt(good).setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', peer_id: BRAVO, timestamp: new Date().toISOString() }).encrypt(bravo.pub.encrypt);
  const parts = jwe.split('.');
  parts[3] = `${(parts[3] ?? '').startsWith('A') ? 'B' : 'A'}${(parts[3] ?? '').slice(1)}`;
  const tampered = btoa(await new CompactSign(new TextEncoder().encode(parts.join('.'))).setProtectedHeader({ alg: 'ES256' }).sign(alpha.own.sign));
  cases.push(['tampered ciphertext', () => raw(ALPHA, tampered), Rcode.REFUSED, 'decrypt']);
  // An exact replay of a message that was accepted.
  const once = await sealFrom(alpha, encodeMessage({ ...hello(ALPHA), time: Date.now() + 7 }));
  assert.equal(await raw(ALPHA, once, { distId: '00000001' }), Rcode.NOERROR);
  cases.push(['exact replay', () => raw(ALPHA, once, { distId: '00000001' }), Rcode.REFUSED, 'replay']);

  for (const [name, send, rcode, reason] of cases) {
    assert.equal(await send(), rcode, name);
    assert.equal(lastRefusal(), reason, name);
  }
  // Only the one accepted message reached the queue (give a stray one time to show up).
  await pollUntil('the accepted one queued', () => queued.length === before + 1, { timeoutMs: 20_000, intervalMs: 50 });
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(queued.length, before + 1);
});

test('gateway: a confirm that does not verify counts as not delivered', async () => {
  // Encrypted to bravo, but the answer is checked against mallory's signing key: it fails to verify.
  await assert.rejects(sendMessage({ ...toBravo(), keys: { encrypt: bravo.pub.encrypt, verify: mallory.pub.verify } }, hello(ALPHA), { self: ALPHA, own: alpha.own }), (e: unknown) => e instanceof DeliveryError && /confirm refused/.test(e.message));
  // A refusal is not delivered either.
  await assert.rejects(sendMessage(toBravo(), hello(ALPHA, BRAVO, parseName('other.zone.')), { self: ALPHA, own: alpha.own }), (e: unknown) => e instanceof DeliveryError && /rcode 5/.test(e.message));
});
