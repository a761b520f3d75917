// bin/mpdns runs the esbuild bundle in dist/ when it is current and the TypeScript sources when
// a source file is newer (scripts/build.ts, bin/bundle.mjs). npm test builds dist/ first.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdir, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { bundleIsFresh } from '../bin/bundle.mjs';
import { tmpDir } from './support/tmp.ts';

const exec = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
const MPDNS = join(ROOT, 'bin', 'mpdns');

test('bundleIsFresh: current only with a manifest, the bundle, and every input as it was at the build', async () => {
  const dir = await tmpDir();
  try {
    const root = dir.path;
    const main = join(root, 'cli', 'main.ts');
    await mkdir(join(root, 'dist'));
    await mkdir(join(root, 'cli'));
    await writeFile(main, 'export {};\n');
    const old = new Date(Date.now() - 60_000);
    await utimes(main, old, old);
    const manifest = async (inputs: unknown): Promise<void> => writeFile(join(root, 'dist', 'inputs.json'), JSON.stringify({ built: Date.now(), inputs }));
    const asBuilt = async (): Promise<{ path: string; size: number; mtimeMs: number }> => {
      const st = await stat(main);
      return { path: 'cli/main.ts', size: st.size, mtimeMs: st.mtimeMs };
    };
    assert.equal(bundleIsFresh(root), false, 'no manifest');
    await manifest([await asBuilt()]);
    assert.equal(bundleIsFresh(root), false, 'no dist/main.js');
    await writeFile(join(root, 'dist', 'main.js'), '');
    assert.equal(bundleIsFresh(root), true);
    const later = new Date(Date.now() + 60_000);
    await utimes(main, later, later);
    assert.equal(bundleIsFresh(root), false, 'an input touched after the build');
    const earlier = new Date(Date.now() - 3_600_000);
    await utimes(main, earlier, earlier);
    assert.equal(bundleIsFresh(root), false, 'an input replaced by an older copy (cp -p, tar)');
    await manifest([await asBuilt()]);
    assert.equal(bundleIsFresh(root), true);
    await writeFile(main, 'export const changed = 1;\n');
    await utimes(main, earlier, earlier);
    assert.equal(bundleIsFresh(root), false, 'same time, other size');
    await manifest([{ path: 'cli/gone.ts', size: 1, mtimeMs: 1 }]);
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
