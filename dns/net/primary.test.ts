import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { parseName } from '../name.ts';
import { RRType } from '../types.ts';
import { parseZone } from '../zonefile/parse.ts';
import { formatRecord } from '../zonefile/print.ts';
import type { RR } from '../rr.ts';
import { answerFromZone } from './primary.ts';

// SOA TTL 3600 above its MINIMUM 300; a delegation with a DS.
const zone = parseZone(
  `$TTL 3600
@        SOA   ns1 host 7 7200 3600 1209600 300
@        NS    ns1
ns1      A     192.0.2.1
www      A     192.0.2.2
sub      NS    ns.sub
sub      DS    1 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
ns.sub   A     192.0.2.3
`,
  { origin: parseName('example.'), file: 'primary.zone' },
);

const text = (rrs: readonly RR[]): string[] => rrs.map((r) => formatRecord(r).replace(/\s+/g, ' '));

test('negative answers carry the whole SOA with TTL min(TTL, MINIMUM) (RFC 2308 §3)', { timeout: 5000 }, () => {
  for (const [name, type] of [['nope.example.', RRType.A], ['www.example.', RRType.TXT]] as const) {
    const r = answerFromZone(zone, parseName(name), type);
    assert.deepEqual(text(r.authority), ['example. 300 IN SOA ns1.example. host.example. 7 7200 3600 1209600 300'], name);
  }
});

test('a referral carries the DS only when the query had DO (RFC 4035 §3.1.4)', { timeout: 5000 }, () => {
  const plain = answerFromZone(zone, parseName('x.sub.example.'), RRType.A);
  assert.deepEqual(text(plain.authority), ['sub.example. 3600 IN NS ns.sub.example.']);
  assert.deepEqual(text(plain.additional), ['ns.sub.example. 3600 IN A 192.0.2.3']);
  const withDo = answerFromZone(zone, parseName('x.sub.example.'), RRType.A, true);
  assert.equal(text(withDo.authority).filter((l) => l.includes(' DS ')).length, 1);
});
