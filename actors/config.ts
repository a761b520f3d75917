// A provider's configuration file (YAML), shared by its roles (agent, gateway; later combiner and
// signer). Read and validated once at start: every problem is collected and reported together,
// each with the path of the field at fault (`zones[1].primary: …`), and nothing starts until
// the file is right.
import { isIP } from 'node:net';
import { stringify as stringifyYaml } from 'yaml';
import type { Fqdn } from '../dns/name.ts';
import type { Peer } from '../dns/net/transport.ts';
import { ConfigError, readYaml, topReader } from './config-reader.ts';

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
  /**
   * Where the agent listens for the owner primaries' NOTIFY (UDP and TCP), accepted only from
   * the zones' primaries. Without it the agent re-reads HSYNC on its timer only.
   */
  readonly notify: Peer | undefined;
  /** Where a gateway in its own process serves /metrics (HTTP); none when omitted. */
  readonly gatewayMetrics: Peer | undefined;
  /**
   * The combiner's DNS listener: the provider's nameserver transfers the combined zones from
   * it, and the owner's primary NOTIFYs it. Required by `mpdns combiner`.
   */
  readonly combiner: Peer | undefined;
  /** The provider's nameserver (where every name in `nameservers` is served): NOTIFY target, and where "served" is checked. */
  readonly nameserver: Peer | undefined;
  /** The NS names this provider contributes to every zone it serves (nsmgmt=agent). */
  readonly nameservers: readonly Fqdn[];
  /** Bearer token file; required when the control endpoint is not on loopback. */
  readonly controlTokenFile: string | undefined;
  /** BEAT interval, seconds. */
  readonly beatSeconds: number;
  /** The agent re-reads every zone's HSYNC this often besides on NOTIFY, seconds. */
  readonly recheckSeconds: number;
  readonly zones: readonly ZoneConfig[];
}

const KNOWN = ['identity', 'keyFile', 'namespace', 'resolver', 'insecure', 'gateway', 'control', 'controlTokenFile', 'notify', 'gatewayMetrics', 'combiner', 'nameserver', 'nameservers', 'beatSeconds', 'recheckSeconds', 'zones'];

const isLoopback = (p: Peer): boolean => p.address === '::1' || (isIP(p.address) === 4 && p.address.startsWith('127.'));

/** Validates parsed YAML; throws ConfigError listing every problem. */
export function providerConfig(doc: unknown, file: string): ProviderConfig {
  const problems: string[] = [];
  const r = topReader(doc, file, problems);
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
  const notify = r.optionalHostPort('notify');
  const gatewayMetrics = r.optionalHostPort('gatewayMetrics');
  if (gatewayMetrics !== undefined && !isLoopback(gatewayMetrics)) problems.push('gatewayMetrics: must be on loopback (it has no authentication)');
  const combiner = r.optionalHostPort('combiner');
  const nameserver = r.optionalHostPort('nameserver');
  const nameservers = r.names('nameservers');
  const beatSeconds = r.int('beatSeconds', 15, 1, 3600);
  const recheckSeconds = r.int('recheckSeconds', 60, 1, 86_400);
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
  return { identity, keyFile, namespace, resolver, insecure, gateway, control, controlTokenFile, notify, gatewayMetrics, combiner, nameserver, nameservers, beatSeconds, recheckSeconds, zones };
}

/** Reads and validates a provider configuration file. */
export async function loadProviderConfig(file: string): Promise<ProviderConfig> {
  return providerConfig(await readYaml(file), file);
}

export { ConfigError };

const hostPort = (p: Peer): string => (p.address.includes(':') ? `[${p.address}]:${p.port}` : `${p.address}:${p.port}`);

/** A configuration as the YAML file `loadProviderConfig` reads back (the lab writes these). */
export function providerConfigText(c: ProviderConfig): string {
  const doc: Record<string, unknown> = {
    identity: c.identity,
    keyFile: c.keyFile,
    namespace: c.namespace,
    resolver: hostPort(c.resolver),
    insecure: c.insecure,
    gateway: hostPort(c.gateway),
    control: hostPort(c.control),
    ...(c.controlTokenFile !== undefined ? { controlTokenFile: c.controlTokenFile } : {}),
    ...(c.notify !== undefined ? { notify: hostPort(c.notify) } : {}),
    ...(c.gatewayMetrics !== undefined ? { gatewayMetrics: hostPort(c.gatewayMetrics) } : {}),
    ...(c.combiner !== undefined ? { combiner: hostPort(c.combiner) } : {}),
    ...(c.nameserver !== undefined ? { nameserver: hostPort(c.nameserver) } : {}),
    ...(c.nameservers.length > 0 ? { nameservers: [...c.nameservers] } : {}),
    beatSeconds: c.beatSeconds,
    recheckSeconds: c.recheckSeconds,
    zones: c.zones.map((z) => ({ name: z.name, primary: hostPort(z.primary) })),
  };
  return stringifyYaml(doc);
}
