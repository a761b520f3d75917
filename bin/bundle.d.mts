/** True when `root`/dist/main.js exists and every input in dist/inputs.json is unchanged. */
export function bundleIsFresh(root: string): boolean;
