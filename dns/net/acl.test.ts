import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Acl, parseCidr } from './acl.ts';
import { AclError } from './errors.ts';
import { parseHostPort, FrameReader, frame } from './transport.ts';

test('CIDR matching for IPv4, IPv6 and mapped addresses', { timeout: 5000 }, () => {
  const acl = new Acl(['127.0.0.0/8', '10.1.2.3', '2001:db8::/32', '::1']);
  for (const ok of ['127.0.0.1', '127.255.1.2', '10.1.2.3', '::ffff:127.0.0.9', '2001:db8:1::5', '::1']) {
    assert.equal(acl.allows(ok), true, ok);
  }
  for (const no of ['128.0.0.1', '10.1.2.4', '2001:db9::1', '::2', 'garbage', '']) {
    assert.equal(acl.allows(no), false, no);
  }
  assert.equal(new Acl(['0.0.0.0/0']).allows('8.8.8.8'), true);
  assert.equal(new Acl(['192.168.1.0/25']).allows('192.168.1.127'), true);
  assert.equal(new Acl(['192.168.1.0/25']).allows('192.168.1.128'), false);
  assert.equal(new Acl([]).allows('127.0.0.1'), false);
  for (const bad of ['1.2.3.4/33', '1.2.3/8', 'x::y', '::1/129', '1.2.3.4/a']) {
    assert.throws(() => parseCidr(bad), AclError, bad);
  }
});

test('ADDR:PORT parsing and TCP framing', { timeout: 5000 }, () => {
  assert.deepEqual(parseHostPort('127.0.0.1:53'), { address: '127.0.0.1', port: 53 });
  assert.deepEqual(parseHostPort('[::1]:5353'), { address: '::1', port: 5353 });
  assert.deepEqual(parseHostPort('::1', 53), { address: '::1', port: 53 });
  assert.throws(() => parseHostPort('localhost:53'));
  assert.throws(() => parseHostPort('127.0.0.1:99999'));
  const r = new FrameReader();
  const both = Buffer.concat([frame(Uint8Array.of(1, 2, 3)), frame(Uint8Array.of(4))]);
  assert.deepEqual(r.push(both.subarray(0, 4)), []);
  assert.deepEqual(r.push(both.subarray(4)).map((m) => [...m]), [[1, 2, 3], [4]]);
  assert.equal(r.pending, 0);
});
