// RFC 1035 §5 zone-file parser: $ORIGIN, $TTL, $INCLUDE, '@', relative names, omitted owner,
// TTL and class, TTL units, and every RDATA format dns/rdata knows (with TYPEnnn, CLASSnnn and
// RFC 3597 `\#`). Tokens come from dns/presentation; RDATA from dns/rdata. Errors are one
// ParseError `file:line:column: reason`; parseZone returns a whole, validated zone or throws.
//
// Default TTL (RFC 2308 §4 and BIND): a record without a TTL takes $TTL when one was set, else
// the last explicit TTL; the very first record, when it is the SOA, takes the SOA MINIMUM.
import { inputError, ParseError, RdataError } from '../errors.ts';
import { parseName, type Fqdn } from '../name.ts';
import { Tokenizer, type Token } from '../presentation/tokenizer.ts';
import { parseRdata } from '../rdata/codec.ts';
import { soaMinimum } from '../rdata/soa.ts';
import { CLASS_IN, type RR } from '../rr.ts';
import { classFromString, RRType, typeFromString } from '../types.ts';
import { ZoneBuilder, type Zone } from '../zone.ts';
import { parseDirective, type DirectiveState } from './directives.ts';
import { looksLikeTtl, parseTtl } from './ttl.ts';

export interface ZoneFileOptions {
  /** The zone's origin: the initial $ORIGIN and, for parseZone, the apex. */
  readonly origin: Fqdn;
  /** Name used in error messages and as the base for relative $INCLUDE paths. */
  readonly file?: string;
  /** Reads an included file (the CLI passes node:fs); without it $INCLUDE is an error. */
  readonly readFile?: (path: string) => string;
  /** The zone class (default IN). */
  readonly class?: number;
  /** Called with `file:line:column: message` for things that load but deserve a look. */
  readonly onWarning?: (message: string) => void;
}

/** Called for every record with the token where it started (for positions). */
type Emit = (rr: RR, at: Token, file: string) => void;

const MAX_INCLUDE_DEPTH = 16;
const PLAIN_RELATIVE = /^[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})*$/;

interface Ctx {
  readonly opts: ZoneFileOptions;
  readonly klass: number;
  readonly emit: Emit;
  /** $TTL, when set; shared across $INCLUDEd files. */
  defaultTtl: number | undefined;
  /** The last explicit TTL (RFC 1035 default when there is no $TTL). */
  lastTtl: number | undefined;
  depth: number;
}

function fail(message: string, file: string, at: { line: number; col: number }, cause?: unknown): never {
  throw new ParseError(message, file, at.line, at.col, cause === undefined ? undefined : { cause });
}

/** The reason of an input error; anything but a DnsError is a bug and is re-thrown (inputError). */
function reasonOf(err: unknown): string {
  const e = inputError(err);
  return e instanceof RdataError ? e.reason : e.message;
}

/** Why the caller's readFile failed: whatever it threw (a system error or its own refusal). */
function readFailure(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Owner names: a fast path for plain relative names, parseName for everything else. */
function ownerName(text: string, origin: Fqdn, plainOrigin: boolean): Fqdn {
  if (plainOrigin && PLAIN_RELATIVE.test(text)) {
    const name = origin === '.' ? `${text}.` : `${text}.${origin}`;
    if (name.length <= 254) return name as Fqdn;
  }
  return parseName(text, origin);
}

function isPlainOrigin(origin: Fqdn): boolean {
  return !origin.includes('\\');
}

/** Directory part of a path ('' when there is none). */
function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i + 1);
}

function scan(text: string, file: string, originIn: Fqdn, ctx: Ctx): void {
  let origin = originIn;
  let plainOrigin = isPlainOrigin(origin);
  let owner: Fqdn | undefined;
  let ownerText = '';
  const tz = new Tokenizer(text, file);
  for (let line = tz.next(); line !== undefined; line = tz.next()) {
    const t = line.tokens;
    const first = t[0] as Token;
    if (!line.indented && !first.quoted && first.text.charCodeAt(0) === 0x24 /* $ */) {
      const state: DirectiveState = { origin };
      const d = parseDirective(t, file, state);
      if (d.kind === 'origin') {
        origin = d.origin;
        plainOrigin = isPlainOrigin(origin);
        ownerText = ''; // the same owner text now means another name
      } else if (d.kind === 'ttl') {
        ctx.defaultTtl = d.ttl;
      } else {
        if (ctx.opts.readFile === undefined) fail('$INCLUDE is not allowed here (no file access)', file, first);
        if (ctx.depth >= MAX_INCLUDE_DEPTH) fail(`$INCLUDE nested deeper than ${MAX_INCLUDE_DEPTH}`, file, first);
        const path = d.path.startsWith('/') ? d.path : dirOf(file) + d.path;
        let included: string;
        try {
          included = ctx.opts.readFile(path);
        } catch (err) {
          fail(`cannot read $INCLUDE file "${path}": ${readFailure(err)}`, file, t[1] ?? first, err);
        }
        ctx.depth++;
        scan(included, path, d.origin ?? origin, ctx);
        ctx.depth--;
        // RFC 1035 §5.1: the origin (and with it the owner) of the including file is unchanged.
      }
      continue;
    }
    let i = 0;
    if (!line.indented) {
      if (first.text !== ownerText || owner === undefined) {
        if (first.quoted) fail('owner name may not be quoted', file, first);
        try {
          owner = ownerName(first.text, origin, plainOrigin);
        } catch (err) {
          fail(`bad owner name: ${reasonOf(err)}`, file, first, err);
        }
        ownerText = first.text;
      }
      i = 1;
    } else if (owner === undefined) {
      fail('no owner name: the first record must name its owner', file, first);
    }
    // [TTL] [class] or [class] [TTL], then the type.
    let ttl: number | undefined;
    let klass: number | undefined;
    let typeTok: Token | undefined;
    let type: number | undefined;
    for (; i < t.length; i++) {
      const tok = t[i] as Token;
      if (tok.quoted) fail(`expected a type, found a quoted string`, file, tok);
      if (ttl === undefined && looksLikeTtl(tok.text)) {
        try {
          ttl = parseTtl(tok.text);
        } catch (err) {
          fail(reasonOf(err), file, tok, err);
        }
        continue;
      }
      if (klass === undefined) {
        const c = classFromString(tok.text);
        if (c !== undefined) {
          klass = c;
          continue;
        }
      }
      type = typeFromString(tok.text);
      if (type === undefined) fail(`unknown RR type "${tok.text}"`, file, tok);
      typeTok = tok;
      i++;
      break;
    }
    if (typeTok === undefined || type === undefined) fail('missing RR type', file, t[t.length - 1] ?? first);
    if (klass !== undefined && klass !== ctx.klass) {
      fail(`class ${t.find((x) => classFromString(x.text) === klass)?.text ?? klass} differs from the zone's class`, file, typeTok);
    }
    const rdataTokens = t.slice(i);
    let rdata: Uint8Array;
    try {
      rdata = parseRdata(type, rdataTokens, origin);
    } catch (err) {
      const e = inputError(err);
      const at = e instanceof RdataError ? (rdataTokens[e.tokenIndex] ?? rdataTokens[rdataTokens.length - 1] ?? typeTok) : typeTok;
      fail(`bad ${typeTok.text} RDATA: ${reasonOf(e)}`, file, at, e);
    }
    if (ttl !== undefined) {
      ctx.lastTtl = ttl;
    } else if (ctx.defaultTtl !== undefined) {
      ttl = ctx.defaultTtl;
    } else if (ctx.lastTtl !== undefined) {
      ttl = ctx.lastTtl;
    } else if (type === RRType.SOA) {
      ttl = soaMinimum(rdata);
      ctx.lastTtl = ttl;
      ctx.opts.onWarning?.(`${file}:${first.line}:${first.col}: no TTL and no $TTL: the SOA takes its MINIMUM ${ttl}`);
    } else {
      fail('no TTL given and no $TTL or earlier TTL to default to', file, first);
    }
    ctx.emit({ name: owner, type, class: ctx.klass, ttl, rdata }, first, file);
  }
}

function run(text: string, opts: ZoneFileOptions, emit: Emit): void {
  const ctx: Ctx = {
    opts,
    klass: opts.class ?? CLASS_IN,
    emit,
    defaultTtl: undefined,
    lastTtl: undefined,
    depth: 0,
  };
  try {
    scan(text, opts.file ?? '<input>', opts.origin, ctx);
  } catch (err) {
    const e = inputError(err);
    if (e instanceof ParseError) throw e;
    throw new ParseError(e.message, opts.file ?? '<input>', 0, 0, { cause: e });
  }
}

/** Every record of a zone file, in file order, without zone validation. Throws ParseError. */
export function parseRecords(text: string, opts: ZoneFileOptions): RR[] {
  const out: RR[] = [];
  run(text, opts, (rr) => out.push(rr));
  return out;
}

/**
 * Parses a zone file into a validated Zone with apex `opts.origin`. All or nothing: any bad
 * record or broken zone rule throws one ParseError `file:line:column: reason`.
 */
export function parseZone(text: string, opts: ZoneFileOptions): Zone {
  const file = opts.file ?? '<input>';
  const b = new ZoneBuilder(opts.origin, opts.class ?? CLASS_IN);
  run(text, opts, (rr, at, where) => {
    let outcome;
    try {
      outcome = b.add(rr);
    } catch (err) {
      fail(reasonOf(err), where, at, err);
    }
    if (outcome === 'ttl-unified') {
      opts.onWarning?.(`${where}:${at.line}:${at.col}: TTL ${rr.ttl} differs from the RRset's TTL ${b.ttlOf(rr.name, rr.type) ?? '?'}: set to the RRset's TTL`);
    }
  });
  let zone: Zone;
  try {
    zone = b.finish();
  } catch (err) {
    fail(reasonOf(err), file, { line: 1, col: 1 }, err);
  }
  if (opts.onWarning !== undefined && zone.dnames.size > 0) warnBelowDname(zone, file, opts.onWarning);
  return zone;
}

/** Data below a DNAME is never answered (RFC 6672 §2.4), and secondaries like Knot refuse it. */
function warnBelowDname(zone: Zone, file: string, warn: (message: string) => void): void {
  let count = 0;
  for (const name of zone.names()) {
    const dname = zone.dnameAbove(name);
    if (dname === undefined || zone.rrsets(name).length === 0) continue;
    if (++count <= 10) warn(`${file}: ${name} has data below the DNAME at ${dname}: it is never answered, and secondaries such as Knot refuse the zone (RFC 6672 §2.4)`);
  }
  if (count > 10) warn(`${file}: ${count - 10} more names have data below a DNAME`);
}

/** Reads `path` with `readFile` (also used for $INCLUDE) and parses it as zone `origin`. */
export function loadZoneFile(path: string, origin: Fqdn, readFile: (path: string) => string, opts: Omit<ZoneFileOptions, 'origin' | 'file' | 'readFile'> = {}): Zone {
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    throw new ParseError(`cannot read zone file: ${readFailure(err)}`, path, 0, 0, { cause: err });
  }
  return parseZone(text, { ...opts, origin, file: path, readFile });
}
