// One idea per file: no source file (tests aside) in the product folders grows past 700 lines.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const ROOT = join(import.meta.dirname, '..');
const FOLDERS = ['dns', 'protocol', 'machines', 'broker', 'actors', 'cli'];
const LIMIT = 700;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

test(`no source file is longer than ${LIMIT} lines`, () => {
  const files = FOLDERS.flatMap((f) => sources(join(ROOT, f)));
  assert.ok(files.length > 50, `found only ${files.length} files`);
  const long = files.map((f) => [f.slice(ROOT.length + 1), readFileSync(f, 'utf8').split('\n').length] as const).filter(([, n]) => n > LIMIT);
  assert.deepEqual(long, []);
});
