// signParallel: the calling thread signs alongside the workers (--threads 2 = this thread plus
// one worker), and every signature, whichever thread made it, verifies.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { nameToWire, parseName } from '../name.ts';
import type { RR } from '../rr.ts';
import { RRType } from '../types.ts';
import { generateKey, KSK_FLAGS, ZSK_FLAGS } from '../dnssec/keys.ts';
import { SignPool } from './sign-pool.ts';
import { SignedZone } from '../dnssec/signer.ts';
import { verifyRrsig } from '../dnssec/verify.ts';

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

test('signParallel: this thread and the worker both sign; every RRSIG verifies (P-256)', { timeout: 60_000 }, async () => {
  const keys = [generateKey(origin, 13, KSK_FLAGS), generateKey(origin, 13, ZSK_FLAGS)];
  const records = zone(3000);
  const pool = new SignPool(keys, 1);
  let z: SignedZone;
  let byWorker: number;
  try {
    // Small batches and one batch ahead: preparing is faster than signing, so the worker's
    // queue fills and this thread takes the surplus.
    z = await SignedZone.signParallel(records, { origin, keys }, pool, undefined, { batchSize: 16, ahead: 1 });
    byWorker = pool.signed;
  } finally {
    await pool.close();
  }
  const total = z.stats.signatures;
  assert.equal(total, SignedZone.sign(records, { origin, keys }).stats.signatures);
  assert.ok(byWorker > 0, `the worker signed ${byWorker} of ${total}`);
  assert.ok(byWorker < total, `this thread signed ${total - byWorker} of ${total}`);
  const dnskeys = z.rrset(origin, RRType.DNSKEY).map((r) => r.rdata);
  const sets = new Map<string, RR[]>();
  const sigs: RR[] = [];
  for (const r of z.records()) {
    if (r.type === RRType.RRSIG) sigs.push(r);
    else sets.set(`${r.name} ${r.type}`, [...(sets.get(`${r.name} ${r.type}`) ?? []), r]);
  }
  let checked = 0;
  for (const sig of sigs) {
    const covered = ((sig.rdata[0] as number) << 8) | (sig.rdata[1] as number);
    const set = sets.get(`${sig.name} ${covered}`) ?? [];
    const res = verifyRrsig(set, sig, dnskeys);
    assert.equal(res.ok, true, `${sig.name} ${covered}: ${JSON.stringify(res)}`);
    checked++;
  }
  assert.equal(checked, total);
});

test('signParallel onReady: names come out in order and in pieces; together they are records()', { timeout: 60_000 }, async () => {
  for (const denial of [{ kind: 'nsec' as const }, { kind: 'nsec3' as const, iterations: 0, salt: new Uint8Array(0), optOut: false }]) {
    const keys = [generateKey(origin, 13, KSK_FLAGS), generateKey(origin, 13, ZSK_FLAGS)];
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
    const dnskeys = z.rrset(origin, RRType.DNSKEY).map((r) => r.rdata);
    const sets = new Map<string, RR[]>();
    for (const r of streamed) if (r.type !== RRType.RRSIG) sets.set(`${r.name} ${r.type}`, [...(sets.get(`${r.name} ${r.type}`) ?? []), r]);
    let checked = 0;
    for (const sig of streamed) {
      if (sig.type !== RRType.RRSIG) continue;
      const covered = ((sig.rdata[0] as number) << 8) | (sig.rdata[1] as number);
      assert.equal(verifyRrsig(sets.get(`${sig.name} ${covered}`) ?? [], sig, dnskeys).ok, true, `${denial.kind} ${sig.name} ${covered}`);
      checked++;
    }
    assert.equal(checked, z.stats.signatures);
  }
});
