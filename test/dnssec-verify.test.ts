// Judges: every signed output passes BIND's dnssec-verify and ldns-verify-zone, and a tampered
// record is reported bogus by both.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { generateKey, SignedZone, type Denial } from '../dns/dnssec/index.ts';
import { parseName } from '../dns/name.ts';
import type { RR } from '../dns/rr.ts';
import { RRType, typeToString } from '../dns/types.ts';
import { haveBinary } from './support/daemon.ts';
import { tmpDir, type TmpDir } from './support/tmp.ts';
import { a, cat, ns, rr, soa, txt } from './support/records.ts';

const run = promisify(execFile);
const origin = parseName('example.');

function zone(): RR[] {
  const out = [
    soa(1),
    ns('example.', 'ns1.example.'),
    a('ns1.example.', '192.0.2.1'),
    a('www.example.', '192.0.2.2'),
    txt('www.example.', 'hello world'),
    a('a.b.c.example.', '192.0.2.3'),
    txt('*.w.example.', 'wild'),
    ns('sub.example.', 'ns.sub.example.'),
    a('ns.sub.example.', '192.0.2.9'),
    ns('sec.example.', 'ns.sec.example.'),
    a('ns.sec.example.', '192.0.2.10'),
    rr('sec.example.', RRType.DS, cat(Uint8Array.of(0, 1, 15, 2), new Uint8Array(32).fill(7))),
  ];
  for (let i = 0; i < 40; i++) out.push(a(`h${i}.example.`, `10.0.0.${i}`));
  return out;
}

/** RFC 3597 generic presentation: every type, known or not, as `\# len hex`. */
function zoneText(records: Iterable<RR>): string {
  let s = '';
  for (const r of records) {
    s += `${r.name} ${r.ttl} IN ${typeToString(r.type)} \\# ${r.rdata.length} ${Buffer.from(r.rdata).toString('hex')}\n`;
  }
  return s;
}

async function judge(file: string): Promise<{ bind: number; ldns: number; out: string }> {
  const code = async (cmd: string, args: string[]): Promise<[number, string]> => {
    try {
      const r = await run(cmd, args, { timeout: 30_000 });
      return [0, r.stdout + r.stderr];
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return [typeof e.code === 'number' ? e.code : 99, `${e.stdout ?? ''}${e.stderr ?? ''}`];
    }
  };
  const [bind, o1] = await code('dnssec-verify', ['-q', '-o', origin, file]);
  const [ldns, o2] = await code('ldns-verify-zone', [file]);
  return { bind, ldns, out: `${o1}\n${o2}` };
}

const missing = ['dnssec-verify', 'ldns-verify-zone'].filter((b) => !haveBinary(b));
const skip = missing.length > 0 ? `needs ${missing.join(', ')}` : false;
let dir: TmpDir;
before(async () => {
  dir = await tmpDir('mpdns-dnssec-verify-');
});
after(async () => {
  await dir.remove();
});

const denials: Denial[] = [
  { kind: 'nsec' },
  { kind: 'nsec3', iterations: 0, salt: new Uint8Array(0), optOut: false },
  { kind: 'nsec3', iterations: 0, salt: Uint8Array.of(0xab, 0xcd), optOut: true },
];

for (const algorithm of [15, 13]) {
  for (const denial of denials) {
    const label = `alg ${algorithm} ${denial.kind}${denial.kind === 'nsec3' && denial.optOut ? ' opt-out' : ''}`;
    test(`${label}: signed, with foreign DNSKEYs, then incrementally changed: both judges accept; tampered: both reject`, { skip, timeout: 60_000 }, async () => {
      const keys = [generateKey(origin, algorithm, 257), generateKey(origin, algorithm, 256)];
      const foreign = [generateKey(origin, algorithm, 257).dnskey, generateKey(origin, algorithm, 256).dnskey];
      const z = SignedZone.sign(zone(), { origin, keys, foreignDnskeys: foreign, denial });
      const file = join(dir.path, `${label.replace(/ /g, '_')}.zone`);
      await writeFile(file, zoneText(z.records()));
      let v = await judge(file);
      assert.deepEqual([v.bind, v.ldns], [0, 0], v.out);

      z.apply({
        removed: [soa(1), a('www.example.', '192.0.2.2'), a('h3.example.', '10.0.0.3'), rr('sec.example.', RRType.DS, cat(Uint8Array.of(0, 1, 15, 2), new Uint8Array(32).fill(7)))],
        added: [soa(2), a('www.example.', '192.0.2.99'), a('x.y.z.example.', '10.9.9.9'), ns('h7.example.', 'ns.elsewhere.'), txt('*.example.', 'apex wildcard')],
      });
      await writeFile(file, zoneText(z.records()));
      v = await judge(file);
      assert.deepEqual([v.bind, v.ldns], [0, 0], v.out);

      const tampered = [...z.records()].map((r) =>
        r.name === 'www.example.' && r.type === RRType.A ? { ...r, rdata: Uint8Array.of(192, 0, 2, 66) } : r,
      );
      await writeFile(file, zoneText(tampered));
      v = await judge(file);
      assert.notEqual(v.bind, 0, 'dnssec-verify must reject a tampered record');
      assert.notEqual(v.ldns, 0, 'ldns-verify-zone must reject a tampered record');
    });
  }
}
