import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMachines, run } from './ctl.ts';

test('ctl: bad input exits 2 without connecting', { timeout: 10_000 }, async () => {
  assert.equal(await run(['machines']), 2);
  assert.equal(await run(['machines', 'a.example.', 'b.example.']), 2);
  assert.equal(await run(['machines', 'a.example.', '--bogus']), 2);
  assert.equal(await run(['frobnicate']), 2);
  assert.equal(await run([]), 2);
});

test('ctl machines table: state, status, deadlines, context', () => {
  const now = Date.parse('2026-11-27T12:00:00Z');
  const text = formatMachines(
    'example.com.',
    [
      {
        zone: 'example.com.',
        machineId: 'peer-alpha',
        kind: 'peer-handshake',
        status: 'active',
        value: { up: 'degraded' },
        context: { missed: 2, deadlines: { beat: now + 30_000 } },
        deadlines: { beat: now + 30_000 },
        revision: 7,
        updatedAt: now - 1000,
        writer: 'agent-1',
      },
    ],
    now,
  );
  assert.match(text, /^zone example\.com\.\nMACHINE\s+KIND\s+STATE\s+STATUS\s+DEADLINES/);
  assert.match(text, /peer-alpha\s+peer-handshake\s+\{"up":"degraded"\}\s+active\s+beat=2026-11-27T12:00:30\.000Z \(in 30s\)/);
  assert.match(text, /"missed": 2/);
  assert.equal(formatMachines('x.', []), 'no machines persisted for x.\n');
});
