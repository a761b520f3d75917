// Zone-file directives (RFC 1035 §5.1, RFC 2308 §4): $ORIGIN, $TTL and $INCLUDE. Parsing only:
// the zone-file parser applies them (and reads included files through its injected readFile).
import { inputError, ParseError } from '../errors.ts';
import { parseName, type Fqdn } from '../name.ts';
import type { Token } from '../presentation/tokenizer.ts';
import { parseTtl } from './ttl.ts';

export interface DirectiveState {
  /** The current $ORIGIN: relative names in directives are completed with it. */
  readonly origin: Fqdn;
}

export type Directive =
  | { readonly kind: 'origin'; readonly origin: Fqdn }
  | { readonly kind: 'ttl'; readonly ttl: number }
  | { readonly kind: 'include'; readonly path: string; readonly origin?: Fqdn };

function fail(message: string, file: string, at: Token): never {
  throw new ParseError(message, file, at.line, at.col);
}

function argument(tokens: readonly Token[], i: number, what: string, file: string): Token {
  const t = tokens[i];
  if (t === undefined) fail(`${(tokens[0] as Token).text} needs ${what}`, file, tokens[0] as Token);
  return t;
}

function name(tok: Token, origin: Fqdn, file: string): Fqdn {
  try {
    return parseName(tok.text, origin);
  } catch (err) {
    throw new ParseError(`bad name "${tok.text}": ${inputError(err).message}`, file, tok.line, tok.col, { cause: err });
  }
}

/** Parses one directive line (tokens[0] starts with '$'). Throws ParseError with the position. */
export function parseDirective(tokens: readonly Token[], file: string, state: DirectiveState): Directive {
  const head = tokens[0] as Token;
  const word = head.text.toUpperCase();
  const extra = (n: number): void => {
    const t = tokens[n];
    if (t !== undefined) fail(`unexpected "${t.text}" after ${word}`, file, t);
  };
  switch (word) {
    case '$ORIGIN': {
      const arg = argument(tokens, 1, 'a domain name', file);
      extra(2);
      return { kind: 'origin', origin: name(arg, state.origin, file) };
    }
    case '$TTL': {
      const arg = argument(tokens, 1, 'a TTL', file);
      extra(2);
      try {
        return { kind: 'ttl', ttl: parseTtl(arg.text) };
      } catch (err) {
        throw new ParseError(inputError(err).message, file, arg.line, arg.col, { cause: err });
      }
    }
    case '$INCLUDE': {
      const arg = argument(tokens, 1, 'a file name', file);
      const o = tokens[2];
      extra(3);
      if (o === undefined) return { kind: 'include', path: arg.text };
      return { kind: 'include', path: arg.text, origin: name(o, state.origin, file) };
    }
    default:
      return fail(`unknown directive ${head.text}`, file, head);
  }
}
