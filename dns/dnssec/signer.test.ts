import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { parseName } from '../name.ts';
import type { RR } from '../rr.ts';
import { RRType } from '../types.ts';
import { CDS_DELETE, dsFromDnskey } from './ds.ts';
import { SignError } from './errors.ts';
import { generateKey } from './keys.ts';
import { decodeNsec } from './nsec.ts';
import { decodeNsec3 } from './nsec3.ts';
import { decodeRrsig } from './rrsig.ts';
import { SignedZone, type Denial } from './signer.ts';
import { verifyRrsig } from './verify.ts';
import { a, cat, ns, rr, soa, txt, u16 } from '../../test/support/records.ts';

const origin = parseName('example.');
const NOW = 1_800_000_000;

function baseZone(): RR[] {
  return [
    soa(1),
    ns('example.', 'ns1.example.'),
    a('ns1.example.', '192.0.2.1'),
    a('www.example.', '192.0.2.2'),
    a('a.b.c.example.', '192.0.2.3'),
    txt('*.w.example.', 'wild'),
    ns('sub.example.', 'ns.sub.example.'),
    a('ns.sub.example.', '192.0.2.9'),
    ns('sec.example.', 'ns.other.'),
    rr('sec.example.', RRType.DS, cat(u16(1), Uint8Array.of(15, 2), new Uint8Array(32))),
  ];
}

/** Groups the signed zone, checks every RRSIG, returns what it saw. */
function audit(z: SignedZone): { signed: Set<string>; sigKeys: Map<string, number[]>; all: RR[] } {
  const all = [...z.records()];
  const dnskeys = all.filter((r) => r.type === RRType.DNSKEY).map((r) => r.rdata);
  const sets = new Map<string, RR[]>();
  const sigs = new Map<string, RR[]>();
  for (const r of all) {
    if (r.type === RRType.RRSIG) {
      const k = `${r.name}/${decodeRrsig(r.rdata).typeCovered}`;
      sigs.set(k, [...(sigs.get(k) ?? []), r]);
    } else {
      const k = `${r.name}/${r.type}`;
      sets.set(k, [...(sets.get(k) ?? []), r]);
    }
  }
  const sigKeys = new Map<string, number[]>();
  for (const [k, list] of sigs) {
    const set = sets.get(k);
    assert.ok(set !== undefined, `RRSIG without RRset at ${k}`);
    for (const s of list) {
      const res = verifyRrsig(set, s, dnskeys, NOW);
      assert.ok(res.ok, `${k}: ${JSON.stringify(res)}`);
    }
    sigKeys.set(k, list.map((s) => decodeRrsig(s.rdata).keyTag));
  }
  return { signed: new Set(sigs.keys()), sigKeys, all };
}

for (const denial of [{ kind: 'nsec' }, { kind: 'nsec3', iterations: 0, salt: new Uint8Array(0), optOut: false }] as Denial[]) {
  test(`${denial.kind}: cuts, glue, occluded names, wildcard, KSK/ZSK split, foreign keys`, { timeout: 10_000 }, () => {
    const ksk = generateKey(origin, 15, 257);
    const zsk = generateKey(origin, 15, 256);
    const foreign = generateKey(origin, 15, 256);
    const z = SignedZone.sign(baseZone(), { origin, keys: [ksk, zsk], foreignDnskeys: [foreign.dnskey], denial }, NOW);
    const { signed, sigKeys, all } = audit(z);
    assert.deepEqual(sigKeys.get(`example./${RRType.DNSKEY}`), [ksk.keyTag]);
    assert.deepEqual(sigKeys.get(`example./${RRType.SOA}`), [zsk.keyTag]);
    assert.equal(all.filter((r) => r.type === RRType.DNSKEY).length, 3);
    assert.ok(![...sigKeys.values()].flat().includes(foreign.keyTag), 'foreign key never signs');
    assert.ok(!signed.has(`sub.example./${RRType.NS}`), 'delegation NS unsigned');
    assert.ok(!signed.has(`ns.sub.example./${RRType.A}`), 'glue unsigned');
    assert.ok(signed.has(`sec.example./${RRType.DS}`), 'DS signed');
    assert.ok(!signed.has(`sec.example./${RRType.NS}`));
    const wild = all.find((r) => r.type === RRType.RRSIG && r.name === '*.w.example.');
    assert.equal(wild === undefined ? -1 : decodeRrsig(wild.rdata).labels, 2);
    if (denial.kind === 'nsec') {
      const chain = all.filter((r) => r.type === RRType.NSEC);
      assert.deepEqual(
        chain.map((r) => r.name),
        ['example.', 'a.b.c.example.', 'ns1.example.', 'sec.example.', 'sub.example.', '*.w.example.', 'www.example.'],
      );
      assert.equal(decodeNsec(chain[chain.length - 1]?.rdata ?? new Uint8Array()).next, 'example.');
      assert.deepEqual(decodeNsec(chain[4]?.rdata ?? new Uint8Array()).types, [RRType.NS, RRType.RRSIG, RRType.NSEC]);
      assert.ok(chain.every((r) => r.ttl === 300), 'NSEC TTL is min(SOA TTL, minimum)');
    } else {
      // apex, ENTs b.c and c, a.b.c, ns1, sec, sub, w (ENT), *.w, www: 10 hashes.
      const chain = all.filter((r) => r.type === RRType.NSEC3);
      assert.equal(chain.length, 10);
      const types = chain.map((r) => decodeNsec3(r.rdata).types);
      assert.equal(types.filter((t) => t.length === 0).length, 3, 'three ENTs');
      assert.ok(all.some((r) => r.type === RRType.NSEC3PARAM));
    }
  });
}

test('CDS and CDNSKEY (and the RFC 8078 delete signal) are signed by the KSK only', { timeout: 10_000 }, () => {
  const ksk = generateKey(origin, 15, 257);
  const zsk = generateKey(origin, 15, 256);
  const z = SignedZone.sign(
    [...baseZone(), rr('example.', RRType.CDS, dsFromDnskey(origin, ksk.dnskey)), rr('example.', RRType.CDNSKEY, ksk.dnskey), rr('example.', RRType.CDS, CDS_DELETE)],
    { origin, keys: [ksk, zsk] },
    NOW,
  );
  const { sigKeys } = audit(z);
  assert.deepEqual(sigKeys.get(`example./${RRType.CDS}`), [ksk.keyTag]);
  assert.deepEqual(sigKeys.get(`example./${RRType.CDNSKEY}`), [ksk.keyTag]);
  assert.deepEqual(sigKeys.get(`example./${RRType.NS}`), [zsk.keyTag]);
});

test('CSK mode: one SEP key signs everything; P-256', { timeout: 10_000 }, () => {
  const csk = generateKey(origin, 13, 257);
  const z = SignedZone.sign(baseZone(), { origin, keys: [csk] }, NOW);
  const { sigKeys } = audit(z);
  assert.ok([...sigKeys.values()].every((tags) => tags.length === 1 && tags[0] === csk.keyTag));
});

test('bad input: foreign key of another algorithm, no SOA, records outside the zone, wrong zone key', { timeout: 10_000 }, () => {
  const k = generateKey(origin, 15, 257);
  const p256 = generateKey(origin, 13, 256);
  assert.throws(() => SignedZone.sign(baseZone(), { origin, keys: [k], foreignDnskeys: [p256.dnskey] }), /foreign DNSKEY [0-9]+ uses algorithm ECDSAP256SHA256 .*RFC 4035 §2\.2/);
  assert.throws(() => SignedZone.sign(baseZone().slice(1), { origin, keys: [k] }), /has no SOA/);
  assert.throws(() => SignedZone.sign([...baseZone(), a('www.other.', '192.0.2.1')], { origin, keys: [k] }), /outside the zone example\.: www\.other\. A/);
  const other = generateKey(parseName('other.'), 15, 257);
  assert.throws(() => SignedZone.sign(baseZone(), { origin, keys: [other] }), SignError);
});

test('incremental: a changed RRset re-signs only it, its NSEC neighbours and the SOA', { timeout: 10_000 }, () => {
  const keys = [generateKey(origin, 15, 257), generateKey(origin, 15, 256)];
  const z = SignedZone.sign(baseZone(), { origin, keys }, NOW);
  let st = z.apply({ removed: [soa(1), a('www.example.', '192.0.2.2')], added: [soa(2), a('www.example.', '192.0.2.3')] }, NOW);
  assert.deepEqual(st, { signatures: 2, rrsets: 2 });
  st = z.apply({ removed: [soa(2)], added: [soa(3), a('new.example.', '192.0.2.4')] }, NOW);
  assert.deepEqual(st, { signatures: 4, rrsets: 4 }, 'SOA, new A, new NSEC, predecessor NSEC');
  const { all } = audit(z);
  assert.ok(all.some((r) => r.type === RRType.NSEC && r.name === 'new.example.'));
  st = z.apply({ removed: [soa(3)], added: [soa(4), ns('c.example.', 'ns.other.')] }, NOW);
  const after = audit(z);
  assert.ok(!after.signed.has(`a.b.c.example./${RRType.A}`), 'newly occluded name loses its signature');
  assert.ok(!after.all.some((r) => r.type === RRType.NSEC && r.name === 'a.b.c.example.'));
  assert.deepEqual(z.apply({ removed: [], added: [] }, NOW), { signatures: 0, rrsets: 0 });
});

test('refresh re-signs only signatures inside the refresh window', { timeout: 10_000 }, () => {
  const keys = [generateKey(origin, 15, 257)];
  const z = SignedZone.sign(baseZone(), { origin, keys, policy: { inceptionOffset: -3600, validity: 14 * 86400, jitter: 86400, seed: 1 } }, NOW);
  const total = z.stats.signatures;
  assert.equal(z.refresh(NOW + 86400).signatures, 0);
  const st = z.refresh(NOW + 11 * 86400);
  assert.equal(st.signatures, total);
  assert.equal(z.refresh(NOW + 11 * 86400).signatures, 0);
  for (const r of z.records()) {
    if (r.type === RRType.RRSIG) assert.ok(decodeRrsig(r.rdata).expiration > NOW + 20 * 86400);
  }
});

test('jitter is deterministic per RRset for a seed', { timeout: 10_000 }, () => {
  const keys = [generateKey(origin, 15, 257)];
  const exp = (seed: number): number[] =>
    [...SignedZone.sign(baseZone(), { origin, keys, policy: { inceptionOffset: -3600, validity: 14 * 86400, jitter: 86400, seed } }, NOW).records()]
      .filter((r) => r.type === RRType.RRSIG)
      .map((r) => decodeRrsig(r.rdata).expiration);
  assert.deepEqual(exp(7), exp(7));
  assert.notDeepEqual(exp(7), exp(8));
  assert.ok(new Set(exp(7)).size > 3, 'expirations are spread');
});

