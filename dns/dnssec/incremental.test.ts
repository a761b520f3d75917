// Property: after any sequence of diffs, the incrementally maintained signed zone has exactly
// the denial chain and the set of signed RRsets that signing the same records from scratch
// gives, and every signature it holds verifies.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import { nameToWire, parseName } from '../name.ts';
import type { RR } from '../rr.ts';
import { RRType } from '../types.ts';
import { generateKey } from './keys.ts';
import { decodeRrsig } from './rrsig.ts';
import { SignedZone, type Denial } from './signer.ts';
import { verifyRrsig } from './verify.ts';

const origin = parseName('example.');
const NOW = 1_800_000_000;
const keys = [generateKey(origin, 15, 257), generateKey(origin, 15, 256)];
const cat = (...p: Uint8Array[]): Uint8Array => Uint8Array.from(p.flatMap((x) => [...x]));
const u32 = (n: number): Uint8Array => Uint8Array.of(n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
const soa = rr('example.', RRType.SOA, cat(nameToWire(parseName('ns.example.')), nameToWire(parseName('h.example.')), u32(1), u32(7200), u32(3600), u32(1209600), u32(300)));
const apexNs = rr('example.', RRType.NS, nameToWire(parseName('ns.example.')));

function rr(name: string, type: number, rdata: Uint8Array): RR {
  return { name: parseName(name), type, class: 1, ttl: 3600, rdata };
}

// Small name space so that ENTs, cuts over existing names and wildcards happen often.
const owner = fc.constantFrom('a', 'b', 'a.b', 'c.a.b', '*', '*.b', 'x.c.a.b', 'd').map((l) => `${l}.example.`);
const record = fc.oneof(
  fc.tuple(owner, fc.integer({ min: 1, max: 3 })).map(([n, v]) => rr(n, RRType.A, Uint8Array.of(192, 0, 2, v))),
  fc.tuple(owner, fc.integer({ min: 1, max: 2 })).map(([n, v]) => rr(n, RRType.TXT, Uint8Array.of(1, 0x60 + v))),
  owner.filter((n) => !n.startsWith('*')).map((n) => rr(n, RRType.NS, nameToWire(parseName('ns.other.')))),
  owner.filter((n) => !n.startsWith('*')).map((n) => rr(n, RRType.DS, cat(Uint8Array.of(0, 1, 15, 2), new Uint8Array(32)))),
);
const op = fc.tuple(fc.boolean(), record);

const key = (r: RR): string => `${r.name} ${r.type} ${Buffer.from(r.rdata).toString('hex')}`;
const fullKey = (r: RR): string => `${r.name} ${r.type} ${r.ttl} ${Buffer.from(r.rdata).toString('hex')}`;

function chainOf(z: SignedZone): string[] {
  return [...z.records()].filter((r) => r.type === RRType.NSEC || r.type === RRType.NSEC3 || r.type === RRType.NSEC3PARAM).map(key).sort();
}

function signedSets(z: SignedZone): string[] {
  return [...z.records()]
    .filter((r) => r.type === RRType.RRSIG)
    .map((r) => `${r.name} ${decodeRrsig(r.rdata).typeCovered} ${decodeRrsig(r.rdata).keyTag}`)
    .sort();
}

function allVerify(z: SignedZone): void {
  const all = [...z.records()];
  const dnskeys = all.filter((r) => r.type === RRType.DNSKEY).map((r) => r.rdata);
  for (const s of all.filter((r) => r.type === RRType.RRSIG)) {
    const t = decodeRrsig(s.rdata).typeCovered;
    const set = all.filter((r) => r.name === s.name && r.type === t);
    assert.ok(verifyRrsig(set, s, dnskeys, NOW).ok, `${s.name} ${t}`);
  }
}

for (const denial of [{ kind: 'nsec' }, { kind: 'nsec3', iterations: 0, salt: new Uint8Array(0), optOut: false }, { kind: 'nsec3', iterations: 1, salt: Uint8Array.of(1), optOut: true }] as Denial[]) {
  const label = denial.kind === 'nsec3' && denial.optOut ? 'nsec3 opt-out' : denial.kind;
  test(`${label}: incremental apply equals signing from scratch; its reported changes are exact`, { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 6 }), fc.array(op, { minLength: 1, maxLength: 12 }), (initial, ops) => {
        const current = new Map<string, RR>();
        for (const r of [soa, apexNs, ...initial]) current.set(key(r), r);
        const z = SignedZone.sign([...current.values()], { origin, keys, denial }, NOW);
        // The signed zone kept up to date only from the changes applyWithChanges reports.
        const mirror = new Map<string, RR>([...z.records()].map((x) => [fullKey(x), x]));
        for (const [add, r] of ops) {
          const k = key(r);
          let ch: { removed: RR[]; added: RR[] } | undefined;
          if (add && !current.has(k)) {
            current.set(k, r);
            ch = z.applyWithChanges({ removed: [], added: [r] }, NOW);
          } else if (!add && current.has(k)) {
            current.delete(k);
            ch = z.applyWithChanges({ removed: [r], added: [] }, NOW);
          }
          if (ch === undefined) continue;
          for (const x of ch.removed) assert.ok(mirror.delete(fullKey(x)), `removed but absent: ${fullKey(x)}`);
          for (const x of ch.added) mirror.set(fullKey(x), x);
          assert.deepEqual([...mirror.keys()].sort(), [...z.records()].map(fullKey).sort());
        }
        const fresh = SignedZone.sign([...current.values()], { origin, keys, denial }, NOW);
        assert.deepEqual(chainOf(z), chainOf(fresh));
        assert.deepEqual(signedSets(z), signedSets(fresh));
        allVerify(z);
      }),
      { numRuns: 60, seed: 20261127 },
    );
  });
}

test('a new SOA TTL or MINIMUM moves every TTL derived from it (denial records, NSEC3PARAM, DNSKEY), as signing from scratch does', { timeout: 30_000 }, () => {
  const soa2 = { ...rr('example.', RRType.SOA, cat(nameToWire(parseName('ns.example.')), nameToWire(parseName('h.example.')), u32(2), u32(7200), u32(3600), u32(1209600), u32(900))), ttl: 7200 };
  const base = [soa, apexNs, rr('a.example.', RRType.A, Uint8Array.of(192, 0, 2, 1)), rr('c.a.b.example.', RRType.TXT, Uint8Array.of(1, 0x61)), rr('d.example.', RRType.NS, nameToWire(parseName('ns.other.')))];
  const withTtl = (r: RR): string => (r.type === RRType.RRSIG ? `${r.name} RRSIG ${decodeRrsig(r.rdata).typeCovered} ${decodeRrsig(r.rdata).originalTtl} ${r.ttl}` : fullKey(r));
  for (const denial of [{ kind: 'nsec' }, { kind: 'nsec3', iterations: 0, salt: new Uint8Array(0), optOut: false }] as Denial[]) {
    const z = SignedZone.sign(base, { origin, keys, denial }, NOW);
    const mirror = new Map<string, RR>([...z.records()].map((x) => [fullKey(x), x]));
    const added = rr('b.example.', RRType.A, Uint8Array.of(192, 0, 2, 2));
    const ch = z.applyWithChanges({ removed: [soa], added: [soa2, added] }, NOW);
    for (const x of ch.removed) assert.ok(mirror.delete(fullKey(x)), `removed but absent: ${fullKey(x)}`);
    for (const x of ch.added) mirror.set(fullKey(x), x);
    assert.deepEqual([...mirror.keys()].sort(), [...z.records()].map(fullKey).sort(), `${denial.kind}: reported changes`);
    const fresh = SignedZone.sign([soa2, ...base.slice(1), added], { origin, keys, denial }, NOW);
    assert.deepEqual([...z.records()].map(withTtl).sort(), [...fresh.records()].map(withTtl).sort(), `${denial.kind}: TTLs`);
    assert.ok([...z.records()].some((r) => r.type === (denial.kind === 'nsec' ? RRType.NSEC : RRType.NSEC3) && r.ttl === 900));
    allVerify(z);
  }
});
