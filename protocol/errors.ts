// Named errors of protocol/. Decoders of peer input throw only MessageError (or EnvelopeError):
// one line that names what is wrong and where, safe to log.
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
