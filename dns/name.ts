// Domain names: the branded, absolute, lower-cased Fqdn and the operations on it.
//
// An Fqdn is the canonical presentation text of an absolute name: ASCII letters lower-cased,
// a trailing dot, and every byte that is not a letter, digit, '-' or '_' written as an escape
// ('\.', '\\', '\"', '\(', '\)', '\;', '\@', '\$', '\ ' or '\DDD'). The root is ".". Because the
// text is canonical, two names are equal exactly when their strings are equal.
import { inputError, NameError } from './errors.ts';

declare const fqdnBrand: unique symbol;
export type Fqdn = string & { readonly [fqdnBrand]: true };

export const ROOT = '.' as Fqdn;
export const MAX_NAME_WIRE = 255;
export const MAX_LABEL = 63;

/** Characters written as a backslash followed by themselves. */
const SPECIAL = new Set([0x2e, 0x5c, 0x22, 0x28, 0x29, 0x3b, 0x40, 0x24, 0x20]);

function escapeByte(b: number): string {
  if (b >= 0x41 && b <= 0x5a) return String.fromCharCode(b + 32);
  if (SPECIAL.has(b)) return '\\' + String.fromCharCode(b);
  if (b <= 0x20 || b >= 0x7f) return '\\' + String(b).padStart(3, '0');
  return String.fromCharCode(b);
}

/** Presentation text of one label (as raw bytes), lower-cased and escaped. */
export function labelToText(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += escapeByte(b);
  return s;
}

const PLAIN = /^(?:[a-z0-9_-]{1,63}\.)+$/;

/**
 * Parses presentation text into an Fqdn. A name without a trailing dot is relative to
 * `origin` ('@' is the origin itself); without an origin a relative name is an error.
 */
export function parseName(text: string, origin?: Fqdn): Fqdn {
  if (text === '@') {
    if (origin === undefined) throw new NameError('"@" used without an origin', text);
    return origin;
  }
  if (text === '.') return ROOT;
  if (text.length === 0) throw new NameError('empty name', text);
  // Fast path: plain lower-case absolute names need no escape handling.
  if (text.length <= 254 && PLAIN.test(text)) return text as Fqdn;
  const labels = textToLabels(text);
  if (!labels.absolute) {
    if (origin === undefined) throw new NameError('relative name without an origin', text);
    const originLabels = nameLabelBytes(origin);
    return fromLabelBytes([...labels.labels, ...originLabels], text);
  }
  return fromLabelBytes(labels.labels, text);
}

/**
 * A name a person typed (a command-line argument, a key or zone name): absolute whether or not
 * it ends in a dot, so `example.com` and `example.com.` are the same name. "@" is refused: it
 * means an origin only inside a zone file.
 */
export function parseUserName(text: string): Fqdn {
  if (text === '@') throw new NameError('"@" used without an origin', text);
  return parseName(text, ROOT);
}

/** Returns the Fqdn, or undefined when the text is not a valid name. */
export function tryParseName(text: string, origin?: Fqdn): Fqdn | undefined {
  try {
    return parseName(text, origin);
  } catch (err) {
    inputError(err);
    return undefined;
  }
}

function textToLabels(text: string): { labels: Uint8Array[]; absolute: boolean } {
  const labels: Uint8Array[] = [];
  let cur: number[] = [];
  let absolute = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      if (cur.length === 0) throw new NameError(`empty label at offset ${i}`, text);
      labels.push(Uint8Array.from(cur));
      cur = [];
      if (i === text.length - 1) absolute = true;
      continue;
    }
    if (c === 0x5c) {
      const d1 = text.charCodeAt(i + 1);
      if (Number.isNaN(d1)) throw new NameError('dangling backslash', text);
      if (d1 >= 0x30 && d1 <= 0x39) {
        const digits = text.slice(i + 1, i + 4);
        if (!/^[0-9]{3}$/.test(digits)) throw new NameError(`bad escape \\${digits}`, text);
        const v = Number(digits);
        if (v > 255) throw new NameError(`escape \\${digits} out of range`, text);
        cur.push(v);
        i += 3;
      } else {
        cur.push(d1);
        i += 1;
      }
      continue;
    }
    if (c > 0x7e || c < 0x21) throw new NameError(`invalid character at offset ${i}`, text);
    cur.push(c);
  }
  if (cur.length > 0) labels.push(Uint8Array.from(cur));
  return { labels, absolute };
}

function fromLabelBytes(labels: Uint8Array[], text: string): Fqdn {
  let wireLen = 1;
  let out = '';
  for (const l of labels) {
    if (l.length > MAX_LABEL) throw new NameError(`label longer than ${MAX_LABEL} octets`, text);
    wireLen += l.length + 1;
    out += labelToText(l) + '.';
  }
  if (wireLen > MAX_NAME_WIRE) throw new NameError(`name longer than ${MAX_NAME_WIRE} octets`, text);
  return (out === '' ? '.' : out) as Fqdn;
}

/** Builds an Fqdn from raw label bytes (wire order, root excluded). Throws on length limits. */
export function nameFromLabelBytes(labels: readonly Uint8Array[]): Fqdn {
  return fromLabelBytes([...labels], '<wire>');
}

/** Splits an Fqdn into its presentation labels (escaped text), left to right; root gives []. */
export function nameLabels(name: Fqdn): string[] {
  if (name === ROOT) return [];
  if (!name.includes('\\')) return name.slice(0, -1).split('.');
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x5c) {
      i += name.charCodeAt(i + 1) >= 0x30 && name.charCodeAt(i + 1) <= 0x39 ? 3 : 1;
    } else if (c === 0x2e) {
      out.push(name.slice(start, i));
      start = i + 1;
    }
  }
  return out;
}

/** The raw bytes of each label, left to right. */
export function nameLabelBytes(name: Fqdn): Uint8Array[] {
  if (name === ROOT) return [];
  if (!name.includes('\\')) {
    return name
      .slice(0, -1)
      .split('.')
      .map((l) => Uint8Array.from(l, (ch) => ch.charCodeAt(0)));
  }
  return textToLabels(name).labels;
}

/** Number of labels, root excluded. */
export function labelCount(name: Fqdn): number {
  return nameLabels(name).length;
}

/** Uncompressed wire form (RFC 1035 §3.1). */
export function nameToWire(name: Fqdn): Uint8Array {
  const labels = nameLabelBytes(name);
  let len = 1;
  for (const l of labels) len += l.length + 1;
  const out = new Uint8Array(len);
  let o = 0;
  for (const l of labels) {
    out[o++] = l.length;
    out.set(l, o);
    o += l.length;
  }
  out[o] = 0;
  return out;
}

/** Length of the uncompressed wire form. */
export function nameWireLength(name: Fqdn): number {
  let len = 1;
  for (const l of nameLabelBytes(name)) len += l.length + 1;
  return len;
}

/** The name with its leftmost label removed; the root's parent is undefined. */
export function parentName(name: Fqdn): Fqdn | undefined {
  if (name === ROOT) return undefined;
  const first = nameLabels(name)[0] ?? '';
  const rest = name.slice(first.length + 1);
  return (rest === '' ? ROOT : rest) as Fqdn;
}

/** True when `name` equals `ancestor` or lies below it. */
export function isSubdomain(name: Fqdn, ancestor: Fqdn): boolean {
  if (ancestor === ROOT || name === ancestor) return true;
  if (!name.endsWith('.' + ancestor)) return false;
  // The dot before the ancestor must not be an escaped one ('a\.example.' is not below 'example.').
  let backslashes = 0;
  for (let i = name.length - ancestor.length - 2; i >= 0 && name[i] === '\\'; i--) backslashes++;
  return backslashes % 2 === 0;
}

/**
 * `name` with its ancestor `suffix` replaced by `replacement` (DNAME substitution, RFC 6672
 * §2.2); undefined when the result would exceed 255 octets.
 */
export function replaceSuffix(name: Fqdn, suffix: Fqdn, replacement: Fqdn): Fqdn | undefined {
  const prefix = suffix === ROOT ? name : name.slice(0, name.length - suffix.length);
  const out = (replacement === ROOT ? prefix || ROOT : prefix + replacement) as Fqdn;
  return nameWireLength(out) > 255 ? undefined : out;
}

/** `label` prepended to `name`; `label` is presentation text of one label. */
export function childName(label: string, name: Fqdn): Fqdn {
  return parseName(name === ROOT ? `${label}.` : `${label}.${name}`);
}

/** Relative presentation text of `name` under `origin` ('@' for the origin itself). */
export function relativeName(name: Fqdn, origin: Fqdn): string {
  if (name === origin) return '@';
  if (origin !== ROOT && isSubdomain(name, origin)) return name.slice(0, -origin.length - 1);
  return name;
}

/**
 * RFC 4034 §6.1 canonical order: compare label by label from the right, each label as
 * lower-cased octets, a missing label sorting first. Returns <0, 0, >0.
 */
export function compareNames(a: Fqdn, b: Fqdn): number {
  if (a === b) return 0;
  const la = nameLabelBytes(a);
  const lb = nameLabelBytes(b);
  let i = la.length - 1;
  let j = lb.length - 1;
  while (i >= 0 && j >= 0) {
    const x = la[i--] as Uint8Array;
    const y = lb[j--] as Uint8Array;
    const n = Math.min(x.length, y.length);
    for (let k = 0; k < n; k++) {
      const d = (x[k] as number) - (y[k] as number);
      if (d !== 0) return d;
    }
    if (x.length !== y.length) return x.length - y.length;
  }
  return la.length - lb.length;
}
