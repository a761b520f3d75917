// One changed RRset in a 100,000-RRset zone re-signs that RRset (and the SOA), not the zone:
// counted in signing operations. The zone is signed by the worker pool (2 threads).
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { decodeRrsig, generateKey, SignedZone, verifyRrsig } from '../dns/dnssec/index.ts';
import { SignPool } from '../dns/net/sign-pool.ts';
import { nameToWire, parseName } from '../dns/name.ts';
import type { RR } from '../dns/rr.ts';
import { RRType } from '../dns/types.ts';

const origin = parseName('big.example.');
const cat = (...p: Uint8Array[]): Uint8Array => Uint8Array.from(p.flatMap((x) => [...x]));
const u32 = (n: number): Uint8Array => Uint8Array.of(n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
const soa = (serial: number): RR => ({
  name: origin,
  type: RRType.SOA,
  class: 1,
  ttl: 3600,
  rdata: cat(nameToWire(parseName('ns1.big.example.')), nameToWire(parseName('h.big.example.')), u32(serial), u32(7200), u32(3600), u32(1209600), u32(300)),
});
const a = (i: number, last: number): RR => ({ name: parseName(`h${i}.big.example.`), type: RRType.A, class: 1, ttl: 3600, rdata: Uint8Array.of(10, (i >> 8) & 0xff, i & 0xff, last) });
const txt = (i: number): RR => ({ name: parseName(`h${i}.big.example.`), type: RRType.TXT, class: 1, ttl: 3600, rdata: cat(Uint8Array.of(4), Buffer.from(`t${i % 1000}`.padEnd(4, 'x').slice(0, 4))) });

test('one changed RRset in a 100,000-RRset zone re-signs 2 RRsets, not the zone', { timeout: 180_000 }, async () => {
  const records: RR[] = [soa(1), { name: origin, type: RRType.NS, class: 1, ttl: 3600, rdata: nameToWire(parseName('ns1.big.example.')) }];
  for (let i = 0; i < 50_000; i++) records.push(a(i, 1), txt(i));
  const csk = generateKey(origin, 15, 257);
  const pool = new SignPool([csk], 2);
  let z: SignedZone;
  try {
    z = await SignedZone.signParallel(records, { origin, keys: [csk] }, pool);
  } finally {
    await pool.close();
  }
  const full = z.stats.signatures;
  assert.ok(full > 150_000, `full signing made ${full} signatures`);

  // The work done is the count of signatures made; its speed is bench:sign's (incremental figure).
  const st = z.apply({ removed: [soa(1), a(4242, 1)], added: [soa(2), a(4242, 2)] });
  assert.deepEqual(st, { signatures: 2, rrsets: 2 }, 'SOA and the changed A RRset only');

  const name = parseName('h4242.big.example.');
  const sig = z.rrsigs(name, RRType.A)[0];
  assert.ok(sig !== undefined);
  assert.ok(verifyRrsig(z.rrset(name, RRType.A), sig, [csk.dnskey]).ok);
  assert.equal(z.rrset(name, RRType.A)[0]?.rdata[3], 2);
  // Signatures made by the workers verify too.
  const other = parseName('h31337.big.example.');
  const wsig = z.rrsigs(other, RRType.TXT)[0];
  assert.ok(wsig !== undefined && decodeRrsig(wsig.rdata).keyTag === csk.keyTag);
  assert.ok(verifyRrsig(z.rrset(other, RRType.TXT), wsig, [csk.dnskey]).ok);

  // A new name costs its RRset, its NSEC, its predecessor's NSEC and the SOA.
  const st2 = z.apply({ removed: [soa(2)], added: [soa(3), a(99_999, 9)] });
  assert.deepEqual(st2, { signatures: 4, rrsets: 4 });
});
