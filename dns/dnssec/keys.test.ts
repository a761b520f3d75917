import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { createECDH, createPrivateKey, createPublicKey, generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { test } from 'node:test';
import { parseName } from '../name.ts';
import { RRType } from '../types.ts';
import { keyFromBindFiles, formatKeyFile, formatPrivateFile, keyRoleAt, parseKeyFile, parsePrivateFile } from './bindkeys.ts';
import { rdataToText } from '../rdata/index.ts';
import { CDNSKEY_DELETE, CDS_DELETE, decodeDs, dsFromDnskey, dsMatches, encodeDs } from './ds.ts';
import { DnssecWireError, KeyError } from './errors.ts';
import { encodeDnskey, generateKey, signData, verifyData, publicKeyObject, decodeDnskey, privateKeyFromRaw } from './keys.ts';
import { keyTag } from './keytag.ts';
import { prepareSign, runSignJob } from './sign.ts';
import { verifyRrsig } from './verify.ts';

const zone = parseName('example.');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

// Vectors written by BIND 9 dnssec-keygen, DS values by dnssec-dsfromkey.
const ED_KEY = 'example. IN DNSKEY 257 3 15 nadHWXOHaLoJ91ZYZndioJ1Z2oT/cq27hjCP2+WGVpg=\n';
const ED_PRIV =
  'Private-key-format: v1.3\nAlgorithm: 15 (ED25519)\nPrivateKey: ujxpPGhtiKrZrm+36cOMgem9Vxcz/KaFpplvRfWBcuM=\nCreated: 20261127210333\n';
const P256_KEY =
  '; This is a zone-signing key, keyid 52213, for example.\nexample. IN DNSKEY 256 3 13 sct4uSgfaotO/vHKmH9gdAxd9jSiDhYoZ/PXSCRV4gvRJvY3sKDPZfuj Se6XUyFS8yaJIqx2LqdsRIgRXenhUQ==\n';
const P256_PRIV =
  'Private-key-format: v1.3\nAlgorithm: 13 (ECDSAP256SHA256)\nPrivateKey: VSOwdsyzXTMvM9uqJQAeToi3ayJOxWLZCTZZ4/uMSFc=\nCreated: 20261127210333\n';

test('BIND key files: private key derives the published DNSKEY, key tags match', { timeout: 5000 }, () => {
  const ed = keyFromBindFiles(ED_KEY, ED_PRIV, { zone });
  assert.equal(ed.keyTag, 26098);
  assert.equal(ed.algorithm, 15);
  assert.equal(ed.flags, 257);
  assert.equal(ed.created, Date.UTC(2026, 10, 27, 21, 3, 33) / 1000);
  const p = keyFromBindFiles(P256_KEY, P256_PRIV, { zone });
  assert.equal(p.keyTag, 52213);
  assert.equal(p.flags, 256);
  assert.equal(keyTag(parseKeyFile(P256_KEY).dnskey), 52213);
});

test('DS digests equal dnssec-dsfromkey (SHA-256, SHA-384)', { timeout: 5000 }, () => {
  const ed = parseKeyFile(ED_KEY).dnskey;
  assert.equal(hex(dsFromDnskey(zone, ed, 2)), '65F20F02' + 'D0211EB1D6BEED8DE8F5B253A95E49480C219B8309F246E2437E0D2AD4F62933');
  assert.equal(
    hex(dsFromDnskey(zone, ed, 4)),
    '65F20F04' + 'EF65E2610ED53449380EC160A5377C9D41B23CE3691A9D1E8C46D501A7F7DFDF24B6BD691AA6DB8A7FAEF59521791FA7',
  );
  const p = parseKeyFile(P256_KEY).dnskey;
  assert.equal(hex(dsFromDnskey(zone, p)), 'CBF50D02' + 'B013739379088CE155B9555ABD3EAB601E7CD95C69BBAEBEFBC57AB7832FA35E');
  assert.ok(dsMatches(zone, dsFromDnskey(zone, p), p));
  assert.ok(!dsMatches(zone, dsFromDnskey(zone, p), ed));
  assert.equal(hex(CDS_DELETE), '0000000000');
  assert.equal(hex(CDNSKEY_DELETE), '0000030000');
});

test('DS and DNSKEY RDATA go through dns/rdata\'s codec; malformed RDATA is a DnssecWireError', { timeout: 5000 }, () => {
  const dnskey = parseKeyFile(ED_KEY).dnskey;
  const f = decodeDnskey(dnskey);
  assert.deepEqual({ ...f, publicKey: hex(f.publicKey) }, { flags: 257, protocol: 3, algorithm: 15, publicKey: hex(dnskey.subarray(4)) });
  assert.equal(hex(encodeDnskey(f)), hex(dnskey));
  const ds = dsFromDnskey(zone, dnskey);
  assert.equal(rdataToText(RRType.DS, ds), `26098 15 2 ${hex(decodeDs(ds).digest)}`);
  assert.equal(hex(encodeDs(decodeDs(ds))), hex(ds));
  assert.deepEqual({ ...decodeDs(CDS_DELETE), digest: hex(decodeDs(CDS_DELETE).digest) }, { keyTag: 0, algorithm: 0, digestType: 0, digest: '00' });
  assert.equal(decodeDnskey(CDNSKEY_DELETE).protocol, 3);
  for (const bad of [new Uint8Array(0), new Uint8Array(3), new Uint8Array(4)]) {
    assert.throws(() => decodeDnskey(bad), DnssecWireError, `DNSKEY of ${bad.length} octets`);
    assert.throws(() => decodeDs(bad), DnssecWireError, `DS of ${bad.length} octets`);
  }
});

test('BIND key files: mismatched halves, wrong zone, bad text are KeyErrors naming the file', { timeout: 5000 }, () => {
  assert.throws(() => keyFromBindFiles(ED_KEY, P256_PRIV, { privateFile: 'K.private' }), /K\.private: algorithm 13/);
  const otherEd = ED_PRIV.replace('ujxp', 'ujxq');
  assert.throws(() => keyFromBindFiles(ED_KEY, otherEd, { privateFile: 'x.private' }), /x\.private: private key does not match/);
  assert.throws(() => keyFromBindFiles(ED_KEY, ED_PRIV, { zone: parseName('other.'), keyFile: 'a.key' }), /a\.key: key 26098 is for zone example\./);
  assert.throws(() => keyFromBindFiles('garbage', ED_PRIV), KeyError);
  assert.throws(() => keyFromBindFiles(ED_KEY, 'PrivateKey: AAAA'), /Private-key-format/);
  assert.throws(
    () => keyFromBindFiles(ED_KEY, 'Private-key-format: v1.3\nAlgorithm: 8 (RSASHA256)\nModulus: AA==\n'),
    /unsupported signing algorithm 8/,
  );
});

for (const algorithm of [13, 14, 15]) {
  test(`algorithm ${algorithm}: generate, export, re-import, sign, verify`, { timeout: 5000 }, () => {
    const key = generateKey(zone, algorithm, 257);
    const again = keyFromBindFiles(formatKeyFile(key), formatPrivateFile(key), { zone });
    assert.deepEqual(again.dnskey, key.dnskey);
    assert.equal(again.keyTag, key.keyTag);
    const rr = { name: parseName('www.example.'), type: RRType.A, class: 1, ttl: 300, rdata: Uint8Array.of(192, 0, 2, 1) };
    const now = 1_800_000_000;
    const sig = runSignJob(prepareSign(rr.name, rr.type, 1, 300, [rr.rdata], again, { inception: now - 10, expiration: now + 10 }));
    assert.deepEqual(verifyRrsig([rr], sig, [key.dnskey], now), { ok: true, keyTag: key.keyTag });
    const tampered = { ...rr, rdata: Uint8Array.of(192, 0, 2, 2) };
    assert.equal(verifyRrsig([tampered], sig, [key.dnskey], now).ok, false);
    assert.match((verifyRrsig([rr], sig, [key.dnskey], now + 100) as { reason: string }).reason, /expired/);
  });
}

test('ECDSA verification accepts high-S signatures (r, n - s)', { timeout: 5000 }, () => {
  const key = generateKey(zone, 13, 256);
  const data = Buffer.from('some data');
  const sig = signData(13, key.privateKey, data);
  const n = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
  const s = BigInt('0x' + Buffer.from(sig.subarray(32)).toString('hex'));
  const flipped = new Uint8Array(64);
  flipped.set(sig.subarray(0, 32));
  flipped.set(Buffer.from((n - s).toString(16).padStart(64, '0'), 'hex'), 32);
  assert.notDeepEqual(flipped, sig);
  const pub = publicKeyObject(13, decodeDnskey(key.dnskey).publicKey);
  assert.ok(verifyData(13, pub, data, sig));
  assert.ok(verifyData(13, pub, data, flipped));
});

for (const [alg, hash] of [[8, 'sha256'], [10, 'sha512']] as const) {
  test(`RSA algorithm ${alg}: RFC 3110 DNSKEY parsed and RRSIG verified`, { timeout: 10000 }, () => {
    // The pair leaves the generation job as DER and is read back: a JWK export of a generated
    // key itself can deadlock on Node 20 (see generateKey in keys.ts).
    const pair = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'der' },
      privateKeyEncoding: { type: 'pkcs8', format: 'der' },
    });
    const privateKey = createPrivateKey({ key: pair.privateKey, format: 'der', type: 'pkcs8' });
    const jwk = createPublicKey({ key: pair.publicKey, format: 'der', type: 'spki' }).export({ format: 'jwk' });
    const e = Buffer.from(jwk.e ?? '', 'base64url');
    const n = Buffer.from(jwk.n ?? '', 'base64url');
    const pub = Buffer.concat([Uint8Array.of(e.length), e, n]);
    const dnskey = encodeDnskey({ flags: 256, protocol: 3, algorithm: alg, publicKey: pub });
    const fake = { zone, flags: 256, algorithm: alg, keyTag: keyTag(dnskey), dnskey, privateKey, created: 0 };
    const rr = { name: zone, type: RRType.TXT, class: 1, ttl: 60, rdata: Uint8Array.of(2, 0x68, 0x69) };
    const job = prepareSign(zone, RRType.TXT, 1, 60, [rr.rdata], fake, { inception: 0, expiration: 0x7fffffff });
    const sig = cryptoSign(hash, job.input, privateKey);
    const rdata = new Uint8Array(job.header.length + sig.length);
    rdata.set(job.header);
    rdata.set(sig, job.header.length);
    const rrsig = { name: zone, type: RRType.RRSIG, class: 1, ttl: 60, rdata };
    assert.equal(verifyRrsig([rr], rrsig, [dnskey]).ok, true);
    rdata[rdata.length - 1] = (rdata[rdata.length - 1] ?? 0) ^ 1;
    assert.equal(verifyRrsig([rr], rrsig, [dnskey]).ok, false);
  });
}

test('BIND timing: which keys sign, which are only published', { timeout: 5000 }, () => {
  const now = 1_800_000_000;
  assert.equal(keyRoleAt({}, now), 'sign');
  assert.equal(keyRoleAt({ publish: now - 10, activate: now + 10 }, now), 'publish');
  assert.equal(keyRoleAt({ publish: now + 10, activate: now + 20 }, now), 'none');
  assert.equal(keyRoleAt({ activate: now - 20, inactive: now - 10 }, now), 'publish');
  assert.equal(keyRoleAt({ activate: now - 20, inactive: now - 10, delete: now - 5 }, now), 'none');
  const t = parsePrivateFile(ED_PRIV.replace('Created: 20261127210333', 'Created: 20261127210333\nActivate: 20261227000000'));
  assert.equal(t.activate, Date.UTC(2026, 11, 27) / 1000);
});

test('a P-256 scalar written without its leading zero octet (as BIND does) loads as the same key', { timeout: 10000 }, () => {
  // About one key in 256 has a scalar below 2^248; find one. createECDH returns it without
  // the leading zero octet, as BIND writes it.
  let d = Buffer.alloc(0);
  let pub = Buffer.alloc(0);
  for (let i = 0; i < 20000 && d.length !== 31; i++) {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    d = ecdh.getPrivateKey();
    pub = ecdh.getPublicKey();
  }
  assert.equal(d.length, 31, 'found a scalar with a leading zero octet');
  const jwk = { x: pub.subarray(1, 33).toString('base64url'), y: pub.subarray(33).toString('base64url') };
  const key = privateKeyFromRaw(13, d);
  const back = key.export({ format: 'jwk' }) as typeof jwk;
  assert.equal(back.x, jwk.x);
  assert.equal(back.y, jwk.y);
  assert.throws(() => privateKeyFromRaw(13, new Uint8Array(33)), KeyError);
});

test('generating thousands of keys does not deadlock (Node 20: JWK export of a generateKeyPairSync key)', { timeout: 120_000 }, () => {
  // In a child process: a deadlock blocks the thread, so only a parent can time it out. With
  // generateKeyPairSync, each of three runs of one such loop hung within 3,000 keys here.
  const script = `const { generateKey } = await import(${JSON.stringify(new URL('./keys.ts', import.meta.url).href)});
    for (const alg of [13, 15]) for (let i = 0; i < 6000; i++) generateKey('example.', alg, 256);
    process.stdout.write('done');`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 90_000, encoding: 'utf8' });
  assert.equal(r.signal, null, `key generation hung (killed by ${r.signal}): ${r.stderr}`);
  assert.equal(r.stdout, 'done', r.stderr);
});
