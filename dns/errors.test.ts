import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { DnsError, FieldError, inputError, RdataError } from './errors.ts';
import type { Token } from './presentation/tokenizer.ts';
import { encodeRdata, parseRdata } from './rdata/codec.ts';
import { RRType } from './types.ts';

test('inputError passes a DnsError on and re-throws anything else unchanged', () => {
  const bad = new FieldError('bad IPv4 address "1.2.3"');
  assert.equal(inputError(bad), bad);
  const bug = new TypeError("Cannot read properties of undefined (reading 'length')");
  assert.throws(() => inputError(bug), (err: unknown) => err === bug);
  assert.throws(() => inputError('a string'), (err: unknown) => err === 'a string');
});

test('RDATA parsers throw DnsErrors: bad text is an RdataError with the token', () => {
  const tokens: Token[] = [{ text: '192.0.2', quoted: false, line: 1, col: 1 }];
  assert.throws(
    () => parseRdata(RRType.A, tokens),
    (err: unknown) => err instanceof RdataError && err.tokenIndex === 0 && /bad IPv4 address/.test(err.reason) && err.cause instanceof FieldError,
  );
});

test('a bug inside the RDATA codec is not reported as bad input', () => {
  // A TypeError raised while parsing (here by a token whose text cannot be read) reaches the
  // caller as itself, not as "bad A RDATA: ...".
  const bug = new TypeError('a parser bug');
  const token = {
    quoted: false,
    line: 1,
    col: 1,
    get text(): string {
      throw bug;
    },
  };
  assert.throws(() => parseRdata(RRType.A, [token]), (err: unknown) => err === bug);
  // The same on the way out: a value whose bytes cannot be read is a bug, not "field ...: bad".
  class Unreadable extends Uint8Array {
    override get length(): number {
      throw bug;
    }
  }
  assert.throws(() => encodeRdata(RRType.OPENPGPKEY, { key: new Unreadable(4) }), (err: unknown) => err === bug);
  // While bad values stay DnsErrors.
  assert.throws(() => encodeRdata(RRType.A, { address: 'not an address' }), DnsError);
});
