import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseName, type Fqdn } from '../dns/name.ts';
import { rdataFromText } from '../dns/rdata/codec.ts';
import { RRType } from '../dns/types.ts';
import { formatRecord } from '../dns/zonefile/print.ts';
import type { GateOptions } from './combiner-gates.ts';
import {
  applyUpdate,
  confirmLists,
  contributionOf,
  emptyStore,
  loadStore,
  originators,
  parseContribution,
  purgeOriginator,
  serialiseContribution,
  type ContributionStore,
} from './contributions.ts';
import { MessageError } from './errors.ts';
import { analyseHsync, type HsyncAnalysis } from './hsync-analysis.ts';
import type { OperationKind, RROperation, ZoneData } from './messages.ts';

const ZONE = parseName('customer.zone.');
const ALPHA = parseName('agent.alpha.example.');
const BRAVO = parseName('agent.bravo.example.');
const ECHO = parseName('agent.echo.example.');
const TALK_HSYNC = ['ON alpha agent.alpha.example. .', 'ON bravo agent.bravo.example. .', 'ON echo agent.echo.example. alpha'];
const TALK_PARAM = 'servers="alpha,bravo,echo" signers="alpha,bravo" nsmgmt="agent"';
const OPTIONS: GateOptions = { dnskeyAlgorithms: [15] };
const VECTORS = join(import.meta.dirname, '..', 'test', 'vectors', 'protocol-contributions.json');

function analyse(self: Fqdn = ALPHA, param = TALK_PARAM, hsync = TALK_HSYNC): HsyncAnalysis {
  return analyseHsync({ zone: ZONE, self, hsync: hsync.map((t) => rdataFromText(RRType.HSYNC, t)), hsyncparam: [rdataFromText(RRType.HSYNCPARAM, param)] });
}

const op = (operation: OperationKind, rrtype: string, ...records: string[]): RROperation => ({ operation, rrtype, records });

function update(originator: Fqdn, ...operations: RROperation[]): ZoneData {
  return { type: 'update', originator, recipient: ALPHA, zone: ZONE, operations, records: {}, nonce: 'n', time: 0 };
}

function apply(store: ContributionStore, u: ZoneData, a: HsyncAnalysis = analyse()): ReturnType<typeof applyUpdate> {
  return applyUpdate(store, u, a, OPTIONS);
}

const texts = (store: ContributionStore, o: Fqdn): string[] => contributionOf(store, o).map((rr) => formatRecord(rr));

/** The talk's three providers, each contributing its NS. */
function talkStore(): ContributionStore {
  let s = emptyStore(ZONE);
  s = apply(s, update(ALPHA, op('replace', 'NS', 'customer.zone. 3600 IN NS ns1.alpha.example.'))).store;
  s = apply(s, update(BRAVO, op('replace', 'NS', 'customer.zone. 3600 IN NS ns1.bravo.example.'))).store;
  s = apply(s, update(ECHO, op('replace', 'NS', 'customer.zone. 3600 IN NS ns.echo.example.'))).store;
  return s;
}

test('contributions: the talk example, one NS per provider', () => {
  const s = talkStore();
  assert.deepEqual(originators(s), [ALPHA, BRAVO, ECHO]);
  assert.deepEqual(texts(s, BRAVO), ['customer.zone.\t3600\tIN\tNS\tns1.bravo.example.']);
  const r = apply(s, update(BRAVO, op('add', 'NS', 'customer.zone. 3600 IN NS ns2.bravo.example.')));
  assert.deepEqual(r.results, [{ status: 'applied', record: 'customer.zone. 3600 IN NS ns2.bravo.example.' }]);
  assert.deepEqual(r.changed, [BRAVO]);
  assert.equal(texts(r.store, BRAVO).length, 2);
  // The store is a value: the old one is unchanged.
  assert.equal(texts(s, BRAVO).length, 1);
});

test('contributions: the same SYNC twice changes nothing and reports the same results', () => {
  const u = update(
    BRAVO,
    op('replace', 'NS', 'customer.zone. 3600 IN NS ns1.bravo.example.', 'customer.zone. 3600 IN NS ns1.customer.zone.'),
    op('add', 'A', 'ns1.customer.zone. 3600 IN A 192.0.2.7'),
    op('delete', 'NS', 'customer.zone. 3600 IN NS gone.bravo.example.'),
    op('add', 'TXT', 'customer.zone. 3600 IN TXT "no"'),
  );
  const first = apply(emptyStore(ZONE), u);
  const second = apply(first.store, u);
  assert.deepEqual(second.results, first.results);
  assert.deepEqual(second.changed, []);
  assert.equal(second.store, first.store);
  assert.deepEqual(
    first.results.map((r) => r.status),
    ['applied', 'applied', 'applied', 'removed', 'rejected'],
  );
});

test('contributions: replace sets the RRset, add and delete edit it; TTLs unify', () => {
  let s = talkStore();
  s = apply(s, update(BRAVO, op('add', 'NS', 'customer.zone. 300 IN NS ns2.bravo.example.'))).store;
  assert.deepEqual(texts(s, BRAVO), ['customer.zone.\t300\tIN\tNS\tns1.bravo.example.', 'customer.zone.\t300\tIN\tNS\tns2.bravo.example.']);
  s = apply(s, update(BRAVO, op('delete', 'NS', 'customer.zone. 300 IN NS ns1.bravo.example.'))).store;
  assert.deepEqual(texts(s, BRAVO), ['customer.zone.\t300\tIN\tNS\tns2.bravo.example.']);
  s = apply(s, update(BRAVO, op('replace', 'NS', 'customer.zone. 3600 IN NS ns3.bravo.example.', 'customer.zone. 7200 IN NS ns4.bravo.example.'))).store;
  assert.deepEqual(texts(s, BRAVO), ['customer.zone.\t3600\tIN\tNS\tns3.bravo.example.', 'customer.zone.\t3600\tIN\tNS\tns4.bravo.example.']);
  // Replace touches only the originator's own RRset.
  assert.deepEqual(texts(s, ALPHA), ['customer.zone.\t3600\tIN\tNS\tns1.alpha.example.']);
  // A replace with no records removes the type.
  s = apply(s, update(BRAVO, op('replace', 'NS'))).store;
  assert.deepEqual(texts(s, BRAVO), []);
  assert.deepEqual(originators(s), [ALPHA, ECHO]);
});

test('contributions: glue follows the NS of the same update, whatever the operation order', () => {
  const r = apply(
    emptyStore(ZONE),
    update(BRAVO, op('add', 'AAAA', 'ns1.customer.zone. 3600 IN AAAA 2001:db8::7', 'ns9.customer.zone. 3600 IN AAAA 2001:db8::9'), op('replace', 'NS', 'customer.zone. 3600 IN NS ns1.customer.zone.')),
  );
  assert.deepEqual(
    r.results.map((x) => x.status),
    ['applied', 'rejected', 'applied'],
  );
  assert.equal(texts(r.store, BRAVO).length, 2);
});

test('contributions: the legacy records form replaces each (owner, type)', () => {
  const legacy: ZoneData = {
    ...update(BRAVO),
    records: { 'ns1.customer.zone.': ['ns1.customer.zone. 3600 IN A 192.0.2.7'], 'customer.zone.': ['customer.zone. 3600 IN NS ns1.customer.zone.', 'customer.zone. 3600 IN NS ns1.bravo.example.'] },
  };
  const r = apply(talkStore(), legacy);
  assert.deepEqual(
    r.results.map((x) => x.status),
    ['applied', 'applied', 'applied'],
  );
  assert.deepEqual(texts(r.store, BRAVO), ['customer.zone.\t3600\tIN\tNS\tns1.bravo.example.', 'customer.zone.\t3600\tIN\tNS\tns1.customer.zone.', 'ns1.customer.zone.\t3600\tIN\tA\t192.0.2.7']);
});

test('contributions: unreadable and mismatched records are rejected with a reason', () => {
  const r = apply(emptyStore(ZONE), update(BRAVO, op('add', 'NS', 'customer.zone. 3600 IN NS', 'customer.zone. 3600 IN DNSKEY 257 3 15 AAAA', 'other.zone. 3600 IN NS ns1.bravo.example.')));
  assert.deepEqual(
    r.results.map((x) => (x.status === 'rejected' ? x.reason.split(' (')[0] : x.status)),
    ['not a resource record', "record type DNSKEY does not match the operation's rrtype NS", 'zone: other.zone. is not in customer.zone.'],
  );
  assert.deepEqual(confirmLists(r.results).rejected.length, 3);
  assert.deepEqual(r.changed, []);
});

test('contributions: a non-signer of a signed zone stores but answers ignored; held records are not stored', () => {
  const fromEcho = analyse(ECHO);
  const r = apply(emptyStore(ZONE), update(BRAVO, op('replace', 'NS', 'customer.zone. 3600 IN NS ns1.bravo.example.')), fromEcho);
  assert.equal(r.results[0]?.status, 'ignored');
  assert.deepEqual(texts(r.store, BRAVO), ['customer.zone.\t3600\tIN\tNS\tns1.bravo.example.']);
  const held = applyUpdate(emptyStore(ZONE), update(BRAVO, op('add', 'NS', 'customer.zone. 3600 IN NS ns1.bravo.example.')), analyse(), { ...OPTIONS, needsApproval: () => true });
  assert.equal(held.results[0]?.status, 'pending');
  assert.deepEqual(confirmLists(held.results).pending, ['customer.zone. 3600 IN NS ns1.bravo.example.']);
  assert.deepEqual(held.changed, []);
});

test('contributions: purge drops one originator', () => {
  const s = purgeOriginator(talkStore(), BRAVO);
  assert.deepEqual(originators(s), [ALPHA, ECHO]);
  assert.equal(purgeOriginator(s, BRAVO), s);
});

test('contributions: the KV record is deterministic, round-trips, and matches the vectors', () => {
  const vectors = JSON.parse(readFileSync(VECTORS, 'utf8')) as { valid: { name: string; record: string }[]; malformed: { name: string; record: string; error: string }[] };
  const a = apply(emptyStore(ZONE), update(BRAVO, op('add', 'NS', 'customer.zone. 3600 IN NS ns1.customer.zone.', 'customer.zone. 3600 IN NS ns1.bravo.example.'), op('add', 'A', 'ns1.customer.zone. 3600 IN A 192.0.2.7'))).store;
  const b = apply(emptyStore(ZONE), update(BRAVO, op('add', 'A', 'ns1.customer.zone. 3600 IN A 192.0.2.7'), op('add', 'NS', 'customer.zone. 3600 IN NS ns1.bravo.example.', 'customer.zone. 3600 IN NS ns1.customer.zone.'))).store;
  const text = serialiseContribution(a, BRAVO);
  assert.equal(serialiseContribution(b, BRAVO), text);
  assert.equal(text, vectors.valid[0]?.record);
  for (const v of vectors.valid) {
    const p = parseContribution(v.record);
    assert.equal(serialiseContribution(loadStore(p.zone, [v.record]), p.originator), v.record, v.name);
  }
  const loaded = loadStore(ZONE, [serialiseContribution(talkStore(), ALPHA), text]);
  assert.deepEqual(originators(loaded), [ALPHA, BRAVO]);
  for (const v of vectors.malformed) {
    assert.throws(
      () => parseContribution(v.record),
      (e: unknown) => e instanceof MessageError && e.message.includes(v.error),
      v.name,
    );
  }
  assert.throws(() => loadStore(ZONE, [text, text]), /two records for agent\.bravo\.example\./);
  assert.throws(() => loadStore(parseName('other.zone.'), [text]), /record of zone customer\.zone\. where other\.zone\. was expected/);
});

// ---- properties ----

const POOL = [
  'customer.zone. 3600 IN NS ns1.bravo.example.',
  'customer.zone. 300 IN NS ns2.bravo.example.',
  'customer.zone. 3600 IN NS ns1.customer.zone.',
  'ns1.customer.zone. 3600 IN A 192.0.2.7',
  'ns1.customer.zone. 60 IN AAAA 2001:db8::7',
  'ns2.customer.zone. 3600 IN A 192.0.2.8',
  'customer.zone. 3600 IN TXT "rejected"',
];
const typeOf = (r: string): string => r.split(' ')[3] ?? '';

const operationArb = fc.record({ operation: fc.constantFrom<OperationKind>('add', 'delete', 'replace'), records: fc.subarray(POOL, { minLength: 1, maxLength: 3 }) }).map((o) => {
  const t = typeOf(o.records[0] ?? '');
  return op(o.operation, t, ...o.records.filter((r) => typeOf(r) === t));
});

test('contributions: property: applying an update twice equals applying it once', () => {
  fc.assert(
    fc.property(fc.array(operationArb, { maxLength: 3 }), fc.array(operationArb, { minLength: 1, maxLength: 4 }), (setup, ops) => {
      const start = apply(emptyStore(ZONE), update(BRAVO, ...setup)).store;
      const once = apply(start, update(BRAVO, ...ops));
      const twice = apply(once.store, update(BRAVO, ...ops));
      assert.deepEqual(twice.results, once.results);
      assert.deepEqual(twice.changed, []);
      assert.equal(serialiseContribution(twice.store, BRAVO), serialiseContribution(once.store, BRAVO));
    }),
    { numRuns: 200 },
  );
});
