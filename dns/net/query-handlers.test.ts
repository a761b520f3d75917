// DnsServer's queryHandlers: a QTYPE answered by a function instead of a zone, with fall-through
// to the zones when the handler declines, and SERVFAIL when it throws.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DnsServer } from './server.ts';
import { query } from './client.ts';
import { parseName } from '../name.ts';
import { Rcode, RRType } from '../types.ts';

const PRIVATE = 65288;
let server: DnsServer;
let port = 0;
const seen: string[] = [];

before(async () => {
  server = new DnsServer({
    address: '127.0.0.1',
    port: 0,
    queryHandlers: new Map([
      [
        PRIVATE,
        (msg, ctx) => {
          const q = msg.question[0];
          seen.push(`${q?.name ?? ''} ${ctx.transport}`);
          if (q?.name === 'boom.example.') throw new Error('handler broke');
          if (q?.name === 'pass.example.') return undefined;
          if (ctx.transport !== 'tcp') return { rcode: Rcode.REFUSED };
          return { rcode: Rcode.NOERROR, aa: true, answer: [{ name: q?.name ?? parseName('.'), type: PRIVATE, class: 1, ttl: 60, rdata: Uint8Array.of(1, 2, 3) }] };
        },
      ],
    ]),
  });
  port = (await server.start()).port;
});

after(async () => {
  await server.stop();
});

test('queryHandlers: the handler answers its QTYPE, echoing the question', async () => {
  const r = await query({ address: '127.0.0.1', port }, parseName('dyn.example.'), PRIVATE, { tcp: true });
  assert.equal(r.message.rcode, Rcode.NOERROR);
  assert.equal(r.message.aa, true);
  assert.deepEqual(r.message.question.map((q) => [q.name, q.type]), [['dyn.example.', PRIVATE]]);
  assert.deepEqual([...(r.message.answer[0]?.rdata ?? [])], [1, 2, 3]);
  assert.equal(seen.at(-1), 'dyn.example. tcp');
});

test('queryHandlers: it sees the transport, and other QTYPEs never reach it', async () => {
  const udp = await query({ address: '127.0.0.1', port }, parseName('dyn.example.'), PRIVATE, { attempts: 1 });
  assert.equal(udp.message.rcode, Rcode.REFUSED);
  const before = seen.length;
  const a = await query({ address: '127.0.0.1', port }, parseName('dyn.example.'), RRType.A, { tcp: true });
  assert.equal(a.message.rcode, Rcode.REFUSED); // no zone here
  assert.equal(seen.length, before);
});

test('queryHandlers: undefined falls through to the zones; a throw is SERVFAIL', async () => {
  const pass = await query({ address: '127.0.0.1', port }, parseName('pass.example.'), PRIVATE, { tcp: true });
  assert.equal(pass.message.rcode, Rcode.REFUSED); // no zone serves pass.example.
  const boom = await query({ address: '127.0.0.1', port }, parseName('boom.example.'), PRIVATE, { tcp: true });
  assert.equal(boom.message.rcode, Rcode.SERVFAIL);
});
