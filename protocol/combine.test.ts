import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseName, type Fqdn } from '../dns/name.ts';
import { rdataFromText } from '../dns/rdata/codec.ts';
import { soaSerial } from '../dns/rdata/soa.ts';
import type { RR } from '../dns/rr.ts';
import { RRType } from '../dns/types.ts';
import { formatRecord } from '../dns/zonefile/print.ts';
import { parseRecords } from '../dns/zonefile/parse.ts';
import type { GateOptions } from './combiner-gates.ts';
import { combineZone, nextSerial, nextVersion, sameContent, soaOf } from './combine.ts';
import { applyUpdate, emptyStore, type ContributionStore } from './contributions.ts';
import { analyseHsync, type HsyncAnalysis } from './hsync-analysis.ts';
import type { OperationKind, RROperation, ZoneData } from './messages.ts';

const ZONE = parseName('customer.zone.');
const ALPHA = parseName('agent.alpha.example.');
const BRAVO = parseName('agent.bravo.example.');
const ECHO = parseName('agent.echo.example.');
const TALK_HSYNC = ['ON alpha agent.alpha.example. .', 'ON bravo agent.bravo.example. .', 'ON echo agent.echo.example. alpha'];
const TALK_PARAM = 'servers="alpha,bravo,echo" signers="alpha,bravo" nsmgmt="agent"';
const OPTIONS: GateOptions = { dnskeyAlgorithms: [15] };
const KEY_A = 'l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=';
const KEY_B = 'MCowBQYDK2VwAyEA7cEN3ov0SOrXh8tLQ3/1Hba4bzRm';

const OWNER = parseRecords(
  `$ORIGIN customer.zone.
@ 3600 IN SOA ns.owner.example. hostmaster.customer.zone. 2026120401 3600 900 604800 300
@ 3600 IN NS ns.owner.example.
@ 3600 IN HSYNC ON alpha agent.alpha.example. .
www 3600 IN A 192.0.2.80
ns1 3600 IN A 192.0.2.99
`,
  { origin: ZONE },
);

function analyse(param = TALK_PARAM, hsync = TALK_HSYNC, self: Fqdn = ALPHA): HsyncAnalysis {
  return analyseHsync({ zone: ZONE, self, hsync: hsync.map((t) => rdataFromText(RRType.HSYNC, t)), hsyncparam: [rdataFromText(RRType.HSYNCPARAM, param)] });
}

const op = (operation: OperationKind, rrtype: string, ...records: string[]): RROperation => ({ operation, rrtype, records });
const update = (originator: Fqdn, ...operations: RROperation[]): ZoneData => ({ type: 'update', originator, recipient: ALPHA, zone: ZONE, operations, records: {}, nonce: '', time: 0 });

function store(a: HsyncAnalysis, ...updates: ZoneData[]): ContributionStore {
  return updates.reduce((s, u) => applyUpdate(s, u, a, OPTIONS).store, emptyStore(ZONE));
}

const TALK_UPDATES = [
  update(ALPHA, op('replace', 'NS', 'customer.zone. 3600 IN NS ns1.alpha.example.'), op('replace', 'DNSKEY', `customer.zone. 3600 IN DNSKEY 257 3 15 ${KEY_A}`)),
  update(BRAVO, op('replace', 'NS', 'customer.zone. 3600 IN NS ns1.bravo.example.', 'customer.zone. 3600 IN NS ns1.customer.zone.'), op('replace', 'A', 'ns1.customer.zone. 3600 IN A 192.0.2.7'), op('replace', 'DNSKEY', `customer.zone. 3600 IN DNSKEY 257 3 15 ${KEY_B}`)),
  update(ECHO, op('replace', 'NS', 'customer.zone. 1800 IN NS ns.echo.example.')),
];

const lines = (rrs: readonly RR[], type?: number): string[] => rrs.filter((rr) => type === undefined || rr.type === type).map((rr) => formatRecord(rr));

test('combine: the talk example, the NS RRset is the union of the providers in HSYNC', () => {
  const a = analyse();
  const z = combineZone({ owner: OWNER, store: store(a, ...TALK_UPDATES), analysis: a, options: OPTIONS });
  assert.deepEqual(lines(z, RRType.NS), [
    'customer.zone.\t1800\tIN\tNS\tns.echo.example.',
    'customer.zone.\t1800\tIN\tNS\tns1.alpha.example.',
    'customer.zone.\t1800\tIN\tNS\tns1.bravo.example.',
    'customer.zone.\t1800\tIN\tNS\tns1.customer.zone.',
  ]);
  // Bravo's glue replaces the owner's A at ns1; the rest of the owner's zone stays.
  assert.deepEqual(lines(z, RRType.A), ['ns1.customer.zone.\t3600\tIN\tA\t192.0.2.7', 'www.customer.zone.\t3600\tIN\tA\t192.0.2.80']);
  assert.equal(lines(z, RRType.DNSKEY).length, 2);
  assert.equal(lines(z, RRType.HSYNC).length, 1);
  assert.equal(soaSerial(soaOf(z).rdata), 2026120401);
  // Canonical order, no duplicates.
  assert.deepEqual(combineZone({ owner: [...OWNER].reverse(), store: store(a, ...TALK_UPDATES), analysis: a, options: OPTIONS }), z);
});

test("combine: the owner's NS stays while no provider contributed NS, and with nsmgmt=owner", () => {
  const a = analyse();
  const none = combineZone({ owner: OWNER, store: emptyStore(ZONE), analysis: a, options: OPTIONS });
  assert.deepEqual(lines(none, RRType.NS), ['customer.zone.\t3600\tIN\tNS\tns.owner.example.']);
  assert.ok(sameContent(none, OWNER));
  const owner = analyse('servers="alpha,bravo,echo" signers="alpha,bravo"');
  // Contributions stored while nsmgmt was agent no longer count once the owner manages NS.
  const z = combineZone({ owner: OWNER, store: store(a, ...TALK_UPDATES), analysis: owner, options: OPTIONS });
  assert.deepEqual(lines(z, RRType.NS), ['customer.zone.\t3600\tIN\tNS\tns.owner.example.']);
  assert.deepEqual(lines(z, RRType.A), ['ns1.customer.zone.\t3600\tIN\tA\t192.0.2.99', 'www.customer.zone.\t3600\tIN\tA\t192.0.2.80']);
  assert.equal(lines(z, RRType.DNSKEY).length, 2);
});

test('combine: a provider set OFF drops out of the union but stays in the store', () => {
  const a = analyse();
  const s = store(a, ...TALK_UPDATES);
  const off = analyse(TALK_PARAM, ['ON alpha agent.alpha.example. .', 'OFF bravo agent.bravo.example. .', 'ON echo agent.echo.example. alpha']);
  const z = combineZone({ owner: OWNER, store: s, analysis: off, options: OPTIONS });
  assert.deepEqual(lines(z, RRType.NS), ['customer.zone.\t1800\tIN\tNS\tns.echo.example.', 'customer.zone.\t1800\tIN\tNS\tns1.alpha.example.']);
  assert.deepEqual(lines(z, RRType.A), ['ns1.customer.zone.\t3600\tIN\tA\t192.0.2.99', 'www.customer.zone.\t3600\tIN\tA\t192.0.2.80']);
  assert.equal(lines(z, RRType.DNSKEY).length, 1);
  assert.ok(s.byOriginator.has(BRAVO));
  // Back ON: back in.
  assert.equal(lines(combineZone({ owner: OWNER, store: s, analysis: a, options: OPTIONS }), RRType.NS).length, 4);
});

test('combine: serials never go backwards (RFC 1982, wrap-around included)', () => {
  assert.equal(nextSerial(undefined, 7), 7);
  assert.equal(nextSerial(10, 5), 11);
  assert.equal(nextSerial(10, 2026120401), 2026120401);
  assert.equal(nextSerial(0xffffffff, 5), 5);
  assert.equal(nextSerial(0xffffffff, 0xfffffff0), 0);
  assert.equal(nextSerial(0xfffffffe, 0xffffffff), 0xffffffff);
  // Exactly 2^31 apart from last + 1: incomparable, last + 1 wins.
  assert.equal(nextSerial(10, 11 + 0x80000000), 11);
  fc.assert(
    fc.property(fc.nat(0xffffffff), fc.nat(0xffffffff), (last, owner) => {
      const next = nextSerial(last, owner);
      const d = (next - last + 0x100000000) % 0x100000000;
      assert.ok(d >= 1 && d < 0x80000000, `next ${next} is not after ${last}`);
    }),
  );
});

test('combine: a new serial only when the content changed', () => {
  const a = analyse();
  const v1 = nextVersion(undefined, combineZone({ owner: OWNER, store: emptyStore(ZONE), analysis: a, options: OPTIONS }));
  assert.equal(v1.serial, 2026120401);
  assert.ok(v1.changed);
  const z2 = combineZone({ owner: OWNER, store: store(a, ...TALK_UPDATES), analysis: a, options: OPTIONS });
  const v2 = nextVersion(v1, z2);
  assert.deepEqual([v2.serial, v2.changed], [2026120402, true]);
  assert.equal(soaSerial(soaOf(v2.records).rdata), 2026120402);
  const v3 = nextVersion(v2, z2);
  assert.deepEqual([v3.serial, v3.changed], [2026120402, false]);
  // The owner bumping its serial alone changes nothing served.
  const bumped = z2.map((rr) => (rr.type === RRType.SOA ? { ...rr, rdata: rdataFromText(RRType.SOA, 'ns.owner.example. hostmaster.customer.zone. 2026120500 3600 900 604800 300') } : rr));
  assert.equal(nextVersion(v3, bumped).changed, false);
  // A content change with the owner's serial ahead takes the owner's serial.
  const withTxt = [...bumped, ...parseRecords('customer.zone. 3600 IN TXT "new"\n', { origin: ZONE })];
  assert.deepEqual([nextVersion(v3, withTxt).serial, nextVersion(v3, withTxt).changed], [2026120500, true]);
});

test('combine: property: the combined zone does not depend on the order contributions arrived in', () => {
  const a = analyse();
  const updates = [
    ...TALK_UPDATES,
    update(BRAVO, op('add', 'NS', 'customer.zone. 600 IN NS ns2.bravo.example.')),
    update(ALPHA, op('delete', 'NS', 'customer.zone. 3600 IN NS ns1.alpha.example.'), op('add', 'NS', 'customer.zone. 3600 IN NS ns2.alpha.example.')),
    update(ECHO, op('add', 'TXT', 'customer.zone. 3600 IN TXT "rejected"')),
  ];
  // Each originator's own updates keep their order (a channel is ordered); the interleaving varies.
  const want = combineZone({ owner: OWNER, store: store(a, ...updates), analysis: a, options: OPTIONS });
  fc.assert(
    fc.property(fc.shuffledSubarray([0, 1, 2, 3, 4, 5], { minLength: 6, maxLength: 6 }), (perm) => {
      const byOriginator = new Map<Fqdn, ZoneData[]>();
      for (const u of updates) byOriginator.set(u.originator, [...(byOriginator.get(u.originator) ?? []), u]);
      const queues = [...byOriginator.values()];
      const order: ZoneData[] = [];
      for (const i of perm) {
        const q = queues[i % queues.length];
        const next = q?.shift();
        if (next !== undefined) order.push(next);
      }
      for (const q of queues) order.push(...q);
      const got = combineZone({ owner: OWNER, store: store(a, ...order), analysis: a, options: OPTIONS });
      assert.deepEqual(lines(got), lines(want));
    }),
    { numRuns: 100 },
  );
});
