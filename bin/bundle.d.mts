/** True when `root`/dist/main.js exists and every input in dist/inputs.json is older than the build. */
export function bundleIsFresh(root: string): boolean;
