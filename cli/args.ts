// The one argument layer of every mpdns subcommand: node:util parseArgs (strict), `--help`/`-h`
// printing the usage text, and usage errors that name the flag and end with a `--help` hint
// (cli/errors.ts), exit 2.
import { availableParallelism } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError, usageFailure } from './errors.ts';

/** parseArgs's table of flags: `{ zone: { type: 'string', multiple: true }, ... }`. */
export type Flags = NonNullable<ParseArgsConfig['options']>;

export interface CommandSpec<O extends Flags> {
  /** As the user types it: `serve`, `ctl` (the hint says `mpdns ctl --help`). */
  readonly name: string;
  /** The text `--help` prints. */
  readonly usage: string;
  /** The flags (without help, which every command has). */
  readonly options: O;
  /** Whether positional arguments are taken (the command checks how many); default no. */
  readonly positionals?: boolean;
}

export type Parsed<O extends Flags> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;

/** parseArgs's error as one short line naming the flag. */
function usageText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const flag = /'(-[^' ]+)/.exec(err.message)?.[1] ?? '';
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${flag}`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    return err.message.includes('does not take an argument') ? `${flag} takes no value` : `${flag} needs a value`;
  }
  return err.message.split('\n')[0] ?? err.message;
}

/**
 * Runs one command line: `--help` prints the usage (exit 0); otherwise the flags are parsed and
 * `body` runs. A UsageError, from parsing or from `body`, is one line with the `--help` hint, exit 2.
 */
export async function runCommand<O extends Flags>(
  spec: CommandSpec<O>,
  argv: readonly string[],
  body: (parsed: Parsed<O>) => Promise<number> | number,
): Promise<number> {
  const end = argv.indexOf('--');
  const flags = end < 0 ? argv : argv.slice(0, end);
  if (flags.includes('--help') || flags.includes('-h')) {
    process.stdout.write(spec.usage);
    return 0;
  }
  try {
    let parsed: Parsed<O>;
    try {
      parsed = parseArgs({ args: [...argv], options: spec.options, allowPositionals: true, strict: true });
    } catch (err) {
      throw new UsageError(usageText(err));
    }
    const extra = parsed.positionals[0];
    if (spec.positionals !== true && extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
    return await body(parsed);
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(spec.name, err);
    throw err;
  }
}

/** `parse(value)` of a flag's value; its error becomes a UsageError `FLAG: reason`. */
export function flagValue<T>(flag: string, value: string, parse: (value: string) => T): T {
  try {
    return parse(value);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${flag}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** `--threads N`: 1 up to the larger of 64 and the machine's parallelism. */
export function threadsFlag(text: string): number {
  const max = Math.max(64, availableParallelism());
  const n = Number(text);
  if (!/^[0-9]+$/.test(text) || n < 1) throw new UsageError(`--threads must be a positive integer, not "${text}" (1..${max})`);
  if (n > max) throw new UsageError(`--threads ${text}: at most ${max} (1..${max})`);
  return n;
}
