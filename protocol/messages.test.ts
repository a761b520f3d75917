import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MessageError } from './errors.ts';
import { decodeMessage, encodeMessage, MAX_MESSAGE_BYTES, messageToJson, type Message } from './messages.ts';

interface Vector {
  name: string;
  wire: Record<string, unknown>;
  message: Message;
  also: Record<string, unknown>[];
}
const file = JSON.parse(readFileSync(new URL('../test/vectors/protocol-messages.json', import.meta.url), 'utf8')) as {
  vectors: Vector[];
  invalid: { name: string; text: string; field: string | null }[];
};
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

for (const v of file.vectors) {
  test(`message vector: ${v.name}`, () => {
    assert.deepEqual(decodeMessage(utf8(JSON.stringify(v.wire))), v.message);
    assert.equal(JSON.stringify(messageToJson(v.message)), JSON.stringify(v.wire), 'we write the TDNS shape byte for byte');
    assert.deepEqual(decodeMessage(encodeMessage(v.message)), v.message);
    for (const [i, alt] of v.also.entries()) assert.deepEqual(decodeMessage(utf8(JSON.stringify(alt))), v.message, `also[${i}]`);
  });
}

for (const c of file.invalid) {
  test(`message refused: ${c.name}`, () => {
    assert.throws(
      () => decodeMessage(utf8(c.text)),
      (e: unknown) => e instanceof MessageError && (c.field === null ? e.field === undefined : e.field === c.field),
    );
  });
}

test('message refused: oversize body and invalid UTF-8, before parsing', () => {
  assert.throws(() => decodeMessage(new Uint8Array(MAX_MESSAGE_BYTES + 1)), /exceeds the limit/);
  assert.throws(() => decodeMessage(Uint8Array.of(0x7b, 0xff, 0x7d)), MessageError);
});

test('message decode: a __proto__ owner stays data', () => {
  const text = '{"MessageType":"update","OriginatorID":"a.","YourIdentity":"b.","Zone":"z.","records":{"__proto__":["x"]},"Time":"2026-12-04T12:00:00Z"}';
  const m = decodeMessage(utf8(text));
  assert.equal(m.type, 'update');
  if (m.type === 'update') assert.deepEqual(Object.keys(m.records), ['__proto__']);
  assert.equal(({} as Record<string, unknown>)['x'], undefined);
});

test('hello: the combiner transfer endpoint (addresses, port) round-trips, TDNS keys; a bad address is refused', () => {
  const bytes = new TextEncoder().encode(JSON.stringify({ MessageType: 'hello', MyIdentity: 'agent.alpha.example.', YourIdentity: 'agent.echo.example.', Zone: 'customer.zone.', Time: '2026-12-04T10:00:00Z', addresses: ['127.0.0.1', '::1'], port: 5399 }));
  const m = decodeMessage(bytes);
  assert.ok(m.type === 'hello');
  assert.deepEqual([m.addresses, m.port], [['127.0.0.1', '::1'], 5399]);
  assert.deepEqual(decodeMessage(encodeMessage(m)), m);
  const plain = decodeMessage(new TextEncoder().encode(JSON.stringify({ MessageType: 'hello', MyIdentity: 'a.example.', YourIdentity: 'b.example.', Zone: 'z.', Time: '2026-12-04T10:00:00Z' })));
  assert.ok(plain.type === 'hello' && plain.addresses === undefined && plain.port === undefined);
  const bad = new TextEncoder().encode(JSON.stringify({ MessageType: 'hello', MyIdentity: 'a.example.', YourIdentity: 'b.example.', Zone: 'z.', Time: '2026-12-04T10:00:00Z', addresses: ['ns.example.'] }));
  assert.throws(() => decodeMessage(bad), (e: unknown) => e instanceof MessageError && /addresses\[0\]/.test(e.message));
});
