import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { InvalidNameError } from './errors.ts';
import { Subjects, checkKey, fnv1a32, keyToken, shardOf, subjectMatches } from './subjects.ts';

describe('subjects and shard tokens', () => {
  it('FNV-1a 32 matches the reference vectors', { timeout: 5000 }, () => {
    assert.equal(fnv1a32(''), 0x811c9dc5);
    assert.equal(fnv1a32('a'), 0xe40c292c);
    assert.equal(fnv1a32('foobar'), 0xbf9cf968);
  });

  it('shard of a zone ignores case and one trailing dot, and spreads evenly', { timeout: 5000 }, () => {
    assert.equal(shardOf('Example.COM.', 16), shardOf('example.com', 16));
    assert.equal(shardOf('example.com.', 16), fnv1a32('example.com') % 16);
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 8000; i++) {
      const s = shardOf(`zone${i}.example.`, 8);
      counts[s] = (counts[s] ?? 0) + 1;
    }
    for (const c of counts) assert.ok(c > 850 && c < 1150, `uneven shard: ${counts.join(',')}`);
    assert.throws(() => shardOf('x', 0), InvalidNameError);
  });

  it('key tokens are single subject tokens and injective', { timeout: 5000 }, () => {
    assert.equal(keyToken('Example.COM.'), 'example_com');
    assert.equal(keyToken('_dns._tcp.a.'), '=5fdns_=5ftcp_a');
    assert.equal(keyToken('.'), '=');
    assert.notEqual(keyToken('a_b.'), keyToken('a.b.'));
    assert.doesNotMatch(keyToken('a*b>c d.'), /[.*> ]/);
  });

  it('builds and parses the namespace layout', { timeout: 5000 }, () => {
    const ns = new Subjects('alpha');
    const subj = ns.work('signer', 'example.com.', 8);
    assert.equal(subj, `alpha.work.signer.${shardOf('example.com', 8)}.example_com`);
    assert.equal(ns.queueOf(subj), 'signer');
    assert.equal(ns.shardOfSubject(subj), shardOf('example.com', 8));
    assert.ok(subjectMatches(ns.workFilter('signer'), subj));
    assert.ok(subjectMatches(ns.workFilter('signer', shardOf('example.com', 8)), subj));
    assert.ok(!subjectMatches(ns.workFilter('combiner'), subj));
    assert.throws(() => new Subjects('bravo').queueOf(subj), InvalidNameError);
    assert.throws(() => new Subjects('Alpha_1'), InvalidNameError);
    assert.equal(ns.stream('signer'), 'alpha_work_signer');
    assert.equal(ns.bucket('snapshots'), 'alpha_snapshots');
    assert.equal(ns.durable('signer', 3), 'signer_s3');
    assert.throws(() => checkKey('a..b'), InvalidNameError);
    assert.equal(checkKey('zone.example_com'), 'zone.example_com');
  });

  it('subject matching follows NATS wildcards', { timeout: 5000 }, () => {
    assert.ok(subjectMatches('a.*.c', 'a.b.c'));
    assert.ok(!subjectMatches('a.*', 'a.b.c'));
    assert.ok(subjectMatches('a.>', 'a.b.c'));
    assert.ok(!subjectMatches('a.>', 'a'));
  });
});
