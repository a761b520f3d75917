// Named errors of dns/files, and the text of a system error (file or socket).
import { getSystemErrorMap } from 'node:util';

/**
 * A system error (file or socket) as `CODE: reason` (`ENOENT: no such file or directory`,
 * `EADDRINUSE: address already in use`), without Node's `, SYSCALL 'PATH'` tail: the caller
 * names the file or address (Node's may be a temporary name; dgram's messages carry only the code).
 */
export function errnoText(err: unknown): string {
  const { errno } = (err ?? {}) as NodeJS.ErrnoException;
  const known = typeof errno === 'number' ? getSystemErrorMap().get(errno) : undefined;
  if (known !== undefined) return `${known[0]}: ${known[1]}`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * An output file that cannot be created or written. The message names the file (after the
 * option that gave it, when there is one), never the temporary name: `--out x/y: cannot
 * create: ENOENT: no such file or directory`. `detail` is the part after the file.
 */
export class OutputError extends Error {
  override name = 'OutputError';
  constructor(
    readonly file: string,
    readonly detail: string,
    label?: string,
    options?: { cause?: unknown },
  ) {
    super(`${label !== undefined ? `${label} ` : ''}${file}: ${detail}`, options);
  }
}
