// Named errors of protocol/. Decoders of peer input throw only these: one line that names what
// is wrong and where, safe to log.
import { printable } from '../dns/errors.ts';

/** Base class of every error protocol/ raises on bad input. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(printable(message), options);
  }
}

/** A message body that is not valid JSON, is too large, or lacks or mistypes a field. */
export class MessageError extends ProtocolError {
  override name = 'MessageError';
  constructor(
    message: string,
    /** The JSON field at fault, when one is. */
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(field === undefined ? message : `${field}: ${message}`, options);
  }
}

/** Why an envelope was refused; the gateway maps each to an RCODE and a metric label. */
export type EnvelopeFault = 'malformed' | 'signature' | 'plaintext' | 'recipient' | 'time' | 'decrypt';

export class EnvelopeError extends ProtocolError {
  override name = 'EnvelopeError';
  constructor(
    readonly fault: EnvelopeFault,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${fault}: ${message}`, options);
  }
}

/** Why discovery of a peer failed; the agent logs it and retries with backoff. */
export class DiscoveryError extends ProtocolError {
  override name = 'DiscoveryError';
  constructor(
    readonly identity: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`discovery of ${identity}: ${message}`, options);
  }
}
