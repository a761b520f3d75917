import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  compareNames,
  isSubdomain,
  nameToWire,
  parentName,
  parseName,
  parseUserName,
  relativeName,
  type Fqdn,
} from './name.ts';
import { NameError } from './errors.ts';

test('parseName lower-cases, absolutises and canonicalises escapes', () => {
  const origin = parseName('Example.COM.');
  assert.equal(origin, 'example.com.');
  assert.equal(parseName('www', origin), 'www.example.com.');
  assert.equal(parseName('@', origin), 'example.com.');
  assert.equal(parseName('a\\.b.example.'), 'a\\.b.example.');
  assert.equal(parseName('\\065\\066.'), 'ab.');
  assert.equal(parseName('\\000x.'), '\\000x.');
  assert.equal(parseName('.'), '.');
});

test('parseName rejects bad names with NameError', () => {
  for (const bad of ['', 'a..b.', '\\', '\\25x.', '\\300.', 'x'.repeat(64) + '.', 'rel']) {
    assert.throws(() => parseName(bad), NameError, bad);
  }
  const long = Array.from({ length: 128 }, () => 'a').join('.') + '.';
  assert.throws(() => parseName(long), /longer than 255/);
});

test('parseUserName: a typed name is absolute with or without its dot; "@" and "" are refused', () => {
  assert.equal(parseUserName('Example.COM'), 'example.com.');
  assert.equal(parseUserName('example.com.'), 'example.com.');
  assert.equal(parseUserName('.'), '.');
  assert.equal(parseUserName('a\\.b'), 'a\\.b.');
  assert.equal(parseUserName('a\\.'), 'a\\..');
  assert.throws(() => parseUserName('@'), NameError);
  assert.throws(() => parseUserName(''), NameError);
  assert.throws(() => parseUserName('a..b'), NameError);
});

test('wire form, parent, subdomain and relative names', () => {
  assert.deepEqual([...nameToWire(parseName('ab.c.'))], [2, 97, 98, 1, 99, 0]);
  assert.deepEqual([...nameToWire(parseName('a\\.b.'))], [3, 97, 46, 98, 0]);
  assert.equal(parentName(parseName('a.b.c.')), 'b.c.');
  assert.equal(parentName(parseName('a\\.b.c.')), 'c.');
  assert.ok(isSubdomain(parseName('x.example.'), parseName('example.')));
  assert.ok(!isSubdomain(parseName('xexample.'), parseName('example.')));
  assert.ok(!isSubdomain(parseName('a\\.example.'), parseName('example.')));
  assert.equal(relativeName(parseName('www.example.'), parseName('example.')), 'www');
});

test('canonical order follows RFC 4034 §6.1 example', () => {
  const sorted = [
    'example.',
    'a.example.',
    'yljkjljk.a.example.',
    'Z.a.example.',
    'zABC.a.EXAMPLE.',
    'z.example.',
    '\\001.z.example.',
    '*.z.example.',
    '\\200.z.example.',
  ].map((n) => parseName(n));
  const shuffled: Fqdn[] = [...sorted].reverse();
  shuffled.sort(compareNames);
  assert.deepEqual(shuffled, sorted);
});
