// The mpdns command: dispatches to one subcommand per file in cli/.
import pkg from '../package.json' with { type: 'json' };

const commands: Record<string, () => Promise<{ run(argv: string[]): Promise<number> }>> = {
  ctl: () => import('./ctl.ts'),
  query: () => import('./query.ts'),
  sign: () => import('./sign.ts'),
  serve: () => import('./serve.ts'),
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    process.stdout.write(`usage: mpdns <command> [options]\n\ncommands: ${Object.keys(commands).join(', ')}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    // Which copy runs: dist/main.js (the bundle) or cli/main.ts (the sources, through tsx).
    const from = new URL(import.meta.url).pathname.split('/').slice(-2).join('/');
    process.stdout.write(`mpdns ${pkg.version} (${from})\n`);
    return 0;
  }
  const load = commands[name];
  if (load === undefined) {
    process.stderr.write(`mpdns: unknown command "${name}" (try mpdns --help)\n`);
    return 2;
  }
  return (await load()).run(rest);
}

process.exitCode = await main(process.argv.slice(2));
