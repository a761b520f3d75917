// TTL values in zone files: plain seconds or BIND-style units (`1h30m`, `1w`, `2D`).
import { ParseError } from '../errors.ts';

/** Largest TTL accepted (RFC 2181 §8: the top bit must be zero). */
export const MAX_TTL = 0x7fffffff;

const UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** True when the token can only be a TTL (it starts with a digit). */
export function looksLikeTtl(text: string): boolean {
  const c = text.charCodeAt(0);
  return c >= 0x30 && c <= 0x39;
}

/** Parses a TTL; throws ParseError (without position: the caller adds it). */
export function parseTtl(text: string): number {
  let total = 0;
  let num = -1;
  let sawUnit = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      num = (num < 0 ? 0 : num * 10) + (c - 0x30);
      if (num > MAX_TTL) throw new ParseError(`TTL "${text}" out of range (max ${MAX_TTL})`);
      continue;
    }
    const unit = UNIT[String.fromCharCode(c | 0x20)];
    if (unit === undefined || num < 0) throw new ParseError(`bad TTL "${text}"`);
    total += num * unit;
    num = -1;
    sawUnit = true;
  }
  if (num >= 0) {
    // A trailing bare number after units counts as seconds (BIND: "1h30").
    total += num;
  } else if (!sawUnit) {
    throw new ParseError(`bad TTL "${text}"`);
  }
  if (total > MAX_TTL) throw new ParseError(`TTL "${text}" out of range (max ${MAX_TTL})`);
  return total;
}
