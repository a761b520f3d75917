// Named errors of dns/net: socket, timeout, transfer and TSIG failures. (The text of a
// system error, errnoText, is in dns/files/errors.ts.)

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
