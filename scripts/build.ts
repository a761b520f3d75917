// npm run build (npm ci runs it as `prepare`): bundles the CLI into dist/ with esbuild, so
// bin/mpdns starts without compiling TypeScript at every start (tsx's loader costs about 0.4 s
// per process). One chunk per subcommand (cli/main.ts imports them lazily); dependencies stay in
// node_modules. dist/inputs.json lists the source files and the build time, so bin/mpdns runs
// the sources through tsx instead whenever one of them is newer than the bundle.
import { build } from 'esbuild';
import { rm, writeFile } from 'node:fs/promises';
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
const inputs = Object.keys(result.metafile.inputs).sort();
await writeFile(join(dist, 'inputs.json'), JSON.stringify({ built: started, inputs }, null, 1) + '\n');
process.stdout.write(`dist/: ${Object.keys(result.metafile.outputs).length} files from ${inputs.length} sources\n`);
