// signParallel with a SignPool (--threads 2 = this thread plus one worker): Ed25519 batches are
// signed by the worker and this thread together, ECDSA signatures by this thread with nonces the
// worker made; every signature, whichever thread made it or its nonce, verifies.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { nameToWire, parseName } from '../name.ts';
import type { RR } from '../rr.ts';
import { RRType } from '../types.ts';
import { generateKey, KSK_FLAGS, ZSK_FLAGS } from '../dnssec/keys.ts';
import { SignPool } from './sign-pool.ts';
import { SignedZone } from '../dnssec/signer.ts';
import { verifyRrsig } from '../dnssec/verify.ts';
import { pollUntil } from '../../test/support/poll.ts';

const origin = parseName('pool.example.');
const u32 = (n: number): number[] => [n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
const ns1 = nameToWire(parseName('ns1.pool.example.'));

function zone(names: number): RR[] {
  const soa = Uint8Array.from([...ns1, ...ns1, ...u32(1), ...u32(7200), ...u32(3600), ...u32(1209600), ...u32(300)]);
  const records: RR[] = [
    { name: origin, type: RRType.SOA, class: 1, ttl: 3600, rdata: soa },
    { name: origin, type: RRType.NS, class: 1, ttl: 3600, rdata: ns1 },
  ];
  for (let i = 0; i < names; i++) {
    records.push({ name: parseName(`h${i}.pool.example.`), type: RRType.A, class: 1, ttl: 300, rdata: Uint8Array.of(10, 0, i >> 8, i & 0xff) });
  }
  return records;
}

/** Checks every RRSIG of `records` against the RRset it covers; returns how many. */
function verifyAll(records: readonly RR[], dnskeys: readonly Uint8Array[]): number {
  const sets = new Map<string, RR[]>();
  for (const r of records) if (r.type !== RRType.RRSIG) sets.set(`${r.name} ${r.type}`, [...(sets.get(`${r.name} ${r.type}`) ?? []), r]);
  let checked = 0;
  for (const sig of records) {
    if (sig.type !== RRType.RRSIG) continue;
    const covered = ((sig.rdata[0] as number) << 8) | (sig.rdata[1] as number);
    const res = verifyRrsig(sets.get(`${sig.name} ${covered}`) ?? [], sig, dnskeys);
    assert.equal(res.ok, true, `${sig.name} ${covered}: ${JSON.stringify(res)}`);
    checked++;
  }
  return checked;
}

test('signParallel, Ed25519: this thread and the worker both sign batches; every RRSIG verifies', { timeout: 60_000 }, async () => {
  const keys = [generateKey(origin, 15, KSK_FLAGS), generateKey(origin, 15, ZSK_FLAGS)];
  const records = zone(3000);
  const pool = new SignPool(keys, 1);
  assert.equal(pool.nonces, undefined);
  let z: SignedZone;
  let byWorker: number;
  try {
    // Small batches and one batch ahead: preparing is faster than signing, so the worker's
    // queue fills and this thread takes the rest.
    z = await SignedZone.signParallel(records, { origin, keys }, pool, undefined, { batchSize: 16, ahead: 1 });
    byWorker = pool.signed;
  } finally {
    await pool.close();
  }
  const total = z.stats.signatures;
  assert.equal(total, SignedZone.sign(records, { origin, keys }).stats.signatures);
  assert.ok(byWorker > 0, `the worker signed ${byWorker} of ${total}`);
  assert.ok(byWorker < total, `this thread signed ${total - byWorker} of ${total}`);
  assert.equal(verifyAll([...z.records()], z.rrset(origin, RRType.DNSKEY).map((r) => r.rdata)), total);
});

test('signParallel, P-256: this thread signs with the worker\'s nonces; every RRSIG verifies, no nonce twice', { timeout: 60_000 }, async () => {
  const keys = [generateKey(origin, 13, KSK_FLAGS), generateKey(origin, 13, ZSK_FLAGS)];
  const records = zone(3000);
  const pool = new SignPool(keys, 1);
  let z: SignedZone;
  let fromWorker: number;
  try {
    assert.notEqual(pool.nonces, undefined);
    await assert.rejects(pool.signBatch([{ key: keys[0] as (typeof keys)[0], input: new Uint8Array(8) }]), /makes nonces/);
    // Let the worker fill part of its ring, as it does while a zone is read.
    await pollUntil("the worker's first nonces", () => pool.noncesReady() >= 256, { timeoutMs: 30_000 });
    z = await SignedZone.signParallel(records, { origin, keys }, pool);
    fromWorker = pool.noncesTaken;
  } finally {
    await pool.close();
  }
  const total = z.stats.signatures;
  assert.equal(total, SignedZone.sign(records, { origin, keys }).stats.signatures);
  assert.ok(fromWorker > 0, `${fromWorker} of ${total} nonces came from the worker`);
  const all = [...z.records()];
  assert.equal(verifyAll(all, z.rrset(origin, RRType.DNSKEY).map((r) => r.rdata)), total);
  const rs = new Set(all.filter((r) => r.type === RRType.RRSIG).map((r) => Buffer.from(r.rdata.subarray(r.rdata.length - 64, r.rdata.length - 32)).toString('hex')));
  assert.equal(rs.size, total, 'every signature has its own r');
});

test('signParallel onReady (Ed25519 batches): names come out in order and in pieces; together they are records()', { timeout: 60_000 }, async () => {
  for (const denial of [{ kind: 'nsec' as const }, { kind: 'nsec3' as const, iterations: 0, salt: new Uint8Array(0), optOut: false }]) {
    const keys = [generateKey(origin, 15, KSK_FLAGS), generateKey(origin, 15, ZSK_FLAGS)];
    const records = zone(2000);
    const pool = new SignPool(keys, 1);
    const pieces: RR[][] = [];
    let z: SignedZone;
    try {
      z = await SignedZone.signParallel(records, { origin, keys, denial }, pool, undefined, {
        batchSize: 32,
        onReady: (rrs) => {
          const piece = [...rrs];
          // Every RRSIG handed out is finished: it has its signature.
          for (const r of piece) if (r.type === RRType.RRSIG) assert.ok(r.rdata.length > 18 + 64, `${r.name}: RRSIG without signature`);
          pieces.push(piece);
        },
      });
    } finally {
      await pool.close();
    }
    assert.ok(pieces.length > 10, `${denial.kind}: ${pieces.length} pieces`);
    const streamed = pieces.flat();
    assert.deepEqual(streamed, [...z.records()], `${denial.kind}: the pieces are records(), in order`);
    assert.equal(verifyAll(streamed, z.rrset(origin, RRType.DNSKEY).map((r) => r.rdata)), z.stats.signatures);
  }
});

test('a sign pool whose worker dies fails every batch instead of hanging; foreign keys and curves are refused', { timeout: 60_000 }, async () => {
  const keys = [generateKey(origin, 15, KSK_FLAGS), generateKey(origin, 15, ZSK_FLAGS)];
  const pool = new SignPool(keys, 1);
  try {
    const stranger = generateKey(origin, 15, ZSK_FLAGS);
    await assert.rejects(pool.signBatch([{ key: stranger, input: new Uint8Array(8) }]), /not one of this sign pool's keys/);
    // Kill the worker from outside, as a crash would.
    const [worker] = (pool as unknown as { workers: { terminate(): Promise<number> }[] }).workers;
    await worker?.terminate();
    await assert.rejects(pool.signBatch([{ key: keys[1] as (typeof keys)[1], input: new Uint8Array(8) }]), /exited/);
    await assert.rejects(SignedZone.signParallel(zone(200), { origin, keys }, pool), /exited/);
  } finally {
    await pool.close();
  }
  const p256 = [generateKey(origin, 13, ZSK_FLAGS)];
  const p384 = [generateKey(origin, 14, ZSK_FLAGS)];
  const ecPool = new SignPool(p256, 1);
  try {
    assert.equal(ecPool.algorithm, 13);
    await assert.rejects(SignedZone.signParallel(zone(10), { origin, keys: p384 }, ecPool), /sign pool's nonces are for ECDSAP256SHA256/);
  } finally {
    await ecPool.close();
  }
});
