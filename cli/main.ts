// The mpdns command: dispatches to one subcommand per file in cli/ (each parses its own flags
// through cli/args.ts and prints its own --help).
import pkg from '../package.json' with { type: 'json' };
import { printable } from '../dns/errors.ts';

interface Command {
  /** One line for `mpdns --help`. */
  readonly summary: string;
  /** Loaded only when run, so one command does not load the others' code. */
  readonly load: () => Promise<{ run(argv: string[]): Promise<number> }>;
}

const commands: Record<string, Command> = {
  serve: { summary: 'serve zone files as an authoritative primary (UDP/TCP, AXFR/IXFR, NOTIFY, TSIG, inline signing)', load: () => import('./serve.ts') },
  sign: { summary: 'sign a zone file (DNSSEC: NSEC or NSEC3) and write the signed zone and its DS set', load: () => import('./sign.ts') },
  query: { summary: "send one query and print the answer in presentation form, with mpdns's types", load: () => import('./query.ts') },
  lab: { summary: 'start a multi-provider world on loopback: signed identity zones, Unbound, the owner, and each provider\'s gateway and agent', load: () => import('./lab.ts') },
  agent: { summary: "run a provider's agent (--config FILE --nats URL): follows HSYNC, discovers peers, runs the peer machines", load: () => import('./agent.ts') },
  gateway: { summary: "run a provider's gateway (--config FILE --nats URL): the NOTIFY(CHUNK) transport to and from peers", load: () => import('./gateway.ts') },
  combiner: { summary: "run a provider's combiner (--config FILE --nats URL): the owner's zone plus the providers' contributions, served to its nameserver", load: () => import('./combiner.ts') },
  provider: { summary: "run a provider's agent and gateway in one process (--config FILE [--nats URL])", load: () => import('./provider.ts') },
  ctl: { summary: 'inspect running state: `ctl machines ZONE` (persisted machines), `ctl --lab DIR --provider L peers|zones`', load: () => import('./ctl.ts') },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return (
    `usage: mpdns <command> [options]\n\ncommands:\n${lines.join('\n')}\n\n` +
    `  mpdns help COMMAND (or mpdns COMMAND --help) describes a command's options; mpdns --version its version.\n`
  );
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || (name === 'help' && rest.length === 0)) {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    // Which copy runs: dist/main.js (the bundle) or cli/main.ts (the sources, through tsx).
    const from = new URL(import.meta.url).pathname.split('/').slice(-2).join('/');
    process.stdout.write(`mpdns ${pkg.version} (${from})\n`);
    return 0;
  }
  const [wanted, args] = name === 'help' ? [rest[0] ?? '', ['--help']] : [name, rest];
  const command = Object.hasOwn(commands, wanted) ? commands[wanted] : undefined;
  if (command === undefined) {
    const what = wanted.startsWith('-') ? 'option' : 'command';
    process.stderr.write(`mpdns: unknown ${what} "${printable(wanted)}" (try mpdns --help)\n`);
    return 2;
  }
  return (await command.load()).run(args);
}

// A command started by another (the lab's owner primary) can be asked to end with its parent:
// when the parent dies the process is re-parented, and the new parent id says so.
if (process.env['MPDNS_EXIT_WITH_PARENT'] === '1') {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) {
      process.stderr.write(`mpdns: parent process ${parent} is gone; exiting\n`);
      process.exit(0);
    }
  }, 500).unref();
}

process.exitCode = await main(process.argv.slice(2));
