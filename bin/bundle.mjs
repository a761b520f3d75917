// Whether dist/ (scripts/build.ts) is current: it exists and no source it was built from has
// changed since. Plain JavaScript, because bin/mpdns asks before any TypeScript can load.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** True when `root`/dist/main.js exists and every input in dist/inputs.json is older than the build. */
export function bundleIsFresh(root) {
  try {
    const { built, inputs } = JSON.parse(readFileSync(join(root, 'dist', 'inputs.json'), 'utf8'));
    if (typeof built !== 'number' || !Array.isArray(inputs) || inputs.length === 0) return false;
    statSync(join(root, 'dist', 'main.js'));
    for (const f of inputs) if (statSync(join(root, f)).mtimeMs > built) return false;
    return true;
  } catch {
    return false;
  }
}
