// Verification against an independent signer: BIND's dnssec-signzone signs a zone with RSA
// (8, 10), ECDSA (13, 14) and Ed25519 (15) keys from dnssec-keygen; every RRSIG it made must
// verify with dns/dnssec/verify.ts, and a changed record must not.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { readZoneRecords } from '../dns/files/load.ts';
import { decodeRrsig, verifyRrsig } from '../dns/dnssec/index.ts';
import { parseName } from '../dns/name.ts';
import type { RR } from '../dns/rr.ts';
import { RRType } from '../dns/types.ts';
import { haveBinary } from './support/daemon.ts';
import { tmpDir, type TmpDir } from './support/tmp.ts';

const exec = promisify(execFile);
const missing = ['dnssec-keygen', 'dnssec-signzone'].filter((b) => !haveBinary(b));
const skip = missing.length > 0 ? `needs ${missing.join(', ')}` : false;
const origin = parseName('example.');
const ZONE = `$ORIGIN example.
$TTL 3600
@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@ IN NS ns1
@ IN MX 10 MAIL.example.
ns1 IN A 192.0.2.1
www IN A 192.0.2.2
www IN TXT "a" "b c"
*.w IN TXT "wild"
sub IN NS ns.sub
ns.sub IN A 192.0.2.9
`;

let dir: TmpDir;
before(async () => {
  dir = await tmpDir('mpdns-bind-vectors-');
});
after(async () => {
  await dir.remove();
});

function groups(records: readonly RR[]): { sets: Map<string, RR[]>; sigs: RR[] } {
  const sets = new Map<string, RR[]>();
  const sigs: RR[] = [];
  for (const r of records) {
    if (r.type === RRType.RRSIG) {
      sigs.push(r);
      continue;
    }
    const k = `${r.name}/${r.type}`;
    sets.set(k, [...(sets.get(k) ?? []), r]);
  }
  return { sets, sigs };
}

for (const alg of ['RSASHA256', 'RSASHA512', 'ECDSAP256SHA256', 'ECDSAP384SHA384', 'ED25519']) {
  test(`every RRSIG dnssec-signzone makes with ${alg} verifies; a changed record does not`, { skip, timeout: 60_000 }, async () => {
    const d = join(dir.path, alg);
    await mkdir(d);
    const zoneFile = join(d, 'example.zone');
    await writeFile(zoneFile, ZONE);
    const size = alg.startsWith('RSA') ? ['-b', '2048'] : [];
    await exec('dnssec-keygen', ['-q', '-K', d, '-a', alg, ...size, '-f', 'KSK', 'example.']);
    await exec('dnssec-keygen', ['-q', '-K', d, '-a', alg, ...size, 'example.']);
    const out = join(d, 'example.signed');
    await exec('dnssec-signzone', ['-S', '-K', d, '-o', 'example.', '-f', out, zoneFile], { cwd: d, timeout: 30_000 });
    const { sets, sigs } = groups(await readZoneRecords(out, origin));
    const dnskeys = (sets.get(`example./${RRType.DNSKEY}`) ?? []).map((r) => r.rdata);
    assert.equal(dnskeys.length, 2);
    assert.ok(sigs.length >= 14, `${sigs.length} RRSIGs`);
    for (const s of sigs) {
      const f = decodeRrsig(s.rdata);
      const set = sets.get(`${s.name}/${f.typeCovered}`) ?? [];
      const v = verifyRrsig(set, s, dnskeys, Math.floor(Date.now() / 1000));
      assert.ok(v.ok, `${s.name} ${f.typeCovered}: ${JSON.stringify(v)}`);
    }
    const www = sets.get(`www.example./${RRType.A}`) ?? [];
    const wsig = sigs.find((s) => s.name === 'www.example.' && decodeRrsig(s.rdata).typeCovered === RRType.A);
    assert.ok(wsig !== undefined && www.length === 1);
    const changed = www.map((r) => ({ ...r, rdata: Uint8Array.of(192, 0, 2, 3) }));
    assert.equal(verifyRrsig(changed, wsig, dnskeys).ok, false);
  });
}
