// RFC 1035 §5 presentation-text tokenizer: splits zone-file text (or one RDATA string) into
// logical lines of tokens. Parentheses join physical lines, ';' starts a comment, quoted
// strings keep ';', spaces and parentheses. Escapes ('\"', '\\', '\DDD', '\;', ...) are kept
// verbatim in the token text: decoding them is the field parser's job, which knows whether
// the token is a name or a character-string.
//
// Speed matters (million-record zones): one pass over the whole string with indexes and
// charCodeAt, no regular expressions, and no allocation beyond each token, its text slice
// and the per-line array.
import { ParseError } from '../errors.ts';

export interface Token {
  /** Token text without surrounding quotes; escapes are kept as written. */
  readonly text: string;
  /** True when the token was written as a quoted string. */
  readonly quoted: boolean;
  /** 1-based physical line of the first character. */
  readonly line: number;
  /** 1-based column of the first character (the opening quote for quoted tokens). */
  readonly col: number;
}

/** One logical record: the tokens of a physical line, or of several joined by parentheses. */
export interface LogicalLine {
  readonly tokens: Token[];
  /** True when the line began with a space or tab: the owner name was omitted. */
  readonly indented: boolean;
  /** 1-based physical line where the logical line starts. */
  readonly line: number;
}

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const LPAREN = 0x28;
const RPAREN = 0x29;
const SEMI = 0x3b;
const BACKSLASH = 0x5c;

/**
 * Streams logical lines from presentation text. `next()` returns undefined at the end.
 * Errors (unterminated quote, unbalanced parenthesis) are ParseErrors carrying the file,
 * line and column.
 */
export class Tokenizer {
  private pos = 0;
  private lineNo = 1;
  private lineStart = 0;

  constructor(
    readonly input: string,
    readonly file?: string,
  ) {}

  /** The physical line the tokenizer has reached (useful after an error). */
  get currentLine(): number {
    return this.lineNo;
  }

  private fail(message: string, line: number, col: number): never {
    throw new ParseError(message, this.file ?? '<input>', line, col);
  }

  next(): LogicalLine | undefined {
    const s = this.input;
    const n = s.length;
    const tokens: Token[] = [];
    let inParen = false;
    let parenLine = 0;
    let parenCol = 0;
    let indented = false;
    let startLine = 0;
    let pos = this.pos;
    for (;;) {
      if (pos >= n) {
        this.pos = pos;
        if (inParen) this.fail('unbalanced parenthesis: "(" not closed', parenLine, parenCol);
        return tokens.length > 0 ? { tokens, indented, line: startLine } : undefined;
      }
      if (pos === this.lineStart && !inParen && tokens.length === 0) {
        const first = s.charCodeAt(pos);
        indented = first === SPACE || first === TAB;
      }
      const c = s.charCodeAt(pos);
      if (c === SPACE || c === TAB || c === CR) {
        pos++;
        continue;
      }
      if (c === LF) {
        pos++;
        this.lineNo++;
        this.lineStart = pos;
        if (!inParen && tokens.length > 0) {
          this.pos = pos;
          return { tokens, indented, line: startLine };
        }
        if (!inParen) startLine = 0;
        continue;
      }
      if (c === SEMI) {
        const nl = s.indexOf('\n', pos);
        pos = nl < 0 ? n : nl;
        continue;
      }
      if (c === LPAREN) {
        if (inParen) this.fail('nested "("', this.lineNo, pos - this.lineStart + 1);
        inParen = true;
        parenLine = this.lineNo;
        parenCol = pos - this.lineStart + 1;
        if (startLine === 0) startLine = this.lineNo;
        pos++;
        continue;
      }
      if (c === RPAREN) {
        if (!inParen) this.fail('unbalanced parenthesis: ")" without "("', this.lineNo, pos - this.lineStart + 1);
        inParen = false;
        pos++;
        continue;
      }
      const col = pos - this.lineStart + 1;
      if (startLine === 0) startLine = this.lineNo;
      if (c === QUOTE) {
        let i = pos + 1;
        for (;;) {
          if (i >= n) this.fail('unterminated quoted string', this.lineNo, col);
          const d = s.charCodeAt(i);
          if (d === QUOTE) break;
          if (d === LF) this.fail('unterminated quoted string', this.lineNo, col);
          if (d === BACKSLASH) {
            if (s.charCodeAt(i + 1) === LF) this.fail('escaped line break in quoted string', this.lineNo, i - this.lineStart + 1);
            i += 2;
            continue;
          }
          i++;
        }
        tokens.push({ text: s.slice(pos + 1, i), quoted: true, line: this.lineNo, col });
        pos = i + 1;
        continue;
      }
      let i = pos;
      while (i < n) {
        const d = s.charCodeAt(i);
        if (d === BACKSLASH) {
          const e = s.charCodeAt(i + 1);
          if (i + 1 >= n || e === LF || e === CR) this.fail('dangling backslash', this.lineNo, i - this.lineStart + 1);
          i += 2;
          continue;
        }
        if (
          d === SPACE ||
          d === TAB ||
          d === LF ||
          d === CR ||
          d === SEMI ||
          d === LPAREN ||
          d === RPAREN ||
          d === QUOTE
        ) {
          break;
        }
        i++;
      }
      tokens.push({ text: s.slice(pos, i), quoted: false, line: this.lineNo, col });
      pos = i;
    }
  }

  /** Iterates over every remaining logical line. */
  *[Symbol.iterator](): IterableIterator<LogicalLine> {
    for (let l = this.next(); l !== undefined; l = this.next()) yield l;
  }
}

/** Every logical line of a whole text (a zone file without directive handling). */
export function tokenizeLines(input: string, file?: string): LogicalLine[] {
  const out: LogicalLine[] = [];
  const t = new Tokenizer(input, file);
  for (let l = t.next(); l !== undefined; l = t.next()) out.push(l);
  return out;
}

/**
 * The tokens of one RDATA string (e.g. `10 mail.example.` or `"a b" "c"`). Line breaks
 * inside parentheses are allowed; all tokens are returned in one list.
 */
export function tokenize(text: string): Token[] {
  const t = new Tokenizer(text);
  const first = t.next();
  if (first === undefined) return [];
  const rest = t.next();
  if (rest === undefined) return first.tokens;
  const all = [...first.tokens, ...rest.tokens];
  for (let l = t.next(); l !== undefined; l = t.next()) all.push(...l.tokens);
  return all;
}
