// InlineSignedZone (what `mpdns serve --sign` serves): reloads and signature refreshes raise the
// served serial (max(served + 1, owner's serial)), and the journalled signed changes, applied to
// the previous signed zone, give exactly the current one (what an IXFR client ends up with).
import { strict as assert } from 'node:assert';
import { after, before, test } from 'node:test';
import { InlineSignedZone } from '../dns/net/inline-signed.ts';
import { decodeRrsig, verifyRrsig } from '../dns/dnssec/index.ts';
import { parseName } from '../dns/name.ts';
import type { RR } from '../dns/rr.ts';
import { RRType } from '../dns/types.ts';
import { parseZone } from '../dns/zonefile/index.ts';
import { tmpDir, type TmpDir } from './support/tmp.ts';

const origin = parseName('example.');
const text = (serial: number, www: string): string =>
  `$ORIGIN example.\n$TTL 3600\n@ SOA ns1 hostmaster ${serial} 7200 3600 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\nwww A ${www}\n*.w TXT "x"\n`;
const key = (r: RR): string => `${r.name} ${r.type} ${r.ttl} ${Buffer.from(r.rdata).toString('hex')}`;

let dir: TmpDir;
before(async () => {
  dir = await tmpDir('mpdns-inline-');
});
after(async () => {
  await dir.remove();
});

function replay(mirror: Map<string, RR>, z: InlineSignedZone, from: number): void {
  const diffs = z.diffsSince(from);
  assert.ok(diffs !== undefined && diffs.length > 0, `journal from ${from}`);
  for (const d of diffs) {
    for (const r of d.removed) assert.ok(mirror.delete(key(r)), `removed but absent: ${key(r)}`);
    for (const r of d.added) mirror.set(key(r), r);
  }
  assert.deepEqual([...mirror.keys()].sort(), [...z.records()].map(key).sort());
}

test('refresh and reload: served serial, journal replay, valid signatures', { timeout: 30_000 }, async () => {
  const now = Math.floor(Date.now() / 1000);
  const { zone } = await InlineSignedZone.create(parseZone(text(10, '192.0.2.2'), { origin }), dir.path);
  const mirror = new Map([...zone.records()].map((r) => [key(r), r]));
  assert.equal(zone.serial, 10);
  assert.equal(zone.refresh(now + 86400), 0, 'nothing due after a day');

  const later = now + 12 * 86400;
  const n = zone.refresh(later);
  assert.ok(n > 5, `${n} signatures renewed`);
  assert.equal(zone.serial, 11);
  replay(mirror, zone, 10);
  const all = [...zone.records()];
  const dnskeys = all.filter((r) => r.type === RRType.DNSKEY).map((r) => r.rdata);
  for (const s of all.filter((r) => r.type === RRType.RRSIG)) {
    const t = decodeRrsig(s.rdata).typeCovered;
    assert.ok(verifyRrsig(all.filter((r) => r.name === s.name && r.type === t), s, dnskeys, later).ok, `${s.name} ${t}`);
  }

  // The owner's next serial (11) is not above what we serve (11): we serve 12.
  const out = zone.update(parseZone(text(11, '192.0.2.22'), { origin }));
  assert.equal(out.result, 'updated');
  assert.equal(zone.serial, 12);
  replay(mirror, zone, 11);
  assert.equal(zone.query(parseName('www.example.'), RRType.A, { dnssecOk: false }).answer[0]?.rdata[3], 22);
  assert.equal(zone.update(parseZone(text(11, '192.0.2.22'), { origin })).result, 'unchanged');
  assert.equal(zone.update(parseZone(text(9, '192.0.2.23'), { origin })).result, 'serial-not-increased');
  // An owner serial far ahead is taken as is.
  zone.update(parseZone(text(100, '192.0.2.24'), { origin }));
  assert.equal(zone.serial, 100);
  replay(mirror, zone, 12);
});
