import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import { parseName } from '../name.ts';
import { RRType } from '../types.ts';
import { query } from './client.ts';
import { TimeoutError } from './errors.ts';

test('query: an unanswered UDP query is tried `attempts` times and the error says how long it waited in all', { timeout: 60_000 }, async () => {
  const silent = createSocket('udp4');
  let received = 0;
  silent.on('message', () => received++);
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
  try {
    const err = await query({ address: '127.0.0.1', port: silent.address().port }, parseName('x.example.'), RRType.A, { attempts: 3, timeoutMs: 200 }).then(
      () => assert.fail('answered'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof TimeoutError, String(err));
    assert.match(err.message, /^no UDP answer from 127\.0\.0\.1:\d+ in ([\d,]+) ms \(3 tries of 200 ms each\)$/);
    const waited = Number(/in ([\d,]+) ms/.exec(err.message)?.[1]?.replace(/,/g, ''));
    assert.ok(waited >= 3 * 200 - 10, `reports the total waited, not one try: ${err.message}`);
    assert.equal(received, 3);
  } finally {
    silent.close();
  }
});
