import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ParseError } from '../errors.ts';
import { parseName } from '../name.ts';
import { tmpDir } from '../../test/support/tmp.ts';
import { loadZone } from './load.ts';

const HEAD = '$ORIGIN a.example.\n@ 60 SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n';

test('zone files and $INCLUDEs must be regular files: a FIFO would block the server, a device fill memory', { timeout: 20_000 }, async () => {
  const dir = await tmpDir('mpdns-load-');
  try {
    const fifo = join(dir.path, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const origin = parseName('a.example.');
    for (const [name, include] of [['fifo.zone', fifo], ['zero.zone', '/dev/zero']] as const) {
      const file = join(dir.path, name);
      await writeFile(file, `${HEAD}$INCLUDE ${include}\n`);
      await assert.rejects(loadZone(file, origin), (err: unknown) => {
        assert.ok(err instanceof ParseError);
        assert.match(err.message, new RegExp(`${name}:5:10: cannot read \\$INCLUDE file "${include}": not a regular file`));
        return true;
      });
    }
    await assert.rejects(loadZone(fifo, origin), /fifo: cannot read the zone file: not a regular file/);
    await assert.rejects(loadZone('/dev/zero', origin), /\/dev\/zero: cannot read the zone file: not a regular file/);
  } finally {
    await dir.remove();
  }
});
