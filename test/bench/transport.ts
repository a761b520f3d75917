// bench:transport — inter-provider messages through one gateway pair on loopback: the sender
// seals (JWE to the peer, JWS), sends NOTIFY(CHUNK) over TCP; the receiver verifies, records the
// replay key in JetStream KV, decrypts, parses, queues the message for its agent on JetStream and
// answers with a sealed confirm, which the sender verifies and opens. The reference, in the same
// run: the same JOSE work alone (both envelopes sealed, verified and opened, no network, no
// broker). cryptoRatio = gateway rate / bare rate (target >= 0.6). Then, in the lab with every
// role its own process on nats-server (`--nats URL --processes`, validating Unbound when
// installed): the owner adds a fourth provider to HSYNC (zone file edit + SIGHUP to the primary)
// and operationalMs is the time from the SIGHUP to the `since` of that provider's OPERATIONAL
// state at a peer (requirement: under 1 s), median of --lab-rounds additions (each round adds the
// provider, then removes it again); operationalInProcessMs the same with the lab in one process
// on the embedded broker. `--json` ends with one JSON object.
import { exportJWK, generateKeyPair } from 'jose';
import { Receiver, CHUNK_QTYPE, deliveryId, replayMaxAgeMs } from '../../actors/gateway/receive.ts';
import { Connections, sendMessage, type PeerAddress } from '../../actors/gateway/send.ts';
import { createJetStreamBroker, encode, Subjects } from '../../broker/index.ts';
import { parseName } from '../../dns/name.ts';
import { DnsServer } from '../../dns/net/server.ts';
import { checkRecipient, checkTime, openEnvelope, ownKeys, peerKeys, seal, verifyEnvelope, type OwnKeys, type PeerKeys } from '../../protocol/envelope.ts';
import { decodeMessage, encodeMessage, type Message } from '../../protocol/messages.ts';
import { writeFile } from 'node:fs/promises';
import pino from 'pino';
import { DEFAULT_LAB, ownerZoneText, startLab, type LabConfig } from '../../actors/lab/lab.ts';
import { log, numberArg, printJson, printTable, round3, wantsJson } from '../support/bench.ts';
import { tmpDir } from '../support/tmp.ts';
import { startNatsServer } from '../support/nats.ts';
import { pollUntil } from '../support/poll.ts';

const json = wantsJson();
const LAB_ROUNDS = numberArg('--lab-rounds', 3);
const N = numberArg('--messages', 2000);
const CONCURRENCY = numberArg('--concurrency', 8);
const ALPHA = parseName('agent.alpha.example.');
const BRAVO = parseName('agent.bravo.example.');
const ZONE = parseName('customer.zone.');

async function party(): Promise<{ own: OwnKeys; pub: PeerKeys }> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const priv = await exportJWK(privateKey);
  const { d: _d, ...pub } = priv;
  return { own: await ownKeys(priv), pub: await peerKeys(pub) };
}

/** Runs `one(i)` for i < n with `c` in flight; returns wall ms and each call's latency. */
async function run(n: number, c: number, one: (i: number) => Promise<void>): Promise<{ ms: number; lat: number[] }> {
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: c }, async () => {
      for (let i = next++; i < n; i = next++) {
        const s = performance.now();
        await one(i);
        lat.push(performance.now() - s);
      }
    }),
  );
  return { ms: performance.now() - t0, lat };
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};

const beat = (i: number): Message => ({ type: 'beat', sender: ALPHA, recipient: BRAVO, interval: 15, zones: [ZONE], time: Date.now() + i });

/**
 * SIGHUP (owner adds delta) → delta OPERATIONAL at alpha, ms, for each round; with `processes`,
 * in `mpdns lab --nats URL --processes` (every role its own process, on a nats-server of its
 * own), else in one process on the embedded broker.
 */
async function operationalTimes(rounds: number, processes: boolean): Promise<{ times: number[]; validating: boolean }> {
  const delta = { label: 'delta', identity: 'agent.delta.test.', nameservers: ['ns1.delta.test.'], upstream: 'owner', signs: false };
  const config: LabConfig = { zones: DEFAULT_LAB.zones, providers: [...DEFAULT_LAB.providers, delta] };
  const zone = config.zones[0];
  if (zone === undefined) throw new Error('no zone');
  const dir = await tmpDir('mpdns-bench-lab-');
  const labNats = processes ? await startNatsServer() : undefined;
  const lab = await startLab({ dir: dir.path, config, beatSeconds: 1, logger: pino({ level: 'silent' }), ...(labNats !== undefined ? { nats: labNats.url, processes: true } : {}) });
  const file = lab.json.owner.zones[zone.name] ?? '';
  const stateOf = async (viewer: string, peer: string): Promise<{ state: string; since: string } | undefined> => (await lab.peers(viewer))?.find((v) => v.label === peer);
  const until = (what: string, check: () => Promise<boolean>): Promise<unknown> => pollUntil(what, check, { timeoutMs: 60_000, intervalMs: 20 });
  const times: number[] = [];
  try {
    let serial = 1;
    await until('alpha sees bravo OPERATIONAL', async () => (await stateOf('alpha', 'bravo'))?.state === 'OPERATIONAL');
    for (let i = 0; i < rounds; i++) {
      await writeFile(file, ownerZoneText({ ...zone, hsync: [...zone.hsync, 'delta'], servers: [...zone.servers, 'delta'] }, config.providers, ++serial));
      const sighupAt = Date.now();
      process.kill(lab.json.owner.pid, 'SIGHUP');
      await until('delta OPERATIONAL at alpha', async () => (await stateOf('alpha', 'delta'))?.state === 'OPERATIONAL');
      times.push(Date.parse((await stateOf('alpha', 'delta'))?.since ?? '') - sighupAt);
      log(`lab${processes ? ' --processes' : ''} round ${i + 1}: delta OPERATIONAL at alpha ${times[times.length - 1]} ms after the SIGHUP`);
      await writeFile(file, ownerZoneText(zone, config.providers, ++serial));
      process.kill(lab.json.owner.pid, 'SIGHUP');
      await until('delta retired at alpha', async () => [undefined, 'RETIRED'].includes((await stateOf('alpha', 'delta'))?.state));
    }
    return { times, validating: lab.json.resolver.validating };
  } finally {
    await lab.stop();
    await labNats?.stop();
    await dir.remove();
  }
}

const median = (xs: readonly number[]): number | null => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? null;

const [alpha, bravo] = await Promise.all([party(), party()]);
const nats = await startNatsServer();
const broker = await createJetStreamBroker({ servers: nats.url, namespace: 'bench' });
const subjects = new Subjects('bench');
const receiver = new Receiver({
  self: BRAVO,
  own: bravo.own,
  replay: await broker.kv('gateway', { maxAgeMs: replayMaxAgeMs() }),
  peers: { keysOf: (id) => (id === ALPHA ? alpha.pub : undefined), sharesZone: () => true, endpointOf: () => undefined },
  deliver: async (a) => !(await broker.publish(subjects.work('agent', a.sender), encode(a), { msgId: deliveryId(a) })).duplicate,
});
const server = new DnsServer({ address: '127.0.0.1', port: 0, notifyHandlers: new Map([[CHUNK_QTYPE, async (m, ctx) => (await receiver.handle(m, ctx)).reply]]) });
const { port } = await server.start();
const connections = new Connections();
const peer: PeerAddress = { identity: BRAVO, keys: bravo.pub, endpoint: { host: BRAVO, port, addresses: ['127.0.0.1'] } };

try {
  // The JOSE work of one exchange, without network or broker.
  const bareOne = async (i: number): Promise<void> => {
    const now = Date.now();
    const v = await verifyEnvelope(await seal({ body: encodeMessage(beat(i)), recipient: BRAVO, time: now, sender: alpha.own, to: bravo.pub }), alpha.pub);
    checkTime(v, now, 300_000);
    checkRecipient(v, BRAVO);
    decodeMessage(await openEnvelope(v, bravo.own));
    const confirm = encodeMessage({ type: 'confirm', sender: BRAVO, zone: undefined, distributionId: '00000000', nonce: '', status: 'ok', message: 'received', applied: [], removed: [], ignored: [], rejected: [], truncated: false, appliedCount: 0, removedCount: 0, ignoredCount: 0, rejectedCount: 0, time: now });
    const w = await verifyEnvelope(await seal({ body: confirm, recipient: ALPHA, time: now, sender: bravo.own, to: alpha.pub }), bravo.pub);
    decodeMessage(await openEnvelope(w, alpha.own));
  };
  const gatewayOne = async (i: number): Promise<void> => {
    const c = await sendMessage(peer, beat(i), { self: ALPHA, own: alpha.own, connections });
    if (c.status !== 'ok') throw new Error(`confirm status ${c.status}`);
  };
  log('warming up');
  await run(100, CONCURRENCY, bareOne);
  await run(100, CONCURRENCY, gatewayOne);
  // Interleave two rounds of each so that load on the shared machine falls on both alike.
  const bare: number[] = [];
  const gw: number[] = [];
  const lat: number[] = [];
  for (let round = 0; round < 2; round++) {
    log(`round ${round + 1}: bare JOSE`);
    bare.push((await run(N / 2, CONCURRENCY, bareOne)).ms);
    log(`round ${round + 1}: gateway pair`);
    const g = await run(N / 2, CONCURRENCY, gatewayOne);
    gw.push(g.ms);
    lat.push(...g.lat);
  }
  const bareRate = N / (bare.reduce((a, b) => a + b, 0) / 1000);
  const gwRate = N / (gw.reduce((a, b) => a + b, 0) / 1000);
  const cryptoRatio = gwRate / bareRate;
  log('lab --nats --processes: a fourth provider added by the owner');
  const lab = await operationalTimes(LAB_ROUNDS, true);
  const operationalMs = median(lab.times);
  log('lab in one process: the same');
  const inProcess = await operationalTimes(LAB_ROUNDS, false);
  const operationalInProcessMs = median(inProcess.times);
  printTable([
    ['measure', 'messages/s', 'p50 ms', 'p99 ms'],
    ['bare JOSE (both envelopes)', bareRate.toFixed(0), '', ''],
    ['gateway pair (TCP, JetStream KV + queue)', gwRate.toFixed(0), pct(lat, 50).toFixed(2), pct(lat, 99).toFixed(2)],
    ['cryptoRatio (target >= 0.6)', cryptoRatio.toFixed(2), '', ''],
    [`lab --nats --processes: SIGHUP → OPERATIONAL at a peer, median ms${lab.validating ? '' : ' (INSECURE)'} (target < 1000)`, String(operationalMs), '', ''],
    [`lab in one process (embedded broker): the same, median ms`, String(operationalInProcessMs), '', ''],
  ]);
  printJson(json, {
    messages: N,
    concurrency: CONCURRENCY,
    bareMessagesPerSec: Math.round(bareRate),
    messagesPerSec: Math.round(gwRate),
    p50Ms: round3(pct(lat, 50)),
    p99Ms: round3(pct(lat, 99)),
    cryptoRatio: round3(cryptoRatio),
    operationalMs,
    operationalRoundsMs: lab.times,
    operationalInProcessMs,
    operationalInProcessRoundsMs: inProcess.times,
    labValidating: lab.validating,
  });
} finally {
  connections.close();
  await server.stop();
  await broker.close();
  await nats.stop();
}
