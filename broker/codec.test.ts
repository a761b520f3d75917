import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decode, encode } from './codec.ts';
import { CodecError, PoisonMessageError } from './errors.ts';

describe('msgpack codec', () => {
  it('round-trips JSON-like values', { timeout: 10_000 }, () => {
    fc.assert(
      fc.property(
        fc.jsonValue().filter((v) => !JSON.stringify(v).includes('"__proto__"')),
        (v) => {
          assert.deepEqual(decode(encode(v)), JSON.parse(JSON.stringify(v)) as unknown);
        },
      ),
      { numRuns: 300 },
    );
    assert.deepEqual(decode(encode({ type: 'update', rrs: [1, 2], data: new Uint8Array([1, 2]) })), {
      type: 'update',
      rrs: [1, 2],
      data: Buffer.from([1, 2]), // bin decodes as a Buffer (a Uint8Array)
    });
  });

  it('renames a __proto__ key (msgpackr: __proto_) instead of polluting prototypes', { timeout: 5000 }, () => {
    const v = decode(encode(JSON.parse('{"a":1,"__proto__":{"polluted":true}}'))) as Record<string, unknown>;
    assert.deepEqual(Object.keys(v), ['a', '__proto_']);
    assert.equal(Object.getPrototypeOf(v), Object.prototype);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  it('throws CodecError (a poison message) on garbage, never anything else', { timeout: 10_000 }, () => {
    for (const bad of [[], [0xc1], [0x92, 0x01], [0xd9, 0x05, 0x41], [0x01, 0x02], [0x91, 0xc1]]) {
      assert.throws(() => decode(new Uint8Array(bad)), (e: unknown) => e instanceof CodecError && e instanceof PoisonMessageError);
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        try {
          decode(b);
        } catch (e) {
          assert.ok(e instanceof CodecError, String(e));
        }
      }),
      { numRuns: 2000 },
    );
  });
});
