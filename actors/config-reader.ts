// Reading YAML configuration files: every problem is collected with the path of the field at
// fault (`zones[1].primary: …`) in file order, and reported together in one ConfigError.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { DnsError } from '../dns/errors.ts';
import { parseUserName, type Fqdn } from '../dns/name.ts';
import { ListenError } from '../dns/net/errors.ts';
import { parseHostPort, type Peer } from '../dns/net/transport.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

/** The parsed YAML document of `file`; unreadable files and syntax errors are ConfigErrors. */
export async function readYaml(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, [`cannot read: ${e instanceof Error ? e.message : String(e)}`]);
  }
  try {
    return parseYaml(text, { prettyErrors: true, uniqueKeys: true }) as unknown;
  } catch (e) {
    if (e instanceof YAMLParseError) throw new ConfigError(file, [`line ${e.linePos?.[0].line ?? '?'}: ${e.message.split('\n')[0] ?? ''}`]);
    throw e;
  }
}

/** Reads fields of one YAML mapping, recording each problem under its path instead of throwing. */
export class Reader {
  constructor(
    readonly path: string,
    readonly obj: Record<string, unknown>,
    readonly problems: string[],
  ) {}

  #at(key: string): string {
    return this.path === '' ? key : `${this.path}.${key}`;
  }

  #bad(key: string, what: string): undefined {
    this.problems.push(`${this.#at(key)}: ${what}`);
    return undefined;
  }

  unknownKeys(known: readonly string[]): void {
    for (const k of Object.keys(this.obj)) if (!known.includes(k)) this.#bad(k, `unknown key (known: ${known.join(', ')})`);
  }

  string(key: string, required: boolean): string | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) return required ? this.#bad(key, 'missing') : undefined;
    if (typeof v !== 'string' || v === '') return this.#bad(key, 'not a non-empty string');
    return v;
  }

  name(key: string): Fqdn | undefined {
    const v = this.string(key, true);
    if (v === undefined) return undefined;
    try {
      return parseUserName(v);
    } catch (e) {
      if (e instanceof DnsError) return this.#bad(key, e.message);
      throw e;
    }
  }

  hostPort(key: string, fallback?: string): Peer | undefined {
    const v = this.obj[key] === undefined && fallback !== undefined ? fallback : this.string(key, true);
    if (v === undefined) return undefined;
    try {
      return parseHostPort(v);
    } catch (e) {
      if (e instanceof ListenError) return this.#bad(key, e.message);
      throw e;
    }
  }

  /** A host:port that may be left out. */
  optionalHostPort(key: string): Peer | undefined {
    return this.obj[key] === undefined ? undefined : this.hostPort(key);
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.obj[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') this.#bad(key, 'not true or false');
    return v === true;
  }

  int(key: string, fallback: number, min: number, max: number): number {
    const v = this.obj[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.#bad(key, `not a whole number from ${min} to ${max}`);
      return fallback;
    }
    return v;
  }

  /** The list's mappings in file order; an entry that is not a mapping is reported when reached. */
  *list(key: string): Generator<Reader> {
    const v = this.obj[key];
    if (v === undefined || v === null) return;
    if (!Array.isArray(v)) {
      this.#bad(key, 'not a list');
      return;
    }
    for (const [i, item] of (v as unknown[]).entries()) {
      const path = `${this.#at(key)}[${i}]`;
      if (typeof item !== 'object' || item === null || Array.isArray(item)) this.problems.push(`${path}: not a mapping`);
      else yield new Reader(path, item as Record<string, unknown>, this.problems);
    }
  }

  strings(key: string): string[] | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) return this.#bad(key, 'not a list of strings');
    return v;
  }

  /** A list of domain names (absolute with or without the trailing dot); empty when absent. */
  names(key: string): Fqdn[] {
    const out: Fqdn[] = [];
    for (const [i, text] of (this.strings(key) ?? []).entries()) {
      try {
        out.push(parseUserName(text));
      } catch (e) {
        if (!(e instanceof DnsError)) throw e;
        this.problems.push(`${this.#at(key)}[${i}]: ${e.message}`);
      }
    }
    return out;
  }

  oneOf<T extends string>(key: string, values: readonly T[], fallback: T): T {
    const v = this.obj[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      this.#bad(key, `not one of ${values.join(', ')}`);
      return fallback;
    }
    return v as T;
  }
}

/** The top-level mapping of a document, or a ConfigError. */
export function topReader(doc: unknown, file: string, problems: string[]): Reader {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ConfigError(file, ['the file is not a YAML mapping']);
  return new Reader('', doc as Record<string, unknown>, problems);
}
