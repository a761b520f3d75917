// npm run build (npm ci runs it as `prepare`): bundles the CLI into dist/ with esbuild, so
// bin/mpdns starts without compiling TypeScript at every start (tsx's loader costs about 0.4 s
// per process). One chunk per subcommand (cli/main.ts imports them lazily); dependencies stay in
// node_modules. dist/inputs.json lists the source files with their size and modification time,
// so bin/mpdns runs the sources through tsx instead whenever one of them has changed.
import { build } from 'esbuild';
import { rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');
const started = Date.now();
await rm(dist, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: ['cli/main.ts'],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  metafile: true,
  logLevel: 'warning',
});
// Every source bundled, and what shaped the build; bin/bundle.mjs wants each one unchanged
// (same size, same modification time), so an edit in either direction of the clock counts.
const paths = [...Object.keys(result.metafile.inputs), 'package.json', 'package-lock.json', 'tsconfig.json', 'scripts/build.ts'].sort();
const inputs = await Promise.all(
  paths.map(async (path) => {
    const st = await stat(join(root, path));
    return { path, size: st.size, mtimeMs: st.mtimeMs };
  }),
);
await writeFile(join(dist, 'inputs.json'), JSON.stringify({ built: started, inputs }, null, 1) + '\n');
process.stdout.write(`dist/: ${Object.keys(result.metafile.outputs).length} files from ${paths.length} sources\n`);
