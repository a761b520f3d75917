// bin/mpdns runs the esbuild bundle in dist/ when it is current and the TypeScript sources when
// a source file is newer (scripts/build.ts, bin/bundle.mjs). npm test builds dist/ first.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { bundleIsFresh } from '../bin/bundle.mjs';
import { tmpDir } from './support/tmp.ts';

const exec = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
const MPDNS = join(ROOT, 'bin', 'mpdns');

test('bundleIsFresh: current only with a manifest, the bundle, and no input newer than the build', async () => {
  const dir = await tmpDir();
  try {
    const root = dir.path;
    await mkdir(join(root, 'dist'));
    await mkdir(join(root, 'cli'));
    await writeFile(join(root, 'cli', 'main.ts'), '');
    const built = Date.now();
    const old = new Date(built - 60_000);
    await utimes(join(root, 'cli', 'main.ts'), old, old);
    assert.equal(bundleIsFresh(root), false, 'no manifest');
    await writeFile(join(root, 'dist', 'inputs.json'), JSON.stringify({ built, inputs: ['cli/main.ts'] }));
    assert.equal(bundleIsFresh(root), false, 'no dist/main.js');
    await writeFile(join(root, 'dist', 'main.js'), '');
    assert.equal(bundleIsFresh(root), true);
    const later = new Date(built + 60_000);
    await utimes(join(root, 'cli', 'main.ts'), later, later);
    assert.equal(bundleIsFresh(root), false, 'an input edited after the build');
    await writeFile(join(root, 'dist', 'inputs.json'), JSON.stringify({ built, inputs: ['cli/gone.ts'] }));
    assert.equal(bundleIsFresh(root), false, 'an input that no longer exists');
    await writeFile(join(root, 'dist', 'inputs.json'), '{not json');
    assert.equal(bundleIsFresh(root), false, 'a broken manifest');
  } finally {
    await dir.remove();
  }
});

test('bin/mpdns runs dist/main.js when it is current, cli/main.ts with MPDNS_FROM_SOURCE=1', async () => {
  assert.ok(bundleIsFresh(ROOT), 'dist/ is missing or older than the sources: npm run build (npm test does it first)');
  const bundled = await exec(MPDNS, ['--version']);
  assert.match(bundled.stdout, /^mpdns \d+\.\d+\.\d+ \(dist\/main\.js\)\n$/);
  const source = await exec(MPDNS, ['--version'], { env: { ...process.env, MPDNS_FROM_SOURCE: '1' } });
  assert.match(source.stdout, /^mpdns \d+\.\d+\.\d+ \(cli\/main\.ts\)\n$/);
});
