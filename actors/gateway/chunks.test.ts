// Query mode's pieces: the manifest against test/vectors/chunk-manifest.json, the split, the
// store's expiry and bound, and the QUERY handler and fetch over loopback TCP.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { parseName } from '../../dns/name.ts';
import { query } from '../../dns/net/client.ts';
import { DnsServer } from '../../dns/net/server.ts';
import { encodeRdata } from '../../dns/rdata/index.ts';
import { Rcode, RRType } from '../../dns/types.ts';
import { ChunkError, ChunkStore, ChunkStoreFullError, chunkBase, chunkOwner, chunkQueryHandler, decodeManifest, encodeManifest, fetchChunks, parseQueryEndpoint, splitPayload, type Manifest } from './chunks.ts';

interface Vectors {
  vectors: { name: string; wire: string; manifest: Omit<Manifest, 'payload'> & { payload?: string }; rdata?: string }[];
  invalid: { name: string; wire: string }[];
}
const file = JSON.parse(readFileSync(new URL('../../test/vectors/chunk-manifest.json', import.meta.url), 'utf8')) as Vectors;
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const ALPHA = parseName('agent.alpha.example.');
const BRAVO = parseName('agent.bravo.example.');
const meta = { content: 'sync', distributionId: '0badc0de', receiverId: BRAVO, timestamp: 1796385600 };

test('chunks: manifest vectors decode, and encode byte-exact', () => {
  for (const v of file.vectors) {
    const { payload, ...rest } = v.manifest;
    const want: Manifest = { ...rest, ...(payload !== undefined ? { payload: new Uint8Array(Buffer.from(payload, 'base64')) } : {}) };
    assert.deepEqual(decodeManifest(bytes(v.wire)), want, v.name);
    assert.equal(new TextDecoder().decode(encodeManifest(want)), v.wire, v.name);
    if (v.rdata !== undefined) {
      const [head] = splitPayload(new Uint8Array(60_001), meta);
      assert.equal(Buffer.from(encodeRdata('CHUNK', head!)).toString('hex'), v.rdata, v.name);
    }
  }
  for (const v of file.invalid) assert.throws(() => decodeManifest(bytes(v.wire)), ChunkError, v.name);
});

test('chunks: a payload splits into a manifest and consecutive slices', () => {
  const payload = bytes('x'.repeat(25));
  const cs = splitPayload(payload, meta, 10);
  assert.deepEqual(cs.map((c) => [c.sequence, c.total, c.data.length]), [[0, 3, cs[0]!.data.length], [1, 3, 10], [2, 3, 10], [3, 3, 5]]);
  assert.deepEqual(decodeManifest(cs[0]!.data), { chunkCount: 3, chunkSize: 10, metadata: meta });
  assert.equal(chunkOwner(2, chunkBase(BRAVO, '0badc0de', ALPHA)), '2.agent.bravo.example.0badc0de.agent.alpha.example.');
});

test('chunks: the store expires distributions after the TTL and keeps to its bound', () => {
  let now = 1_000;
  const store = new ChunkStore({ ttlMs: 60_000, maxBytes: 500, now: () => now });
  const a = chunkBase(BRAVO, '0000000a', ALPHA);
  const b = chunkBase(BRAVO, '0000000b', ALPHA);
  store.put(a, splitPayload(new Uint8Array(200), meta, 100)); // ~150 bytes of manifest + 200
  assert.equal(store.get(chunkOwner(1, a))?.sequence, 1);
  assert.equal(store.get(chunkOwner(3, a)), undefined);
  assert.equal(store.get(parseName(`x.${a}`)), undefined);
  now += 30_000;
  store.put(b, splitPayload(new Uint8Array(200), meta, 100)); // does not fit beside a: a goes
  assert.equal(store.get(chunkOwner(0, a)), undefined);
  assert.equal(store.get(chunkOwner(2, b))?.data.length, 100);
  assert.equal(store.size, 1);
  now += 60_000;
  assert.equal(store.get(chunkOwner(2, b)), undefined);
  assert.equal(store.size, 0);
  assert.equal(store.bytes, 0);
  assert.throws(() => store.put(a, splitPayload(new Uint8Array(600), meta, 100)), ChunkStoreFullError);
});

test('chunks: option 65005 parses host:port and [v6]:port', () => {
  assert.deepEqual(parseQueryEndpoint(bytes('192.0.2.1:5353')), { host: '192.0.2.1', port: 5353 });
  assert.deepEqual(parseQueryEndpoint(bytes('[2001:db8::1]:53')), { host: '2001:db8::1', port: 53 });
  assert.deepEqual(parseQueryEndpoint(bytes('2001:db8::1:53')), { host: '2001:db8::1', port: 53 });
  for (const bad of ['192.0.2.1', '192.0.2.1:0', '192.0.2.1:70000', 'a b:53', '']) assert.equal(parseQueryEndpoint(bytes(bad)), undefined, bad);
});

let server: DnsServer;
let port = 0;
const store = new ChunkStore();
before(async () => {
  server = new DnsServer({ address: '127.0.0.1', port: 0, queryHandlers: new Map([[RRType.CHUNK, chunkQueryHandler(store)]]) });
  port = (await server.start()).port;
});
after(async () => {
  await server.stop();
});

test('chunks: served over TCP (REFUSED over UDP, NXDOMAIN when not held) and fetched whole', async () => {
  const base = chunkBase(BRAVO, '0badc0de', ALPHA);
  const payload = new Uint8Array(Buffer.from('y'.repeat(2_500)));
  store.put(base, splitPayload(payload, meta, 1_000));
  const srv = { address: '127.0.0.1', port };
  assert.equal((await query(srv, chunkOwner(1, base), RRType.CHUNK, { attempts: 1 })).message.rcode, Rcode.REFUSED);
  const tcp = await query(srv, chunkOwner(1, base), RRType.CHUNK, { tcp: true });
  assert.deepEqual([tcp.message.rcode, tcp.message.answer[0]?.ttl], [Rcode.NOERROR, 60]);
  assert.equal((await query(srv, chunkOwner(9, base), RRType.CHUNK, { tcp: true })).message.rcode, Rcode.NXDOMAIN);
  const got = await fetchChunks(srv, base, { timeoutMs: 5_000, maxBytes: 1_000_000, distributionId: '0badc0de', receiver: BRAVO });
  assert.deepEqual(new Uint8Array(got), payload);
  await assert.rejects(fetchChunks(srv, base, { timeoutMs: 5_000, maxBytes: 2_000, distributionId: '0badc0de', receiver: BRAVO }), (e: unknown) => e instanceof ChunkError && e.kind === 'oversize');
  await assert.rejects(fetchChunks(srv, base, { timeoutMs: 5_000, maxBytes: 1_000_000, distributionId: '0badc0de', receiver: ALPHA }), (e: unknown) => e instanceof ChunkError && e.kind === 'fetch' && /receiver/.test(e.message));
  await assert.rejects(fetchChunks(srv, chunkBase(BRAVO, '00000000', ALPHA), { timeoutMs: 5_000, maxBytes: 1_000_000, distributionId: '00000000', receiver: BRAVO }), (e: unknown) => e instanceof ChunkError && /rcode 3/.test(e.message));
});
