// `mpdns sign` end to end: generated keys, BIND-generated keys, foreign DNSKEYs, NSEC3, threads;
// the output judged by dnssec-verify and ldns-verify-zone; bad input gives one clear error,
// exit 1 and no output file.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { haveBinary } from './support/daemon.ts';
import { tmpDir, type TmpDir } from './support/tmp.ts';

const exec = promisify(execFile);
const MPDNS = join(import.meta.dirname, '..', 'bin', 'mpdns');

const ZONE = `$ORIGIN example.
$TTL 3600
@ IN SOA ns1 hostmaster 2026112701 7200 3600 1209600 300
@ IN NS ns1
@ IN MX 10 mail
ns1 IN A 192.0.2.1
mail 300 IN A 192.0.2.3
www IN A 192.0.2.2
www IN TXT "hello; world" "two"
*.w IN TXT wild
sub IN NS ns.sub
ns.sub IN A 192.0.2.9
a.b.c IN AAAA 2001:db8::1
`;

async function sh(cmd: string, args: string[], cwd?: string): Promise<{ code: number; out: string }> {
  try {
    const r = await exec(cmd, args, { timeout: 60_000, ...(cwd !== undefined ? { cwd } : {}) });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 99, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

async function judges(file: string, origin = 'example.'): Promise<void> {
  const b = await sh('dnssec-verify', ['-q', '-o', origin, file]);
  assert.equal(b.code, 0, `dnssec-verify: ${b.out}`);
  const l = await sh('ldns-verify-zone', [file]);
  assert.equal(l.code, 0, `ldns-verify-zone: ${l.out}`);
}

const missing = ['dnssec-verify', 'ldns-verify-zone', 'dnssec-keygen', 'dnssec-dsfromkey'].filter((b) => !haveBinary(b));
const skip = missing.length > 0 ? `needs ${missing.join(', ')}` : false;
let dir: TmpDir;
let zoneFile: string;
before(async () => {
  dir = await tmpDir('mpdns-sign-cli-');
  zoneFile = join(dir.path, 'example.zone');
  await writeFile(zoneFile, ZONE);
});
after(async () => {
  await dir.remove();
});

test('generates a KSK and a ZSK, signs; DS equals dnssec-dsfromkey of the generated KSK', { skip, timeout: 60_000 }, async () => {
  const keys = join(dir.path, 'k1');
  await mkdir(keys);
  const out = join(dir.path, 'one.signed');
  const ds = join(dir.path, 'one.ds');
  const r = await sh(MPDNS, ['sign', '--zone', zoneFile, '--origin', 'example.', '--key-dir', keys, '--out', out, '--ds-out', ds]);
  assert.equal(r.code, 0, r.out);
  const files = (await readdir(keys)).sort();
  assert.equal(files.length, 4);
  assert.ok(files.every((f) => /^Kexample\.\+015\+[0-9]{5}\.(key|private)$/.test(f)));
  await judges(out);
  const ksk = [];
  for (const f of files.filter((x) => x.endsWith('.key'))) {
    if ((await readFile(join(keys, f), 'utf8')).includes('DNSKEY 257')) ksk.push(f);
  }
  assert.equal(ksk.length, 1);
  const bind = await sh('dnssec-dsfromkey', ['-2', join(keys, ksk[0] ?? '')]);
  const norm = (s: string): string => s.trim().split(/\s+/).filter((t) => !/^[0-9]+$/.test(t) || t.length < 6).join(' ').replace(/ 3600 /, ' ');
  assert.equal(norm((await readFile(ds, 'utf8')).replace('\t3600\t', ' ')), norm(bind.out));
  // Signing again reuses the keys.
  const again = await sh(MPDNS, ['sign', '--zone', zoneFile, '--origin', 'example.', '--key-dir', keys, '--out', out, '--ds-out', ds]);
  assert.equal(again.code, 0, again.out);
  assert.equal((await readdir(keys)).length, 4);
});

test('BIND-generated P-256 keys, foreign DNSKEYs (model 2), NSEC3, --threads 2', { skip, timeout: 90_000 }, async () => {
  const keys = join(dir.path, 'k2');
  const foreignDir = join(dir.path, 'foreign');
  await mkdir(keys);
  await mkdir(foreignDir);
  await sh('dnssec-keygen', ['-q', '-K', keys, '-a', 'ECDSAP256SHA256', '-f', 'KSK', 'example.']);
  await sh('dnssec-keygen', ['-q', '-K', keys, '-a', 'ECDSAP256SHA256', 'example.']);
  await sh('dnssec-keygen', ['-q', '-K', foreignDir, '-a', 'ECDSAP256SHA256', '-f', 'KSK', 'example.']);
  await sh('dnssec-keygen', ['-q', '-K', foreignDir, '-a', 'ECDSAP256SHA256', 'example.']);
  let foreign = '';
  for (const f of (await readdir(foreignDir)).filter((x) => x.endsWith('.key'))) foreign += await readFile(join(foreignDir, f), 'utf8');
  const foreignFile = join(dir.path, 'foreign.keys');
  await writeFile(foreignFile, foreign);
  const out = join(dir.path, 'two.signed');
  const r = await sh(MPDNS, ['sign', '--zone', zoneFile, '--origin', 'example', '--key-dir', keys, '--nsec3', '--foreign-dnskeys', foreignFile, '--threads', '2', '--out', out, '--json']);
  assert.equal(r.code, 0, r.out);
  const summary = JSON.parse(r.out.trim().split('\n').pop() ?? '{}') as { signatures: number; generatedKeys: string[] };
  assert.deepEqual(summary.generatedKeys, []);
  await judges(out);
  const text = await readFile(out, 'utf8');
  assert.equal(text.split('\n').filter((l) => /\tDNSKEY\t/.test(l)).length, 4);
  assert.ok(/\tNSEC3PARAM\t1 0 0 -/.test(text));
  assert.ok(existsSync(join(dir.path, 'dsset-example.')));
  assert.equal((await readFile(join(dir.path, 'dsset-example.'), 'utf8')).trim().split('\n').length, 2, 'DS for both KSKs');
});

test('BIND key timing: a pre-published ZSK is in the DNSKEY RRset but does not sign', { skip, timeout: 60_000 }, async () => {
  const keys = join(dir.path, 'k7');
  await mkdir(keys);
  await sh('dnssec-keygen', ['-q', '-K', keys, '-a', 'ED25519', '-f', 'KSK', 'example.']);
  await sh('dnssec-keygen', ['-q', '-K', keys, '-a', 'ED25519', 'example.']);
  const next = await sh('dnssec-keygen', ['-q', '-K', keys, '-a', 'ED25519', '-P', 'now', '-A', '+30d', 'example.']);
  const tag = /\+015\+0*([0-9]+)/.exec(next.out)?.[1];
  assert.ok(tag !== undefined, next.out);
  const out = join(dir.path, 'timing.signed');
  const r = await sh(MPDNS, ['sign', '--zone', zoneFile, '--origin', 'example.', '--key-dir', keys, '--out', out]);
  assert.equal(r.code, 0, r.out);
  await judges(out);
  const text = await readFile(out, 'utf8');
  assert.equal(text.split('\n').filter((l) => /\tDNSKEY\t/.test(l)).length, 3);
  const signers = new Set(text.split('\n').filter((l) => /\tRRSIG\t/.test(l)).map((l) => l.split(/\s+/)[10]));
  assert.equal(signers.size, 2);
  assert.ok(!signers.has(tag), `pre-published key ${tag} must not sign`);
});

test('bad input: one clear error naming the file and key or record, exit 1, no output', { skip, timeout: 120_000 }, async () => {
  const keys = join(dir.path, 'k3');
  await mkdir(keys);
  const ok = await sh(MPDNS, ['sign', '--zone', zoneFile, '--origin', 'example.', '--key-dir', keys, '--out', join(dir.path, 'k3.signed')]);
  assert.equal(ok.code, 0, ok.out);
  const noSoa = join(dir.path, 'nosoa.zone');
  await writeFile(noSoa, ZONE.split('\n').filter((l) => !l.includes('SOA')).join('\n'));
  const outside = join(dir.path, 'outside.zone');
  await writeFile(outside, ZONE + 'www.other. IN A 192.0.2.1\n');
  const broken = join(dir.path, 'broken.zone');
  await writeFile(broken, ZONE + 'bad IN A 192.0.2\n');
  const mismatched = join(dir.path, 'k4');
  await mkdir(mismatched);
  const [priv] = (await readdir(keys)).filter((f) => f.endsWith('.private'));
  for (const f of await readdir(keys)) await writeFile(join(mismatched, f), await readFile(join(keys, f)));
  const privPath = join(mismatched, priv ?? '');
  const privText = await readFile(privPath, 'utf8');
  await writeFile(privPath, privText.replace(/PrivateKey: (.)/, (_m, c: string) => `PrivateKey: ${c === 'A' ? 'B' : 'A'}`));
  const wrongZone = join(dir.path, 'k5');
  await mkdir(wrongZone);
  await sh('dnssec-keygen', ['-q', '-K', wrongZone, '-a', 'ED25519', 'other.']);
  for (const f of await readdir(wrongZone)) {
    const renamed = f.replace('Kother.', 'Kexample.');
    await writeFile(join(wrongZone, renamed), await readFile(join(wrongZone, f)));
  }
  const unreadable = join(dir.path, 'k6');
  await mkdir(unreadable);
  for (const f of (await readdir(keys)).filter((x) => x.endsWith('.key'))) await writeFile(join(unreadable, f), await readFile(join(keys, f)));

  const cases: [string, string[], RegExp][] = [
    ['zone without SOA', ['--zone', noSoa, '--key-dir', keys], /nosoa\.zone: zone example\. has no SOA/],
    ['record outside the zone', ['--zone', outside, '--key-dir', keys], /outside\.zone: record outside the zone example\.: www\.other\. A/],
    ['zone file syntax', ['--zone', broken, '--key-dir', keys], /broken\.zone:14:10: bad A RDATA: bad IPv4 address "192\.0\.2"/],
    ['mismatched private key', ['--zone', zoneFile, '--key-dir', mismatched], /k4\/Kexample\.\+015\+[0-9]{5}\.private: private key does not match the public key [0-9]+/],
    ['key for another zone', ['--zone', zoneFile, '--key-dir', wrongZone], /k5\/Kexample\.\+015\+[0-9]{5}\.key: key [0-9]+ is for zone other\., not example\./],
    ['unreadable private key', ['--zone', zoneFile, '--key-dir', unreadable], /k6\/Kexample\.\+015\+[0-9]{5}\.private: cannot read the private key file: ENOENT: no such file or directory$/m],
    ['algorithm differs from the keys', ['--zone', zoneFile, '--key-dir', keys, '--algorithm', 'ecdsap256'], /is ED25519, --algorithm asks for ECDSAP256SHA256/],
  ];
  const foreignEd = join(dir.path, 'foreign-ed.keys');
  const fdir = join(dir.path, 'fk');
  await mkdir(fdir);
  await sh('dnssec-keygen', ['-q', '-K', fdir, '-a', 'ECDSAP256SHA256', 'example.']);
  const [fkey] = (await readdir(fdir)).filter((f) => f.endsWith('.key'));
  await writeFile(foreignEd, `; another signer\n${await readFile(join(fdir, fkey ?? ''), 'utf8')}`);
  cases.push([
    'foreign key of another algorithm',
    ['--zone', zoneFile, '--key-dir', keys, '--foreign-dnskeys', foreignEd],
    /foreign-ed\.keys:[0-9]+: foreign DNSKEY [0-9]+ uses algorithm ECDSAP256SHA256, this signer ED25519: .*RFC 4035 §2\.2/,
  ]);
  await mkdir(join(dir.path, 'empty'));
  for (const [what, args, message] of cases) {
    const out = join(dir.path, `bad-${what.replace(/ /g, '-')}.signed`);
    const r = await sh(MPDNS, ['sign', '--origin', 'example.', '--out', out, '--ds-out', `${out}.ds`, ...args]);
    assert.equal(r.code, 1, `${what}: exit ${r.code}: ${r.out}`);
    assert.match(r.out, message, what);
    assert.equal(r.out.trim().split('\n').length, 1, `${what}: one line: ${r.out}`);
    assert.ok(!existsSync(out) && !existsSync(`${out}.ds`), `${what}: no output written`);
  }
  assert.deepEqual((await readdir(join(dir.path, 'empty'))).length, 0, 'no keys generated for a failed run');
  assert.deepEqual((await readdir(dir.path)).filter((f) => f.includes('.tmp-')), [], 'no temporary files left behind');
  const same = join(dir.path, 'same.signed');
  const r = await sh(MPDNS, ['sign', '--zone', zoneFile, '--origin', 'example.', '--key-dir', keys, '--out', same, '--ds-out', same]);
  assert.equal(r.code, 2, r.out);
  assert.match(r.out, /--ds-out and --out name the same file/);
  assert.ok(!existsSync(same));
});

test('the multi-provider sample zone (HSYNC, HSYNCPARAM) signs into a new key directory and loads in BIND and ldns', { skip, timeout: 90_000 }, async () => {
  const keyDir = join(dir.path, 'not', 'yet', 'there');
  const out = join(dir.path, 'customer.signed');
  const sample = join(import.meta.dirname, '..', 'examples', 'customer.zone');
  for (const extra of [[], ['--nsec3']]) {
    const r = await sh(process.execPath, [MPDNS, 'sign', '--zone', sample, '--origin', 'customer.zone.', '--key-dir', keyDir, '--out', out, ...extra]);
    assert.equal(r.code, 0, r.out);
    const text = await readFile(out, 'utf8');
    // Private-use types in RFC 3597 form, also where a type is named inside RDATA.
    assert.match(text, /\tTYPE65285\t\\# 30 0105616C706861/);
    assert.match(text, /\tRRSIG\tTYPE65286 /);
    assert.doesNotMatch(text, /HSYNC/);
    await judges(out, 'customer.zone.');
  }
  assert.equal((await readdir(keyDir)).filter((f) => f.endsWith('.key')).length, 2, 'keys generated once, then reused');
});

test('bad input (audit): input and output paths, key directories, key files, options; serve --sign too', { timeout: 120_000 }, async () => {
  const base = join(dir.path, 'audit');
  await mkdir(base);
  const at = (...p: string[]): string => join(base, ...p);
  const zone = at('z.zone');
  await writeFile(zone, ZONE);
  const sign = (args: string[]) => sh(MPDNS, ['sign', '--origin', 'example.', ...args]);
  // Keys of both algorithms, generated by mpdns sign itself.
  for (const [keys, alg] of [['ed', 'ed25519'], ['p256', 'ecdsap256']] as const) {
    const r = await sign(['--zone', zone, '--key-dir', at(keys), '--algorithm', alg, '--out', at(`${keys}.signed`)]);
    assert.equal(r.code, 0, r.out);
  }
  const keyFiles = async (d: string, ext: string): Promise<string[]> => (await readdir(d)).filter((f) => f.endsWith(ext)).map((f) => join(d, f));
  const copyKeys = async (to: string, ...from: string[]): Promise<string> => {
    for (const f of from) await cp(at(f), to, { recursive: true });
    return to;
  };
  const setPrivateKey = async (d: string, b64: string): Promise<void> => {
    const [priv] = await keyFiles(d, '.private');
    await writeFile(priv ?? '', (await readFile(priv ?? '', 'utf8')).replace(/PrivateKey: .*/, `PrivateKey: ${b64}`));
  };

  const orphan = await copyKeys(at('orphan'), 'ed');
  const [someKey] = await keyFiles(orphan, '.key');
  await rm(someKey ?? '');
  const shortKey = await copyKeys(at('short'), 'ed');
  await setPrivateKey(shortKey, 'AAAA');
  const bigScalar = await copyKeys(at('big'), 'p256');
  await setPrivateKey(bigScalar, Buffer.alloc(32, 0xff).toString('base64'));
  const mixed = await copyKeys(at('mixed'), 'ed', 'p256');
  const notDir = at('keys-file');
  await writeFile(notDir, 'not a key directory\n');
  const badForeign = at('bad.keys');
  await writeFile(badForeign, 'example. IN DNSKEY 256 3 15 AAAA\n');
  const foreign = at('foreign.keys');
  await writeFile(foreign, '; none\n');
  const broken = at('broken.zone');
  await writeFile(broken, ZONE + 'bad IN A 192.0.2\n');
  await mkdir(at('outdir'));
  const ed = at('ed');
  const out = at('out.signed');
  const ds = at('out.ds');
  const o = ['--out', out, '--ds-out', ds];

  const cases: [string, string[], number, RegExp][] = [
    ['zone is a directory', ['--zone', at('outdir'), '--key-dir', ed, ...o], 1, /^mpdns sign: \S+\/outdir: cannot read the zone file: EISDIR: illegal operation on a directory$/],
    ['foreign DNSKEYs is a directory', ['--zone', zone, '--key-dir', ed, '--foreign-dnskeys', at('outdir'), ...o], 1, /^mpdns sign: \S+\/outdir: cannot read the foreign DNSKEY file: EISDIR/],
    ['--ds-out is the zone', ['--zone', zone, '--key-dir', ed, '--out', out, '--ds-out', zone], 2, /--ds-out and --zone name the same file/],
    ['--out is the foreign DNSKEYs', ['--zone', zone, '--key-dir', ed, '--foreign-dnskeys', foreign, '--out', foreign, '--ds-out', ds], 2, /--out and --foreign-dnskeys name the same file/],
    ['--ds-out is the foreign DNSKEYs', ['--zone', zone, '--key-dir', ed, '--foreign-dnskeys', foreign, '--out', out, '--ds-out', `${base}/./foreign.keys`], 2, /--ds-out and --foreign-dnskeys name the same file/],
    ['--out is a directory', ['--zone', zone, '--key-dir', ed, '--out', at('outdir'), '--ds-out', ds], 2, /--out \S+\/outdir: is a directory/],
    ['--ds-out is a directory', ['--zone', zone, '--key-dir', ed, '--out', out, '--ds-out', at('outdir')], 2, /--ds-out \S+\/outdir: is a directory/],
    ['--out in no directory', ['--zone', zone, '--key-dir', ed, '--out', at('nodir', 'x'), '--ds-out', ds], 1, /^mpdns sign: --out \S+\/nodir\/x: cannot create: ENOENT: no such file or directory$/],
    ['private key without its .key', ['--zone', zone, '--key-dir', orphan, ...o], 1, /orphan\/Kexample\.\+015\+[0-9]{5}\.private: no Kexample\.\+015\+[0-9]{5}\.key next to it/],
    ['private key of 3 octets', ['--zone', zone, '--key-dir', shortKey, ...o], 1, /short\/Kexample\.\+015\+[0-9]{5}\.private: Ed25519 private key of 3 octets \(want 32\)/],
    ['P-256 scalar out of range', ['--zone', zone, '--key-dir', bigScalar, ...o], 1, /big\/Kexample\.\+013\+[0-9]{5}\.private: invalid P-256 private key/],
    ['--key-dir is a file', ['--zone', zone, '--key-dir', notDir, ...o], 1, /^mpdns sign: --key-dir \S+\/keys-file: not a directory$/],
    ['active keys of two algorithms', ['--zone', zone, '--key-dir', mixed, ...o], 1, /mixed: active keys of two algorithms for example\.: [0-9]+ \((ED25519|ECDSAP256SHA256)\) and [0-9]+ \((ED25519|ECDSAP256SHA256)\)/],
    ['two algorithms, two threads', ['--zone', zone, '--key-dir', mixed, '--threads', '2', ...o], 1, /mixed: active keys of two algorithms/],
    ['--algorithm bogus', ['--zone', zone, '--key-dir', at('none'), '--algorithm', 'bogus', ...o], 2, /--algorithm must be ed25519, ecdsap256 or ecdsap384 .*not "bogus"/],
    ['--threads 1000', ['--zone', zone, '--key-dir', ed, '--threads', '1000', ...o], 2, /--threads 1000: at most [0-9]+ \(1\.\.[0-9]+\)/],
    ['foreign DNSKEY of 3 octets', ['--zone', zone, '--key-dir', ed, '--foreign-dnskeys', badForeign, ...o], 1, /bad\.keys:1: foreign DNSKEY [0-9]+: Ed25519 public key of 3 octets/],
    ['failed run into a new key directory', ['--zone', broken, '--key-dir', at('new', 'keys'), ...o], 1, /broken\.zone:14:10: bad A RDATA/],
  ];
  for (const [what, args, code, message] of cases) {
    const r = await sign(args);
    assert.equal(r.code, code, `${what}: exit ${r.code}: ${r.out}`);
    assert.match(r.out.trim(), message, what);
    assert.equal(r.out.trim().split('\n').length, 1, `${what}: one line: ${r.out}`);
    assert.doesNotMatch(r.out, /\.tmp-/, `${what}: no temporary name`);
    assert.ok(!existsSync(out) && !existsSync(ds), `${what}: no output written`);
  }
  assert.equal(await readFile(zone, 'utf8'), ZONE, 'the zone file is intact');
  assert.equal(await readFile(foreign, 'utf8'), '; none\n', 'the foreign DNSKEY file is intact');
  assert.deepEqual(await readdir(at('outdir')), []);
  assert.ok(!existsSync(at('new')) && !existsSync(at('none')), 'no key directory made by a failed run');
  assert.deepEqual((await readdir(base)).filter((f) => f.includes('.tmp-')), [], 'no temporary files left behind');

  // mpdns serve --sign: keys are written only after signing succeeded; errors are
  // `mpdns serve: ...`, and one that names a key file is not put under the zone file.
  const foreignAlg = at('foreign-alg.zone');
  await writeFile(foreignAlg, ZONE + `@ IN DNSKEY 256 3 13 ${Buffer.alloc(64, 1).toString('base64')}\n`);
  const serve = (args: string[]) => sh(MPDNS, ['serve', '--listen', '127.0.0.1:1', '--sign', ...args]);
  const serveCases: [string, string[], number, RegExp][] = [
    ['zone not signable', ['--zone', `${foreignAlg}:example.`, '--key-dir', at('serve-keys')], 1, /^mpdns serve: \S+foreign-alg\.zone: foreign DNSKEY [0-9]+ uses algorithm ECDSAP256SHA256/],
    ['bad private key', ['--zone', `${zone}:example.`, '--key-dir', shortKey], 1, /^mpdns serve: \S+\/short\/Kexample\.\+015\+[0-9]{5}\.private: Ed25519 private key of 3 octets/],
    ['--key-dir is a file', ['--zone', `${zone}:example.`, '--key-dir', notDir], 1, /^mpdns serve: --key-dir \S+\/keys-file: not a directory$/],
    ['zone is a directory', ['--zone', `${at('outdir')}:example.`, '--key-dir', ed], 1, /^mpdns serve: \S+\/outdir: cannot read the zone file: EISDIR/],
    ['--threads 1000', ['--zone', zone, '--key-dir', ed, '--threads', '1000'], 2, /^mpdns serve: --threads 1000: at most [0-9]+ \(1\.\.[0-9]+\)/],
  ];
  for (const [what, args, code, message] of serveCases) {
    const r = await serve(args);
    assert.equal(r.code, code, `serve, ${what}: exit ${r.code}: ${r.out}`);
    assert.match(r.out.trim(), message, `serve, ${what}`);
    assert.equal(r.out.trim().split('\n').length, 1, `serve, ${what}: one line: ${r.out}`);
  }
  assert.ok(!existsSync(at('serve-keys')), 'serve --sign wrote no keys for a zone it could not sign');
});
