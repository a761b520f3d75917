// Named errors of the dns/ layer. Decoders of untrusted bytes throw only these.

/** Longest message text kept from input: a 70,000-character owner name is not echoed whole. */
const MAX_MESSAGE = 400;

/**
 * Message text safe for one log or terminal line: control and invisible characters (a BOM,
 * zero-width spaces, line separators) are shown as \uXXXX, and the text is cut at MAX_MESSAGE
 * characters with the length that was left out.
 */
export function printable(text: string): string {
  const shown = text.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return shown.length <= MAX_MESSAGE ? shown : `${shown.slice(0, MAX_MESSAGE)}… (${shown.length - MAX_MESSAGE} more characters)`;
}

/** Base class: every error the dns/ layer raises on bad input. */
export class DnsError extends Error {
  override name = 'DnsError';
}

/**
 * `err` when it is a DnsError: bad input, for the caller to report with its position. Anything
 * else is a bug, not bad input, and is re-thrown unchanged; every catch that turns errors into
 * positioned ParseErrors or WireErrors goes through this, so a TypeError is never reported as
 * a problem with the user's zone or message.
 */
export function inputError(err: unknown): DnsError {
  if (err instanceof DnsError) return err;
  throw err;
}

/**
 * An RDATA field value that its codec refuses (bad text, out of range, bad length), raised
 * where the position is not known: the RDATA codec re-raises it as an RdataError (with the
 * token) or a WireError (with the offset).
 */
export class FieldError extends DnsError {
  override name = 'FieldError';
}

/** A domain name that is not valid (syntax, label or name length). */
export class NameError extends DnsError {
  override name = 'NameError';
  constructor(
    message: string,
    readonly input: string,
  ) {
    super(printable(`${message}: "${input}"`));
  }
}

/** Bytes that do not decode as a DNS message or RDATA. `offset` is where decoding stopped. */
export class WireError extends DnsError {
  override name = 'WireError';
  constructor(
    message: string,
    readonly offset: number,
    options?: { cause?: unknown },
  ) {
    super(`${message} at offset ${offset}`, options);
  }
}

/** Presentation text (RDATA or a zone file) that does not parse. Zone files add file:line:column. */
export class ParseError extends DnsError {
  override name = 'ParseError';
  constructor(
    message: string,
    readonly file?: string,
    readonly line?: number,
    readonly column?: number,
    options?: { cause?: unknown },
  ) {
    super(
      file !== undefined || line !== undefined
        ? `${file ?? '<input>'}:${line ?? 0}:${column ?? 0}: ${printable(message)}`
        : printable(message),
      options,
    );
  }
}

/**
 * RDATA presentation text that does not parse. `tokenIndex` is the index (into the RDATA
 * tokens passed to parseRdata) of the offending token, so a zone parser can point at its column.
 */
export class RdataError extends ParseError {
  override name = 'RdataError';
  constructor(
    readonly reason: string,
    readonly tokenIndex: number,
    options?: { cause?: unknown },
  ) {
    super(reason, undefined, undefined, undefined, options);
  }
}

/**
 * A zone whose contents break a zone rule (record outside the origin, two SOAs, CNAME and other
 * data at one name, no NS at the apex, ...). `record` names the offending record when there is one.
 */
export class ZoneError extends DnsError {
  override name = 'ZoneError';
  constructor(
    readonly reason: string,
    readonly record?: string,
    options?: { cause?: unknown },
  ) {
    super(record === undefined ? reason : `${reason}: ${record}`, options);
  }
}
