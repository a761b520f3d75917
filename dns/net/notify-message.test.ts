// A NOTIFY handler that takes the whole message: the inter-provider transport's NOTIFY(CHUNK)
// with its payload in EDNS option 65004, answered with an option of its own, over the same
// server and client as every other query.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseName } from '../name.ts';
import { EdnsOption, Opcode, Rcode, RRType } from '../types.ts';
import type { Message } from '../message.ts';
import { query } from './client.ts';
import { DnsServer, type NotifyMessageHandler } from './server.ts';
import type { RequestContext } from './transport.ts';

const CHUNK_QTYPE = 65288;
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

test('notify handlers: the whole NOTIFY in, the whole answer out; others keep the SOA path', async () => {
  const seen: { msg: Message; ctx: RequestContext }[] = [];
  const soaNotifies: string[] = [];
  const handler: NotifyMessageHandler = (msg, ctx) => {
    seen.push({ msg, ctx });
    const payload = msg.edns?.options.find((o) => o.code === EdnsOption.CHUNK)?.data;
    if (ctx.transport !== 'tcp') return { rcode: Rcode.REFUSED };
    if (payload === undefined) return { rcode: Rcode.FORMERR };
    if (new TextDecoder().decode(payload) === 'boom') throw new Error('handler bug');
    return { rcode: Rcode.NOERROR, aa: true, edns: { udpSize: 1232, extRcode: 0, version: 0, do: true, options: [{ code: EdnsOption.CHUNK, data: enc(`confirm:${new TextDecoder().decode(payload)}`) }] } };
  };
  const server = new DnsServer({
    address: '127.0.0.1',
    port: 0,
    notifyHandlers: new Map([[CHUNK_QTYPE, handler]]),
    onNotify: (zone) => soaNotifies.push(zone),
    allowNotify: ['127.0.0.1/32'],
  });
  const { port } = await server.start();
  const peer = { address: '127.0.0.1', port };
  const qname = parseName('0a1b2c3d.agent.alpha.example.');
  try {
    const r = await query(peer, qname, CHUNK_QTYPE, { opcode: Opcode.NOTIFY, tcp: true, udpSize: 4096, dnssecOk: true, ednsOptions: [{ code: EdnsOption.CHUNK, data: enc('hello') }] });
    assert.equal(r.message.rcode, Rcode.NOERROR);
    assert.equal(r.message.opcode, Opcode.NOTIFY);
    assert.equal(r.message.aa, true);
    assert.deepEqual(r.message.question, [{ name: qname, type: CHUNK_QTYPE, class: 1 }]);
    assert.equal(new TextDecoder().decode(r.message.edns?.options[0]?.data), 'confirm:hello');
    assert.equal(seen[0]?.ctx.transport, 'tcp');
    assert.equal(seen[0]?.msg.edns?.do, true);

    // The handler decides about UDP and a missing payload; a throw is SERVFAIL.
    assert.equal((await query(peer, qname, CHUNK_QTYPE, { opcode: Opcode.NOTIFY, ednsOptions: [{ code: EdnsOption.CHUNK, data: enc('x') }] })).message.rcode, Rcode.REFUSED);
    assert.equal((await query(peer, qname, CHUNK_QTYPE, { opcode: Opcode.NOTIFY, tcp: true })).message.rcode, Rcode.FORMERR);
    assert.equal((await query(peer, qname, CHUNK_QTYPE, { opcode: Opcode.NOTIFY, tcp: true, ednsOptions: [{ code: EdnsOption.CHUNK, data: enc('boom') }] })).message.rcode, Rcode.SERVFAIL);

    // A NOTIFY(SOA) still goes to onNotify.
    const soa = await query(peer, parseName('customer.zone.'), RRType.SOA, { opcode: Opcode.NOTIFY, tcp: true });
    assert.equal(soa.message.rcode, Rcode.NOERROR);
    assert.deepEqual(soaNotifies, ['customer.zone.']);
    assert.equal(seen.length, 4);
  } finally {
    await server.stop();
  }
});
