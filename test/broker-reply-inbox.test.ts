// The broker's hot-path request inbox against a real nats-server started here: replies reach the
// right request, a silent responder times out with RequestTimeoutError, nobody listening is a
// NoRespondersError, close() fails what is pending, and requests keep their order.
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { NoRespondersError, connect, type NatsConnection } from '@nats-io/transport-node';
import { BrokerClosedError, RequestTimeoutError } from '../broker/errors.ts';
import { ReplyInbox } from '../broker/reply-inbox.ts';
import { haveBinary } from './support/daemon.ts';
import { startNatsServer, type NatsServer } from './support/nats.ts';

const T = { timeout: 20_000 };
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('broker reply inbox', { skip: !haveBinary('nats-server') && 'nats-server not installed' }, () => {
  let server: NatsServer;
  let nc: NatsConnection;

  before(async () => {
    server = await startNatsServer({ timeoutMs: 15_000 });
    nc = await connect({ servers: server.url, noAsyncTraces: true });
  });
  after(async () => {
    await nc?.close();
    await server?.stop();
  });

  it('matches each reply to its request, in publish order', T, async () => {
    const seen: string[] = [];
    const sub = nc.subscribe('echo', {
      callback: (_err, m) => {
        seen.push(text(m.data));
        m.respond(bytes(`re:${text(m.data)}`));
      },
    });
    const inbox = new ReplyInbox(nc, '_INBOX_test');
    try {
      const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => inbox.request('echo', bytes(String(i)), undefined, 5000)));
      assert.deepEqual(replies.map((m) => text(m.data)), Array.from({ length: 50 }, (_, i) => `re:${i}`));
      assert.deepEqual(seen, Array.from({ length: 50 }, (_, i) => String(i)));
      assert.match(replies[0]?.subject ?? '', /^_INBOX_test\./);
    } finally {
      inbox.close();
      sub.unsubscribe();
    }
  });

  it('times out a request nobody answers, within its deadline plus the sweep period', T, async () => {
    const sub = nc.subscribe('silent', { callback: () => undefined });
    await nc.flush();
    const inbox = new ReplyInbox(nc, undefined);
    try {
      const t0 = Date.now();
      await assert.rejects(inbox.request('silent', bytes('x'), undefined, 300), RequestTimeoutError);
      const took = Date.now() - t0;
      assert.ok(took >= 300, `timed out after ${took} ms, before its 300 ms`);
    } finally {
      inbox.close();
      sub.unsubscribe();
    }
  });

  it('reports no responders at once', T, async () => {
    const inbox = new ReplyInbox(nc, undefined);
    try {
      // NoResponders comes from the server at once, not from the 5 s timeout: the error type says so.
      await assert.rejects(inbox.request('nobody.here', bytes('x'), undefined, 5000), NoRespondersError);
    } finally {
      inbox.close();
    }
  });

  it('close() fails pending requests and refuses new ones', T, async () => {
    const sub = nc.subscribe('silent2', { callback: () => undefined });
    await nc.flush();
    const inbox = new ReplyInbox(nc, undefined);
    const pending = inbox.request('silent2', bytes('x'), undefined, 10_000);
    inbox.close();
    await assert.rejects(pending, BrokerClosedError);
    await assert.rejects(inbox.request('silent2', bytes('y'), undefined, 1000), BrokerClosedError);
    sub.unsubscribe();
  });
});
