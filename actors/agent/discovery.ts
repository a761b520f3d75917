// Discovery from DNS, the I/O half: a peer identity's URI, SVCB (A/AAAA as fallback) and JWK
// records, looked up through the configured resolver. Only answers the resolver marked
// authenticated (AD) are used, unless the agent runs in the lab's explicit insecure mode.
import { calculateJwkThumbprint, type JWK } from 'jose';
import { query } from '../../dns/net/client.ts';
import type { Peer } from '../../dns/net/transport.ts';
import type { Fqdn } from '../../dns/name.ts';
import { Rcode, RRType } from '../../dns/types.ts';
import { decodeRdata } from '../../dns/rdata/codec.ts';
import { chooseUri, endpointOf, jwkFromRdata, svcbHints, transportUriName, type Endpoint } from '../../protocol/discovery.ts';
import { DiscoveryError } from '../../protocol/errors.ts';

export interface DiscoveryOptions {
  /** The (validating) resolver to ask. */
  readonly resolver: Peer;
  /** Accept answers without AD: for labs without a validating resolver, and said on every log line. */
  readonly insecure?: boolean;
  /** Per-query timeout, ms. Default 2000. */
  readonly timeoutMs?: number;
}

export interface Discovered {
  readonly identity: Fqdn;
  readonly endpoint: Endpoint;
  /** The published JWK (or JWK set), as JSON. */
  readonly jwk: unknown;
  /** RFC 7638 thumbprint of the (first) key: a change means the peer's key changed. */
  readonly keyId: string;
  /** Smallest TTL of the records used: when to look again. */
  readonly ttlSeconds: number;
  /** Every answer carried AD. */
  readonly validated: boolean;
}

interface Answer {
  readonly rdatas: Uint8Array[];
  readonly ttl: number;
  readonly ad: boolean;
}

async function lookup(identity: Fqdn, name: Fqdn, type: number, typeName: string, opts: DiscoveryOptions): Promise<Answer> {
  let resp;
  try {
    resp = await query(opts.resolver, name, type, { rd: true, dnssecOk: true, timeoutMs: opts.timeoutMs ?? 2000, attempts: 2 });
  } catch (e) {
    throw new DiscoveryError(identity, `${name} ${typeName}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const m = resp.message;
  if (m.rcode !== Rcode.NOERROR && m.rcode !== Rcode.NXDOMAIN) {
    throw new DiscoveryError(identity, `${name} ${typeName}: the resolver answered rcode ${m.rcode}${m.rcode === Rcode.SERVFAIL ? ' (SERVFAIL: a validation failure?)' : ''}`);
  }
  if (!m.ad && opts.insecure !== true) throw new DiscoveryError(identity, `${name} ${typeName}: the answer is not validated (no AD from the resolver)`);
  const rrs = m.answer.filter((rr) => rr.type === type);
  return { rdatas: rrs.map((rr) => rr.rdata), ttl: Math.min(...rrs.map((rr) => rr.ttl), 86400), ad: m.ad };
}

/** Looks up a peer's transport endpoint and key. Throws DiscoveryError naming what is missing or untrusted. */
export async function discoverPeer(identity: Fqdn, opts: DiscoveryOptions): Promise<Discovered> {
  const uriAnswer = await lookup(identity, transportUriName(identity), RRType.URI, 'URI', opts);
  const uri = chooseUri(identity, uriAnswer.rdatas);
  const [svcb, jwkAnswer] = await Promise.all([
    lookup(identity, uri.host, RRType.SVCB, 'SVCB', opts),
    lookup(identity, uri.host, RRType.JWK, 'JWK', opts),
  ]);
  const hints = svcbHints(svcb.rdatas);
  const used: Answer[] = [uriAnswer, svcb, jwkAnswer];
  const addresses: string[] = [];
  if (hints.addresses.length === 0) {
    const [a, aaaa] = await Promise.all([lookup(identity, uri.host, RRType.A, 'A', opts), lookup(identity, uri.host, RRType.AAAA, 'AAAA', opts)]);
    for (const r of a.rdatas) addresses.push(decodeRdata('A', r).address);
    for (const r of aaaa.rdatas) addresses.push(decodeRdata('AAAA', r).address);
    used.push(a, aaaa);
  }
  const endpoint = endpointOf(identity, uri, hints, addresses);
  const first = jwkAnswer.rdatas[0];
  if (first === undefined) throw new DiscoveryError(identity, `no JWK at ${uri.host}`);
  if (jwkAnswer.rdatas.length > 1) throw new DiscoveryError(identity, `${jwkAnswer.rdatas.length} JWK records at ${uri.host} (one expected)`);
  const jwk = jwkFromRdata(identity, first);
  const keys = (jwk as { keys?: unknown }).keys;
  const firstKey = (Array.isArray(keys) ? keys[0] : jwk) as JWK;
  let keyId: string;
  try {
    keyId = await calculateJwkThumbprint(firstKey);
  } catch (e) {
    throw new DiscoveryError(identity, `JWK at ${uri.host} is not a usable key (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
  return {
    identity,
    endpoint,
    jwk,
    keyId,
    ttlSeconds: Math.min(...used.filter((u) => u.rdatas.length > 0).map((u) => u.ttl)),
    validated: used.every((u) => u.ad),
  };
}
