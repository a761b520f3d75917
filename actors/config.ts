// A provider's configuration file (YAML), shared by its roles (agent, gateway; later combiner and
// signer). Read and validated once at start: every problem is collected and reported together,
// each with the path of the field at fault (`zones[1].primary: …`), and nothing starts until
// the file is right.
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { DnsError } from '../dns/errors.ts';
import { parseName, type Fqdn } from '../dns/name.ts';
import { ListenError } from '../dns/net/errors.ts';
import { parseHostPort, type Peer } from '../dns/net/transport.ts';

export interface ZoneConfig {
  readonly name: Fqdn;
  /** The zone owner's primary: where the agent reads the apex HSYNC and HSYNCPARAM. */
  readonly primary: Peer;
}

export interface ProviderConfig {
  /** This provider's agent identity (the name in HSYNC records). */
  readonly identity: Fqdn;
  /** Private JWK (P-256) or JWK set, JSON: signs and decrypts. */
  readonly keyFile: string;
  /** Broker namespace of this provider. */
  readonly namespace: string;
  /** The validating resolver for discovery. */
  readonly resolver: Peer;
  /** Accept discovery answers without AD (labs without a validating resolver). */
  readonly insecure: boolean;
  /** Where the gateway listens for NOTIFY(CHUNK) from peers (TCP). */
  readonly gateway: Peer;
  /** The agent's control and metrics endpoint (HTTP). */
  readonly control: Peer;
  /** Bearer token file; required when the control endpoint is not on loopback. */
  readonly controlTokenFile: string | undefined;
  /** BEAT interval, seconds. */
  readonly beatSeconds: number;
  readonly zones: readonly ZoneConfig[];
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

const KNOWN = ['identity', 'keyFile', 'namespace', 'resolver', 'insecure', 'gateway', 'control', 'controlTokenFile', 'beatSeconds', 'zones'];

/** Reads fields of one YAML mapping, recording each problem under its path instead of throwing. */
class Reader {
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
      return parseName(v.endsWith('.') ? v : `${v}.`);
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
}

const isLoopback = (p: Peer): boolean => p.address === '::1' || (isIP(p.address) === 4 && p.address.startsWith('127.'));

/** Validates parsed YAML; throws ConfigError listing every problem. */
export function providerConfig(doc: unknown, file: string): ProviderConfig {
  const problems: string[] = [];
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ConfigError(file, ['the file is not a YAML mapping']);
  const r = new Reader('', doc as Record<string, unknown>, problems);
  r.unknownKeys(KNOWN);
  const identity = r.name('identity');
  const keyFile = r.string('keyFile', true);
  const namespace = r.string('namespace', false) ?? 'mpdns';
  if (!/^[a-z0-9-]{1,32}$/.test(namespace)) problems.push('namespace: use 1 to 32 of a-z, 0-9 and -');
  const resolver = r.hostPort('resolver');
  const insecure = r.bool('insecure', false);
  const gateway = r.hostPort('gateway');
  const control = r.hostPort('control', '127.0.0.1:8053');
  const controlTokenFile = r.string('controlTokenFile', false);
  if (control !== undefined && !isLoopback(control) && controlTokenFile === undefined) problems.push('controlTokenFile: required when control listens beyond loopback');
  const beatSeconds = r.int('beatSeconds', 15, 1, 3600);
  const zones: ZoneConfig[] = [];
  const seen = new Set<string>();
  for (const z of r.list('zones')) {
    z.unknownKeys(['name', 'primary']);
    const name = z.name('name');
    const primary = z.hostPort('primary');
    if (name !== undefined && seen.has(name)) problems.push(`${z.path}.name: ${name} is listed twice`);
    if (name !== undefined) seen.add(name);
    if (name !== undefined && primary !== undefined) zones.push({ name, primary });
  }
  if (problems.length > 0 || identity === undefined || keyFile === undefined || resolver === undefined || gateway === undefined || control === undefined) {
    throw new ConfigError(file, problems);
  }
  return { identity, keyFile, namespace, resolver, insecure, gateway, control, controlTokenFile, beatSeconds, zones };
}

/** Reads and validates a provider configuration file. */
export async function loadProviderConfig(file: string): Promise<ProviderConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, [`cannot read: ${e instanceof Error ? e.message : String(e)}`]);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (e) {
    if (e instanceof YAMLParseError) throw new ConfigError(file, [`line ${e.linePos?.[0].line ?? '?'}: ${e.message.split('\n')[0] ?? ''}`]);
    throw e;
  }
  return providerConfig(doc, file);
}
