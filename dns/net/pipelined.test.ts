// Many queries at once over one TCP connection (RFC 7766 pipelining), answers matched by id; a
// connection the server closes fails what is in flight and is no longer usable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseName } from '../name.ts';
import { parseZone } from '../zonefile/index.ts';
import { Rcode, RRType } from '../types.ts';
import { queryOn } from './client.ts';
import { PipelinedTcp } from './exchange.ts';
import { PrimaryZone } from './primary.ts';
import { DnsServer } from './server.ts';

test('pipelined TCP: 200 queries in flight on one connection, each gets its own answer', async () => {
  const origin = parseName('pipe.example.');
  let text = `$ORIGIN pipe.example.\n@ 60 IN SOA ns h 1 60 60 600 60\n@ 60 IN NS ns\nns 60 IN A 192.0.2.1\n`;
  for (let i = 0; i < 200; i++) text += `h${i} 60 IN A 10.0.${Math.floor(i / 256)}.${i % 256}\n`;
  const server = new DnsServer({ address: '127.0.0.1', port: 0 });
  server.setZone(new PrimaryZone(parseZone(text, { origin })));
  const { port } = await server.start();
  const conn = await PipelinedTcp.open({ address: '127.0.0.1', port }, 2000);
  try {
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => queryOn(conn, parseName(`h${i}.pipe.example.`), RRType.A, { timeoutMs: 20_000 })));
    for (const [i, a] of answers.entries()) {
      assert.equal(a.message.rcode, Rcode.NOERROR);
      assert.equal(a.message.question[0]?.name, `h${i}.pipe.example.`);
      assert.equal(a.message.answer.length, 1);
    }
    assert.equal(conn.usable, true);
    await server.stop();
    await assert.rejects(queryOn(conn, parseName('h1.pipe.example.'), RRType.A, { timeoutMs: 20_000 }));
    assert.equal(conn.usable, false);
  } finally {
    conn.close();
    await server.stop();
  }
});
