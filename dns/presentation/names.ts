// Fast conversion of presentation-text names to Fqdn for bulk loading. Plain names (letters,
// digits, '-', '_', no escapes) are the overwhelming majority in large zones: for them the
// Fqdn is the lower-cased text completed with the origin, with no label-by-label rebuilding.
// Everything else goes through parseName, which has the last word on validity.
import { parseName, type Fqdn } from '../name.ts';

const PLAIN_REL = /^[A-Za-z0-9_-]{1,63}(?:\.[A-Za-z0-9_-]{1,63})*$/;
const PLAIN_ABS = /^(?:[A-Za-z0-9_-]{1,63}\.)+$/;

/** Same result as parseName(text, origin), faster for plain names. Throws NameError. */
export function parseNameFast(text: string, origin?: Fqdn): Fqdn {
  const n = text.length;
  if (n > 0 && n <= 253) {
    const last = text.charCodeAt(n - 1);
    if (last !== 0x2e) {
      if (origin !== undefined && PLAIN_REL.test(text)) {
        const full = origin === '.' ? `${text}.` : `${text}.${origin}`;
        // Wire length is text length + 1 for a plain absolute name.
        if (full.length <= 254) return full.toLowerCase() as Fqdn;
      }
    } else if (PLAIN_ABS.test(text)) {
      return text.toLowerCase() as Fqdn;
    }
  }
  return parseName(text, origin);
}
