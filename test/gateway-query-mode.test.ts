// Query mode of the gateway transport over loopback TCP: a real sender whose DNS listener serves
// its ChunkStore, a real Receiver on another DnsServer, and a directory that answers with
// promises. A message too large for one NOTIFY is fetched and confirmed; every way a fetch can
// go wrong is REFUSED with its reason, and nothing reaches the deliver callback.
import { strict as assert } from 'node:assert';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import { ChunkStore, chunkBase, chunkQueryHandler, encodeManifest, splitPayload, type ChunkRecord } from '../actors/gateway/chunks.ts';
import { Receiver, CHUNK_QTYPE, replayMaxAgeMs, type Accepted, type Outcome } from '../actors/gateway/receive.ts';
import { DeliveryError, sendMessage, type PeerAddress } from '../actors/gateway/send.ts';
import { createEmbeddedBroker, type Broker } from '../broker/index.ts';
import { encodeChunkQueryEndpoint } from '../dns/edns.ts';
import { parseName, type Fqdn } from '../dns/name.ts';
import { query } from '../dns/net/client.ts';
import { DnsServer } from '../dns/net/server.ts';
import { Opcode, Rcode, RRType } from '../dns/types.ts';
import { ownKeys, peerKeys, seal, type OwnKeys, type PeerKeys } from '../protocol/envelope.ts';
import { encodeMessage, type Message } from '../protocol/messages.ts';

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

let alpha: Party, bravo: Party;
let broker: Broker;
let alphaServer: DnsServer; // alpha's gateway listener: serves alpha's chunks
let bravoServer: DnsServer; // bravo's gateway listener: the Receiver
let decoy: Server; // a listener that is not alpha's endpoint; records connections
let alphaPort = 0;
let bravoPort = 0;
let decoyPort = 0;
let skewMs = 0; // alpha's store clock, moved forward to expire chunks
const alphaStore = new ChunkStore({ now: () => Date.now() + skewMs });
const fetched: string[] = []; // CHUNK queries alpha's listener answered
const decoyConnections: Socket[] = [];
const delivered: Accepted[] = [];
const outcomes: Outcome[] = [];

before(async () => {
  [alpha, bravo] = await Promise.all([party(), party()]);
  broker = createEmbeddedBroker({ namespace: 'bravo' });
  const replay = await broker.kv('gateway', { maxAgeMs: replayMaxAgeMs(60_000) });
  const serveAlpha = chunkQueryHandler(alphaStore);
  alphaServer = new DnsServer({
    address: '127.0.0.1',
    port: 0,
    queryHandlers: new Map([
      [
        RRType.CHUNK,
        (msg, ctx) => {
          fetched.push(msg.question[0]?.name ?? '');
          return serveAlpha(msg, ctx);
        },
      ],
    ]),
  });
  alphaPort = (await alphaServer.start()).port;
  decoy = createServer((s) => {
    decoyConnections.push(s);
    s.destroy();
  });
  await new Promise<void>((r) => decoy.listen(0, '127.0.0.1', r));
  decoyPort = (decoy.address() as { port: number }).port;
  const receiver = new Receiver({
    self: BRAVO,
    own: bravo.own,
    replay,
    peers: {
      // Promises, as from a directory in another process.
      keysOf: (id) => Promise.resolve(id === ALPHA ? alpha.pub : undefined),
      sharesZone: (peer, zone) => Promise.resolve(peer === ALPHA && zone === ZONE),
      endpointOf: (id) => Promise.resolve(id === ALPHA ? { host: parseName('dns.agent.alpha.example.'), port: alphaPort, addresses: ['192.0.2.1', '127.0.0.1'] } : undefined),
    },
    deliver: (a) => {
      delivered.push(a);
      return Promise.resolve(true);
    },
    windowMs: 60_000,
    fetchTimeoutMs: 5_000,
  });
  bravoServer = new DnsServer({
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
  bravoPort = (await bravoServer.start()).port;
});

after(async () => {
  await bravoServer?.stop();
  await alphaServer?.stop();
  await new Promise((r) => decoy?.close(r));
  await broker?.close();
});

const toBravo = (): PeerAddress => ({ identity: BRAVO, keys: bravo.pub, endpoint: { host: BRAVO, port: bravoPort, addresses: ['127.0.0.1'] } });
const queryMode = { chunks: alphaStore, queryEndpoint: '' };
const lastOutcome = (): string => {
  const o = outcomes[outcomes.length - 1];
  return o?.kind === 'refused' ? `${o.reason}: ${o.detail}` : (o?.kind ?? 'none');
};

/** A sync with `n` TXT records: about 90 bytes of plaintext each. */
function bigSync(n: number): Message {
  const records = Array.from({ length: n }, (_, i) => `r${i}.${ZONE} 3600 IN TXT "contribution ${i} ${'x'.repeat(40)}"`);
  return { type: 'sync', originator: ALPHA, recipient: BRAVO, zone: ZONE, operations: [{ operation: 'replace', rrtype: 'TXT', records }], records: {}, nonce: 'n1', time: Date.now() };
}

/** A raw NOTIFY(CHUNK) from `qsender` carrying only option 65005 = `endpoint`. */
async function notify65005(qsender: Fqdn, distId: string, endpoint: string): Promise<number> {
  const r = await query({ address: '127.0.0.1', port: bravoPort }, parseName(`${distId}.${qsender}`), CHUNK_QTYPE, {
    opcode: Opcode.NOTIFY,
    tcp: true,
    udpSize: 4096,
    ednsOptions: [encodeChunkQueryEndpoint(endpoint)],
    timeoutMs: 10_000,
  });
  return r.message.rcode;
}

const sealed = async (m: Message): Promise<Uint8Array> => new TextEncoder().encode(await seal({ body: encodeMessage(m), recipient: BRAVO, time: Date.now(), sender: alpha.own, to: bravo.pub }));
const meta = (distId: string, receiverId: Fqdn = BRAVO) => ({ content: 'sync', distributionId: distId, receiverId, timestamp: Math.floor(Date.now() / 1000) });

test('query mode: a sync too large for one NOTIFY is fetched in chunks, delivered and confirmed', async () => {
  queryMode.queryEndpoint = `127.0.0.1:${alphaPort}`;
  const m = bigSync(2_000);
  const before = { delivered: delivered.length, fetched: fetched.length };
  const c = await sendMessage(toBravo(), m, { self: ALPHA, own: alpha.own, distributionId: '00a11ce0', ...queryMode });
  assert.deepEqual([c.status, c.distributionId, c.sender], ['ok', '00a11ce0', BRAVO]);
  assert.equal(lastOutcome(), 'accepted');
  assert.equal(delivered.length, before.delivered + 1);
  assert.deepEqual(delivered.at(-1)?.message, m);
  // The manifest, then at least 3 chunks of 60 000 bytes, from alpha's listener only.
  const names = fetched.slice(before.fetched);
  assert.ok(names.length >= 4, `fetched ${names.length} names`);
  assert.equal(names[0], `0.${chunkBase(BRAVO, '00a11ce0', ALPHA)}`);
  assert.equal(decoyConnections.length, 0);
  assert.equal(alphaStore.size, 0, 'chunks dropped once the peer answered');
});

test('query mode: a lowered inline limit sends even a hello in many small chunks', async () => {
  const hello: Message = { type: 'hello', sender: ALPHA, recipient: BRAVO, zone: ZONE, time: Date.now() };
  const before = fetched.length;
  const c = await sendMessage(toBravo(), hello, { self: ALPHA, own: alpha.own, ...queryMode, queryEndpoint: `127.0.0.1:${alphaPort}`, inlineLimit: 100, chunkSize: 200 });
  assert.equal(c.status, 'ok');
  assert.deepEqual(delivered.at(-1)?.message, hello);
  assert.ok(fetched.length - before > 5);
});

test('query mode: without a store, a message over the inline limit is not sent', async () => {
  const before = fetched.length + outcomes.length;
  await assert.rejects(sendMessage(toBravo(), bigSync(2_000), { self: ALPHA, own: alpha.own }), (e: unknown) => e instanceof DeliveryError && /envelope of \d+ bytes exceeds the inline limit of 60000/.test(e.message));
  assert.equal(fetched.length + outcomes.length, before);
});

test('query mode: every bad fetch is REFUSED with its reason, and nothing is delivered', async () => {
  const start = delivered.length;
  const at = `127.0.0.1:${alphaPort}`;
  // Chunks that expire: stored, then alpha's clock moves past the TTL.
  const expiring = '0000e0e0';
  const cases: [string, () => Promise<number>, string][] = [
    // 65005 at a listener that is not the sender's endpoint: refused before any connection.
    ['65005 at another port', () => notify65005(ALPHA, '0000dec0', `127.0.0.1:${decoyPort}`), 'fetch'],
    ['65005 at another address', () => notify65005(ALPHA, '0000dec1', `127.0.0.2:${alphaPort}`), 'fetch'],
    ['65005 not host:port', () => notify65005(ALPHA, '0000dec2', 'alpha'), 'fetch'],
    // The sender check still comes first: an unknown sender is refused, nothing fetched.
    ['unknown sender', () => notify65005(MALLORY, '0000dec3', at), 'unknown-sender'],
    ['chunks never stored', () => notify65005(ALPHA, '00000404', at), 'fetch'],
    [
      'chunks expired',
      async () => {
        alphaStore.put(chunkBase(BRAVO, expiring, ALPHA), splitPayload(await sealed(bigSync(10)), meta(expiring)));
        skewMs = 61_000;
        try {
          return await notify65005(ALPHA, expiring, at);
        } finally {
          skewMs = 0;
        }
      },
      'fetch',
    ],
    [
      'a data chunk missing',
      async () => {
        const chunks = splitPayload(await sealed(bigSync(100)), meta('0000c0c0'), 1_000);
        alphaStore.put(chunkBase(BRAVO, '0000c0c0', ALPHA), chunks.slice(0, -1));
        return notify65005(ALPHA, '0000c0c0', at);
      },
      'fetch',
    ],
    [
      'manifest for another receiver',
      async () => {
        alphaStore.put(chunkBase(BRAVO, '0000cafe', ALPHA), splitPayload(await sealed(bigSync(10)), meta('0000cafe', CHARLIE)));
        return notify65005(ALPHA, '0000cafe', at);
      },
      'fetch',
    ],
    [
      'manifest for another distribution',
      async () => {
        alphaStore.put(chunkBase(BRAVO, '0000d00d', ALPHA), splitPayload(await sealed(bigSync(10)), meta('0000beef')));
        return notify65005(ALPHA, '0000d00d', at);
      },
      'fetch',
    ],
    [
      'manifest announcing more than the cap',
      async () => {
        const head: ChunkRecord = { format: 1, hmac: new Uint8Array(0), sequence: 0, total: 20, data: encodeManifest({ chunkCount: 20, chunkSize: 60_000, metadata: meta('00000b16') }) };
        alphaStore.put(chunkBase(BRAVO, '00000b16', ALPHA), [head]);
        return notify65005(ALPHA, '00000b16', at);
      },
      'oversize',
    ],
    [
      'chunks adding up to more than the cap (no chunk_size in the manifest)',
      async () => {
        const n = 18; // 18 × 60 000 > 1 000 000
        const head: ChunkRecord = { format: 1, hmac: new Uint8Array(0), sequence: 0, total: n, data: encodeManifest({ chunkCount: n, chunkSize: 0, metadata: meta('00000b17') }) };
        const data = Array.from({ length: n }, (_, i): ChunkRecord => ({ format: 1, hmac: new Uint8Array(0), sequence: i + 1, total: n, data: new Uint8Array(60_000).fill(0x41) }));
        alphaStore.put(chunkBase(BRAVO, '00000b17', ALPHA), [head, ...data]);
        return notify65005(ALPHA, '00000b17', at);
      },
      'oversize',
    ],
    [
      'fetched payload that is not JOSE: the same checks as inline',
      async () => {
        alphaStore.put(chunkBase(BRAVO, '00000bad', ALPHA), splitPayload(encodeMessage(bigSync(10)), meta('00000bad')));
        return notify65005(ALPHA, '00000bad', at);
      },
      'malformed',
    ],
  ];
  for (const [name, run, reason] of cases) {
    const before = fetched.length;
    const rcode = await run();
    assert.equal(rcode, reason === 'malformed' ? Rcode.FORMERR : Rcode.REFUSED, `${name}: ${lastOutcome()}`);
    assert.equal(lastOutcome().split(':')[0], reason, name);
    if (reason === 'unknown-sender' || name.startsWith('65005')) assert.equal(fetched.length, before, `${name}: nothing fetched`);
  }
  assert.equal(decoyConnections.length, 0, 'the decoy was never contacted');
  assert.equal(delivered.length, start, 'nothing delivered');
});

test('query mode: a fetched envelope replayed under a new distid is an exact replay', async () => {
  const start = delivered.length;
  const at = `127.0.0.1:${alphaPort}`;
  const env = await sealed(bigSync(10));
  alphaStore.put(chunkBase(BRAVO, '00001111', ALPHA), splitPayload(env, meta('00001111'), 500));
  alphaStore.put(chunkBase(BRAVO, '00002222', ALPHA), splitPayload(env, meta('00002222'), 500));
  assert.equal(await notify65005(ALPHA, '00001111', at), Rcode.NOERROR);
  assert.equal(await notify65005(ALPHA, '00002222', at), Rcode.REFUSED);
  assert.equal(lastOutcome().split(':')[0], 'replay');
  assert.equal(delivered.length, start + 1);
});
