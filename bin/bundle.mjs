// Whether dist/ (scripts/build.ts) is current: it exists and every file it was built from still
// has the size and modification time it had then (an edit, a checkout or a copy changes one of
// them, whichever way the clock went). Plain JavaScript, because bin/mpdns asks before any
// TypeScript can load.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** True when `root`/dist/main.js exists and every input in dist/inputs.json is unchanged. */
export function bundleIsFresh(root) {
  try {
    const { inputs } = JSON.parse(readFileSync(join(root, 'dist', 'inputs.json'), 'utf8'));
    if (!Array.isArray(inputs) || inputs.length === 0) return false;
    statSync(join(root, 'dist', 'main.js'));
    for (const { path, size, mtimeMs } of inputs) {
      const st = statSync(join(root, path));
      if (st.size !== size || st.mtimeMs !== mtimeMs) return false;
    }
    return true;
  } catch {
    return false;
  }
}
