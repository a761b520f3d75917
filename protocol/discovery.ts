// Discovery from DNS, the pure half: which names a peer identity publishes, and what its URI,
// SVCB, A/AAAA and JWK records mean. A provider with identity <id> publishes
//   _dns._tcp.<id>  URI   "dns://<host>:<port>/"   the DNS transport endpoint
//   <host>          SVCB  port and address hints   (A/AAAA at <host> as fallback)
//   <host>          JWK   its public key (base64url of the JSON JWK)
// where <host> is conventionally dns.<id>. The lookups themselves (through a validating
// resolver) live in actors/agent/discovery.ts.
import { base64url } from 'jose';
import { DnsError } from '../dns/errors.ts';
import { parseName, type Fqdn } from '../dns/name.ts';
import { decodeRdata } from '../dns/rdata/codec.ts';
import { formatIpv4, formatIpv6 } from '../dns/rdata/text.ts';
import { DiscoveryError } from './errors.ts';

/** The owner of the URI record of the DNS transport for `identity`. */
export function transportUriName(identity: Fqdn): Fqdn {
  return parseName(`_dns._tcp.${identity}`);
}

export interface DnsUri {
  readonly host: Fqdn;
  /** The port the URI names, if any. */
  readonly port: number | undefined;
}

/** Reads `dns://host[:port][/]`; anything else is a DiscoveryError. */
export function parseDnsUri(identity: Fqdn, text: string): DnsUri {
  const m = /^dns:\/\/([A-Za-z0-9._-]+?)\.?(?::(\d{1,5}))?\/?$/.exec(text);
  if (m === null) throw new DiscoveryError(identity, `URI "${text}" is not dns://host[:port]/`);
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && (port < 1 || port > 65535)) throw new DiscoveryError(identity, `URI "${text}" has port ${port}`);
  try {
    return { host: parseName(`${m[1] ?? ''}.`), port };
  } catch (e) {
    if (e instanceof DnsError) throw new DiscoveryError(identity, `URI "${text}": ${e.message}`, { cause: e });
    throw e;
  }
}

/** Chooses the URI record to use: lowest priority, then highest weight, then text order. */
export function chooseUri(identity: Fqdn, rdatas: readonly Uint8Array[]): DnsUri {
  const uris = rdatas
    .map((r) => decodeRdata('URI', r))
    .filter((u) => u.target.startsWith('dns://'))
    .sort((a, b) => a.priority - b.priority || b.weight - a.weight || (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
  const best = uris[0];
  if (best === undefined) throw new DiscoveryError(identity, `no dns:// URI at ${transportUriName(identity)}`);
  return parseDnsUri(identity, best.target);
}

/** SVCB keys used here (RFC 9460): port, ipv4hint, ipv6hint. */
const SVC_PORT = 3;
const SVC_IPV4HINT = 4;
const SVC_IPV6HINT = 6;

export interface SvcbHints {
  readonly port: number | undefined;
  readonly addresses: readonly string[];
}

/** Port and address hints of the service-mode SVCB records at the host (lowest priority first). */
export function svcbHints(rdatas: readonly Uint8Array[]): SvcbHints {
  const records = rdatas.map((r) => decodeRdata('SVCB', r)).filter((s) => s.priority > 0);
  records.sort((a, b) => a.priority - b.priority);
  const best = records[0];
  if (best === undefined) return { port: undefined, addresses: [] };
  const value = (k: number): Uint8Array | undefined => best.params.find((p) => p.key === k)?.value;
  const port = value(SVC_PORT);
  const addresses: string[] = [];
  const v4 = value(SVC_IPV4HINT);
  for (let i = 0; v4 !== undefined && i + 4 <= v4.length; i += 4) addresses.push(formatIpv4(v4.subarray(i, i + 4)));
  const v6 = value(SVC_IPV6HINT);
  for (let i = 0; v6 !== undefined && i + 16 <= v6.length; i += 16) addresses.push(formatIpv6(v6.subarray(i, i + 16)));
  return { port: port !== undefined && port.length === 2 ? ((port[0] ?? 0) << 8) | (port[1] ?? 0) : undefined, addresses };
}

/** The JSON JWK of a JWK record (base64url of JSON text). */
export function jwkFromRdata(identity: Fqdn, rdata: Uint8Array): unknown {
  const { jwk } = decodeRdata('JWK', rdata);
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(base64url.decode(jwk));
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new DiscoveryError(identity, 'JWK record is not base64url of JSON', { cause: e });
  }
}

/** Where to reach a peer's DNS transport. */
export interface Endpoint {
  readonly host: Fqdn;
  readonly port: number;
  /** Addresses to try, in order (SVCB hints first, then A/AAAA). */
  readonly addresses: readonly string[];
}

/**
 * The endpoint from the chosen URI and the host's SVCB and address records: the URI's port wins,
 * then SVCB's, then 53; SVCB hints come before A/AAAA addresses (duplicates dropped).
 */
export function endpointOf(identity: Fqdn, uri: DnsUri, hints: SvcbHints, addresses: readonly string[]): Endpoint {
  const all = [...new Set([...hints.addresses, ...addresses])];
  if (all.length === 0) throw new DiscoveryError(identity, `no address for ${uri.host} (no SVCB hints, A or AAAA)`);
  return { host: uri.host, port: uri.port ?? hints.port ?? 53, addresses: all };
}

/** Where a provider's gateway listens, for its identity records. */
export interface PublishedEndpoint {
  /** IP address literals of the gateway (IPv4 and/or IPv6). */
  readonly addresses: readonly string[];
  readonly port: number;
}

/**
 * The discovery records a provider publishes in its identity zone, one presentation line each
 * (absolute owners): `_dns._tcp.<identity>` URI to `dns.<identity>`, which holds the SVCB with
 * port and address hints, A/AAAA, and the JWK (base64url of the public key's JSON).
 */
export function identityRecords(identity: Fqdn, endpoint: PublishedEndpoint, publicJwk: unknown, ttl = 3600): string[] {
  const host = `dns.${identity}`;
  const v4 = endpoint.addresses.filter((a) => !a.includes(':'));
  const v6 = endpoint.addresses.filter((a) => a.includes(':'));
  const hints = [v4.length > 0 ? `ipv4hint=${v4.join(',')}` : '', v6.length > 0 ? `ipv6hint=${v6.join(',')}` : ''].filter((h) => h !== '').join(' ');
  const b64url = base64url.encode(JSON.stringify(publicJwk));
  return [
    `_dns._tcp.${identity} ${ttl} IN URI 10 1 "dns://${host.slice(0, -1)}:${endpoint.port}/"`,
    `${host} ${ttl} IN SVCB 1 . port=${endpoint.port}${hints === '' ? '' : ` ${hints}`}`,
    ...v4.map((a) => `${host} ${ttl} IN A ${a}`),
    ...v6.map((a) => `${host} ${ttl} IN AAAA ${a}`),
    `${host} ${ttl} IN JWK ${b64url}`,
  ];
}
