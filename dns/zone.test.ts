import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ZoneError } from './errors.ts';
import { parseName, type Fqdn } from './name.ts';
import { rdataFromText } from './rdata/codec.ts';
import type { RR } from './rr.ts';
import { RRType, typeFromString } from './types.ts';
import { applyDiff, sortNamesCanonical, zoneFromRecords, ZoneBuilder } from './zone.ts';
import { diffZones } from './zone-diff.ts';
import { compareNames } from './name.ts';

const origin = parseName('example.');

/** "owner ttl TYPE rdata" with names relative to example. */
function rr(line: string): RR {
  const [owner, ttl, type, ...rest] = line.split(' ');
  const t = typeFromString(type as string) as number;
  return { name: parseName(owner as string, origin), type: t, class: 1, ttl: Number(ttl), rdata: rdataFromText(t, rest.join(' '), origin) };
}

const base = [
  '@ 3600 SOA ns1 host 1 7200 3600 1209600 300',
  '@ 3600 NS ns1',
  'ns1 3600 A 192.0.2.1',
  'a.b.c 300 A 192.0.2.2',
  'sub 3600 NS ns.sub',
  'ns.sub 3600 A 192.0.2.3',
];

test('builder: names with empty non-terminals, cuts, status, serial', { timeout: 5000 }, () => {
  const z = zoneFromRecords(origin, base.map(rr));
  assert.equal(z.serial, 1);
  assert.equal(z.size, 6);
  assert.deepEqual(z.names(), ['example.', 'c.example.', 'b.c.example.', 'a.b.c.example.', 'ns1.example.', 'sub.example.', 'ns.sub.example.']);
  assert.equal(z.status(parseName('b.c.example.')), 'ent');
  assert.equal(z.status(parseName('sub.example.')), 'cut');
  assert.equal(z.status(parseName('ns.sub.example.')), 'occluded');
  assert.equal(z.status(parseName('x.example.')), 'absent');
  assert.equal(z.status(parseName('x.org.')), 'outside');
  assert.deepEqual([...z.cuts], ['sub.example.']);
});

test('builder rejects broken zones with ZoneError naming the record', { timeout: 5000 }, () => {
  const cases: [string[], RegExp][] = [
    [[...base, 'x.org. 300 A 192.0.2.9'], /outside the zone origin example\.: x\.org\. 300 IN A/],
    [[...base, '@ 3600 SOA ns1 host 2 7200 3600 1209600 300'], /more than one SOA/],
    [[...base, 'ns1 3600 SOA ns1 host 2 7200 3600 1209600 300'], /SOA not at the zone apex: ns1\.example\./],
    [[...base, 'ns1 300 CNAME a.b.c'], /CNAME and other data at the same name: ns1\.example\. 300 IN CNAME/],
    [[...base, 'w 300 CNAME a.b.c', 'w 300 TXT "x"'], /CNAME and other data/],
    [[...base, 'w 300 CNAME a.b.c', 'w 300 CNAME ns1'], /more than one CNAME/],
    [base.filter((l) => !l.includes('SOA')), /has no SOA/],
    [base.filter((l) => !l.startsWith('@ 3600 NS')), /no NS records at the apex/],
  ];
  for (const [lines, re] of cases) assert.throws(() => zoneFromRecords(origin, lines.map(rr)), (e: unknown) => e instanceof ZoneError && re.test(e.message), String(re));
});

test('builder: duplicates kept once, differing TTL unified to the first', { timeout: 5000 }, () => {
  const b = new ZoneBuilder(origin);
  for (const l of base) b.add(rr(l));
  assert.equal(b.add(rr('ns1 3600 A 192.0.2.1')), 'duplicate');
  assert.equal(b.add(rr('ns1 60 A 192.0.2.7')), 'ttl-unified');
  const z = b.finish();
  assert.equal(z.get(parseName('ns1.example.'), RRType.A)?.ttl, 3600);
  assert.equal(z.get(parseName('ns1.example.'), RRType.A)?.rdata.length, 2);
});

test('applyDiff bumps the serial, keeps names sorted, is all-or-nothing; diffZones inverts it', { timeout: 5000 }, () => {
  const z = zoneFromRecords(origin, base.map(rr));
  const before = zoneFromRecords(origin, base.map(rr));
  z.names(); // make the sorted list exist so that it is maintained
  const d = applyDiff(z, { removed: [rr('a.b.c 300 A 192.0.2.2')], added: [rr('new.deep 300 A 192.0.2.5'), rr('ns1 60 A 192.0.2.8')] });
  assert.equal(d.fromSerial, 1);
  assert.equal(d.toSerial, 2);
  assert.equal(z.serial, 2);
  assert.equal(d.removed[0]?.type, RRType.SOA);
  assert.equal(d.added[0]?.type, RRType.SOA);
  // ns1 A moved to TTL 60: the old record is re-listed with the new TTL.
  assert.equal(d.removed.filter((r) => r.type === RRType.A).length, 2);
  assert.equal(z.get(parseName('ns1.example.'), RRType.A)?.ttl, 60);
  assert.ok(!z.has(parseName('b.c.example.')) && !z.has(parseName('c.example.')), 'empty non-terminals pruned');
  assert.ok(z.has(parseName('deep.example.')), 'empty non-terminal created');
  assert.deepEqual(z.names(), sortNamesCanonical(z.namesUnordered()));
  // A failing diff leaves the zone as it was.
  const snapshot = [...z.records()].length;
  assert.throws(() => applyDiff(z, { removed: [rr('ns1 60 A 192.0.2.1')], added: [rr('ns1 300 CNAME ns.sub')] }), ZoneError);
  assert.equal([...z.records()].length, snapshot);
  assert.equal(z.serial, 2);
  assert.equal(z.get(parseName('ns1.example.'), RRType.A)?.rdata.length, 2);
  assert.throws(() => applyDiff(z, { removed: [], added: [rr('@ 3600 SOA ns1 host 1 7200 3600 1209600 300')] }), /does not raise the serial/);
  // diffZones(before, z) lists the same changes.
  const back = diffZones(before, z);
  const key = (r: RR): string => `${r.name} ${r.type} ${r.ttl} ${Buffer.from(r.rdata).toString('hex')}`;
  assert.deepEqual(back.removed.map(key).sort(), d.removed.map(key).sort());
  assert.deepEqual(back.added.map(key).sort(), d.added.map(key).sort());
  // Applying it to a copy of the old zone gives the new one.
  const again = zoneFromRecords(origin, base.map(rr));
  applyDiff(again, back);
  assert.deepEqual([...again.records()].map(key).sort(), [...z.records()].map(key).sort());
  assert.deepEqual(diffZones(z, again), { fromSerial: 2, toSerial: 2, removed: [], added: [] });
});

test('sortNamesCanonical agrees with compareNames, escapes included', { timeout: 5000 }, () => {
  const names = ['example.', 'a.example.', 'yljkjljk.a.example.', 'Z.a.example.', 'zABC.a.EXAMPLE.', 'z.example.', '\\001.z.example.', '*.z.example.', '\\200.z.example.', '\\000.z.example.', '\\000\\000.z.example.', 'a\\000.example.', 'a.a\\000.example.'].map((n) => parseName(n));
  const expected = [...names].sort(compareNames);
  assert.deepEqual(sortNamesCanonical([...names].reverse()), expected);
  const fqdns: Fqdn[] = expected;
  assert.equal(fqdns.length, names.length);
});

test('random diffs keep names, empty non-terminals, cuts and order equal to a fresh build', { timeout: 20_000 }, () => {
  let x = 12345;
  const rand = (n: number): number => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x % n;
  };
  const labels = ['a', 'b', 'c', '*', 'x-1'];
  const owner = (): string => Array.from({ length: 1 + rand(3) }, () => labels[rand(labels.length)]).join('.');
  const pool: string[] = [];
  for (let i = 0; i < 60; i++) {
    const o = owner();
    pool.push(rand(4) === 0 ? `${o} 300 NS ns1` : rand(2) === 0 ? `${o} 300 TXT "t${rand(3)}"` : `${o} 300 A 192.0.2.${rand(4)}`);
  }
  const z = zoneFromRecords(origin, base.slice(0, 3).map(rr));
  z.names();
  let present = new Set<string>(base.slice(0, 3));
  for (let step = 0; step < 200; step++) {
    const add = pool.filter(() => rand(10) === 0).filter((l) => !present.has(l));
    const del = [...present].filter((l) => !base.slice(0, 3).includes(l) && rand(4) === 0);
    applyDiff(z, { removed: del.map(rr), added: add.map(rr) });
    present = new Set([...[...present].filter((l) => !del.includes(l)), ...add]);
    const fresh = zoneFromRecords(origin, [...present].map(rr));
    assert.deepEqual([...z.names()], [...fresh.names()], `names after step ${step}`);
    assert.deepEqual([...z.cuts].sort(), [...fresh.cuts].sort(), `cuts after step ${step}`);
    assert.equal(z.size, fresh.size);
    for (const n of fresh.names()) assert.equal(z.status(n), fresh.status(n), `${n} after step ${step}`);
  }
});
