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

/** The `--help` hint a usage error ends with. */
export function helpHint(command: string): string {
  return `(try mpdns ${command} --help)`;
}

/** Reports a UsageError (one line with the `--help` hint) and returns exit code 2. */
export function usageFailure(command: string, err: UsageError): number {
  complain(command, `${err.message} ${helpHint(command)}`);
  return 2;
}
