// Errors of the mpdns command and how each reaches the user: one line on stderr, `mpdns CMD: ...`.
// Exit codes: 0 success, 1 failure, 2 bad usage (a UsageError).
import { printable } from '../dns/errors.ts';

/** Bad command-line usage: reported as one line ending in a `--help` hint, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Writes `mpdns COMMAND: MESSAGE` as one line on stderr (control characters escaped). */
export function complain(command: string, message: string): void {
  process.stderr.write(`mpdns ${command}: ${printable(message)}\n`);
}

/**
 * Reports every problem of a configuration file: a heading line, then one indented line per
 * problem (each escaped on its own, so a value cannot start a line of its own).
 */
export function complainProblems(command: string, file: string, problems: readonly string[]): void {
  const lines = problems.map((p) => `  ${printable(p)}\n`).join('');
  process.stderr.write(`mpdns ${command}: ${printable(file)}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${lines}`);
}

/** The `--help` hint a usage error ends with. */
export function helpHint(command: string): string {
  return `(try mpdns ${command} --help)`;
}

/** Reports a UsageError (one line with the `--help` hint) and returns exit code 2. */
export function usageFailure(command: string, err: UsageError): number {
  complain(command, `${err.message} ${helpHint(command)}`);
  return 2;
}
