// Presentation interop with BIND: every standard-type vector we print is loaded by
// named-checkzone, and BIND's own dump of the zone parses back to the same wire bytes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseName } from '../dns/name.ts';
import { tokenizeLines } from '../dns/presentation/tokenizer.ts';
import { parseRdata, rdataToText } from '../dns/rdata/index.ts';
import { parseType, typeFromString } from '../dns/types.ts';
import { haveBinary } from './support/daemon.ts';
import { tmpDir } from './support/tmp.ts';

interface Vector {
  type: string;
  hex: string;
  printed: string;
}
const vectors = (
  JSON.parse(readFileSync(new URL('./vectors/rdata.json', import.meta.url), 'utf8')) as { vectors: Vector[] }
).vectors;

// Private-use types BIND does not know, TSIG (not zone data), obsolete MD/MF (BIND refuses
// them in zones) and SOA (only one, at the apex).
const SKIP = new Set(['TSIG', 'HSYNC', 'HSYNC3', 'HSYNCPARAM', 'CHUNK', 'JWK', 'MD', 'MF', 'SOA']);
const PRIVATE = /\b(HSYNC|HSYNCPARAM|CHUNK|JWK)\b/;

test('named-checkzone loads our presentation and its dump parses back to our bytes', { timeout: 60000, skip: haveBinary('named-checkzone') ? false : 'named-checkzone not installed' }, async () => {
  const dir = await tmpDir('mpdns-rdata-bind-');
  try {
    const origin = parseName('example.');
    const expected = new Map<string, { type: number; hex: string }>();
    const lines = ['$ORIGIN example.', '$TTL 300', '@ SOA ns1 host 1 2 3 4 5', '@ NS ns1', 'ns1 A 192.0.2.1'];
    vectors.forEach((v, i) => {
      if (SKIP.has(v.type) || PRIVATE.test(v.printed)) return;
      lines.push(`r${i} ${v.type} ${v.printed}`);
      expected.set(`r${i}.example.`, { type: parseType(v.type), hex: v.hex });
    });
    assert.ok(expected.size >= 45, `only ${expected.size} standard vectors`);
    const file = join(dir.path, 'example.zone');
    writeFileSync(file, lines.join('\n') + '\n');
    const r = spawnSync('named-checkzone', ['-k', 'ignore', '-i', 'local', '-D', '-o', '-', 'example.', file], {
      encoding: 'utf8',
      timeout: 30000,
    });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    let checked = 0;
    for (const line of tokenizeLines(r.stdout)) {
      const t = line.tokens;
      const owner = t[0]?.text ?? '';
      const want = expected.get(owner);
      if (want === undefined) continue;
      // owner TTL IN TYPE rdata...
      assert.equal(typeFromString(t[3]?.text ?? ''), want.type, owner);
      const wire = parseRdata(want.type, t, origin, 4);
      assert.equal(Buffer.from(wire).toString('hex'), want.hex, `${owner}: ${rdataToText(want.type, wire)}`);
      checked++;
    }
    assert.equal(checked, expected.size, 'every record came back from BIND');
  } finally {
    await dir.remove();
  }
});
