import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseName } from '../name.ts';
import type { RR } from '../rr.ts';
import type { Zone } from '../zone.ts';
import { generateZone } from '../../test/support/genzone.ts';
import { parseZone } from './parse.ts';
import { printZone } from './print.ts';

function keys(z: Zone): string[] {
  const k = (r: RR): string => `${r.name} ${r.ttl} ${r.class} ${r.type} ${Buffer.from(r.rdata).toString('hex')}`;
  return [...z.records()].map(k).sort();
}

test('printZone: SOA first, canonical order, absolute names; parse(print(z)) is z', { timeout: 10_000 }, () => {
  const origin = parseName('customer.zone.');
  const zone = parseZone(readFileSync('examples/customer.zone', 'utf8'), { origin, file: 'examples/customer.zone' });
  const text = printZone(zone);
  const lines = text.trimEnd().split('\n');
  assert.match(lines[0] as string, /^customer\.zone\.\t3600\tIN\tSOA\tns1\.alpha\.example\. hostmaster\.customer\.zone\. 2026112701 /);
  assert.equal(lines.length, zone.size);
  assert.ok(lines.includes('customer.zone.\t3600\tIN\tHSYNC\tON echo agent.echo.example. alpha'));
  assert.ok(lines.includes('customer.zone.\t3600\tIN\tHSYNCPARAM\tservers="alpha,bravo,echo" signers="alpha,bravo" nsmgmt="agent"'));
  // Canonical order: apex records first, then *.apps before ftp (RFC 4034 §6.1), shop's glue after shop.
  const owners = lines.map((l) => l.split('\t')[0]);
  assert.ok(owners.indexOf('*.apps.customer.zone.') < owners.indexOf('ftp.customer.zone.'));
  assert.ok(owners.indexOf('shop.customer.zone.') < owners.indexOf('ns1.shop.customer.zone.'));
  assert.deepEqual(keys(parseZone(text, { origin })), keys(zone));
  const relative = printZone(zone, { relative: true });
  assert.match(relative, /^\$ORIGIN customer\.zone\.\n@\t3600\tIN\tSOA\t/);
  assert.match(relative, /\n\*\.apps\t3600\tIN\tA\t192\.0\.2\.99\n/);
  assert.deepEqual(keys(parseZone(relative, { origin })), keys(zone));
});

test('print/parse round trip of a generated zone and of escaped names and \\# data', { timeout: 20_000 }, () => {
  const origin = parseName('gen.example.');
  const gen = parseZone(generateZone({ origin, records: 3000, seed: 3 }).text, { origin });
  assert.deepEqual(keys(parseZone(printZone(gen), { origin })), keys(gen));
  const odd = parseZone(
    '$TTL 5\n@ SOA ns host 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\na\\.b A 192.0.2.2\n\\@\\;x TXT "semi;colon" "back\\\\slash"\nu TYPE65000 \\# 2 abcd\ne TYPE65001 \\# 0\n',
    { origin },
  );
  const printed = printZone(odd);
  assert.match(printed, /^a\\\.b\.gen\.example\.\t5\tIN\tA\t192\.0\.2\.2$/m);
  assert.match(printed, /^u\.gen\.example\.\t5\tIN\tTYPE65000\t\\# 2 ABCD$/m);
  assert.deepEqual(keys(parseZone(printed, { origin })), keys(odd));
  assert.deepEqual(keys(parseZone(printZone(odd, { relative: true }), { origin })), keys(odd));
});
