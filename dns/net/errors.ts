// Named errors of dns/net: socket, timeout, transfer and TSIG failures.
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

/** Base class of every dns/net error. */
export class NetError extends Error {
  override name = 'NetError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A bad ACL entry (CIDR syntax). */
export class AclError extends NetError {
  override name = 'AclError';
}

/** No answer within the deadline after every retry. */
export class TimeoutError extends NetError {
  override name = 'TimeoutError';
}

/** A zone transfer that failed: refused, malformed, or inconsistent (bad SOA framing). */
export class TransferError extends NetError {
  override name = 'TransferError';
  constructor(
    message: string,
    readonly rcode?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A response whose TSIG did not verify (or was missing where a key was used). */
export class TsigRejectedError extends NetError {
  override name = 'TsigRejectedError';
  constructor(
    message: string,
    readonly tsigError: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A listen address that could not be parsed or bound. */
export class ListenError extends NetError {
  override name = 'ListenError';
}

/** The peer closed the TCP connection while we were still answering (e.g. mid-AXFR). */
export class ConnectionClosedError extends NetError {
  override name = 'ConnectionClosedError';
}
