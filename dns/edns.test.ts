import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WireError } from './errors.ts';
import {
  ChunkFormat,
  decodeChunkOption,
  decodeChunkQueryEndpoint,
  decodeCookieOption,
  decodeKeyStateOption,
  encodeChunkOption,
  encodeChunkQueryEndpoint,
  encodeCookieOption,
  encodeKeyStateOption,
  findOption,
} from './edns.ts';
import { decodeMessage, encodeMessage, makeQuery } from './message.ts';
import { parseName } from './name.ts';
import { EdnsOption, Opcode, RRType } from './types.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('CHUNK option 65004: Format · HMAC len · HMAC · Data len · Data', { timeout: 5000 }, () => {
  const opt = encodeChunkOption({ format: ChunkFormat.JOSE, hmac: new Uint8Array(0), data: new TextEncoder().encode('eyJ') });
  assert.equal(opt.code, 65004);
  assert.equal(hex(opt.data), '02' + '0000' + '0003' + '65794a');
  assert.deepEqual(decodeChunkOption(opt.data), { format: 2, hmac: new Uint8Array(0), data: new TextEncoder().encode('eyJ') });
  const withMac = encodeChunkOption({ format: 1, hmac: Uint8Array.of(0xaa, 0xbb), data: Uint8Array.of(1) });
  assert.equal(hex(withMac.data), '01' + '0002aabb' + '000101');
  assert.throws(() => decodeChunkOption(Uint8Array.of(2, 0, 5, 0, 0)), WireError);
  assert.throws(() => decodeChunkOption(Uint8Array.of(2, 0, 0, 0, 2, 1)), WireError);
});

test('KEYSTATE 65002 (TDNS layout), CHUNK-QUERY-ENDPOINT 65005, COOKIE 10', { timeout: 5000 }, () => {
  const ks = encodeKeyStateOption({ keyId: 12345, keyState: 3, keyData: 0, extraText: 'ok' });
  assert.deepEqual([ks.code, hex(ks.data)], [65002, '3039' + '03' + '00' + '6f6b']);
  assert.deepEqual(decodeKeyStateOption(ks.data), { keyId: 12345, keyState: 3, keyData: 0, extraText: 'ok' });
  assert.throws(() => decodeKeyStateOption(Uint8Array.of(1, 2, 3)), WireError);
  const ep = encodeChunkQueryEndpoint('192.0.2.1:5399');
  assert.equal(ep.code, 65005);
  assert.equal(decodeChunkQueryEndpoint(ep.data), '192.0.2.1:5399');
  assert.throws(() => decodeChunkQueryEndpoint(Uint8Array.of(0x20)), WireError);
  const client = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  const cookie = encodeCookieOption({ client, server: new Uint8Array(16).fill(9) });
  assert.equal(cookie.data.length, 24);
  assert.deepEqual(decodeCookieOption(cookie.data).client, client);
  assert.throws(() => decodeCookieOption(new Uint8Array(9)), WireError);
});

test('OPT round trip inside a NOTIFY: udp size, DO, version, options in order', { timeout: 5000 }, () => {
  const q = makeQuery(parseName('0badcafe.agent.alpha.example.'), RRType.CHUNK, { opcode: Opcode.NOTIFY, udpSize: 4096, dnssecOk: true });
  const chunk = encodeChunkOption({ format: 2, hmac: new Uint8Array(0), data: new Uint8Array(3000).fill(0x41) });
  const cookie = encodeCookieOption({ client: new Uint8Array(8).fill(7) });
  const msg = { ...q, edns: { ...(q.edns ?? { udpSize: 0, extRcode: 0, version: 0, do: false }), options: [cookie, chunk] } };
  const back = decodeMessage(encodeMessage(msg));
  assert.equal(back.opcode, Opcode.NOTIFY);
  assert.equal(back.edns?.udpSize, 4096);
  assert.equal(back.edns?.do, true);
  assert.deepEqual(back.edns?.options.map((o) => o.code), [EdnsOption.COOKIE, EdnsOption.CHUNK]);
  const data = findOption(back.edns, EdnsOption.CHUNK);
  assert.ok(data !== undefined);
  assert.equal(decodeChunkOption(data).data.length, 3000);
  assert.equal(findOption(back.edns, EdnsOption.KEYSTATE), undefined);
});
