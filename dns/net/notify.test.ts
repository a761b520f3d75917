// Notifier.close() during an attempt in flight: the retry loop stops when the attempt ends
// instead of arming one more backoff timer (which kept `mpdns serve` alive after SIGTERM).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { Notifier } from './notify.ts';
import type { Fqdn } from '../name.ts';
import { parseRecords } from '../zonefile/index.ts';
import type { RR } from '../rr.ts';
import { pollUntil } from '../../test/support/poll.ts';

const ZONE = 'quiet.example.' as Fqdn;

function soaRR(): RR {
  const [soa] = parseRecords(`@ 60 IN SOA ns h 1 60 60 600 60`, { origin: ZONE });
  if (soa === undefined) throw new Error('no SOA');
  return soa;
}

test('Notifier.close() while a NOTIFY is unanswered ends the retries with that attempt', { timeout: 120_000 }, async () => {
  // A secondary that receives but never answers.
  const silent = createSocket('udp4');
  let received = 0;
  silent.on('message', () => received++);
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
  const notifier = new Notifier({
    targets: [{ address: '127.0.0.1', port: silent.address().port }],
    timeoutMs: 300,
    // A backoff of an hour: were it not cancelled by close(), the notify would not settle in this test.
    initialDelayMs: 3_600_000,
    maxAttempts: 3,
  });
  try {
    const done = notifier.notify(ZONE, soaRR());
    await pollUntil('first NOTIFY sent', () => received > 0, { timeoutMs: 5000, intervalMs: 10 });
    notifier.close();
    const unsettled = new Promise<'unsettled'>((resolve) => setTimeout(() => resolve('unsettled'), 60_000).unref());
    const settled = await Promise.race([done, unsettled]);
    assert.notEqual(settled, 'unsettled', 'notify did not settle after close (the hour-long backoff timer was kept)');
    const [outcome] = settled as Awaited<typeof done>;
    assert.equal(outcome?.ok, false);
    assert.equal(outcome?.attempts, 1);
    assert.equal(received, 1, 'no NOTIFY after close');
  } finally {
    notifier.close();
    silent.close();
  }
});
