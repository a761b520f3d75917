// Whether the lab's world has converged: every provider listed in a zone's HSYNC serves, on its
// nameserver, the apex NS RRset of the providers listed (their nameservers' union). Used by
// `mpdns lab --until-converged`, the status table and the tests.
import { parseName, type Fqdn } from '../../dns/name.ts';
import { query } from '../../dns/net/client.ts';
import { parseHostPort, type Peer } from '../../dns/net/transport.ts';
import { soaSerial } from '../../dns/rdata/soa.ts';
import { decodeRdata } from '../../dns/rdata/codec.ts';
import { Rcode, RRType } from '../../dns/types.ts';
import type { LabConfig, LabJson } from './lab.ts';

/** What one nameserver serves for a zone: its SOA serial and apex NS names (sorted). */
export interface Served {
  readonly serial: number | undefined;
  readonly ns: readonly string[];
}

export async function servedAt(nameserver: Peer, zone: Fqdn): Promise<Served> {
  const ask = (type: number) => query(nameserver, zone, type, { timeoutMs: 1000, attempts: 1 }).catch(() => undefined);
  const [soa, ns] = await Promise.all([ask(RRType.SOA), ask(RRType.NS)]);
  const soaRR = soa?.message.rcode === Rcode.NOERROR ? soa.message.answer.find((rr) => rr.type === RRType.SOA) : undefined;
  const names = ns?.message.rcode === Rcode.NOERROR ? ns.message.answer.filter((rr) => rr.type === RRType.NS).map((rr) => decodeRdata('NS', rr.rdata).host) : [];
  return { serial: soaRR === undefined ? undefined : soaSerial(soaRR.rdata), ns: names.sort() };
}

/** The NS names every listed provider should serve for each zone. */
export function expectedNs(config: LabConfig): Map<Fqdn, string[]> {
  const out = new Map<Fqdn, string[]>();
  for (const z of config.zones) {
    const names = config.providers.filter((p) => z.hsync.includes(p.label)).flatMap((p) => p.nameservers.map((n) => parseName(n) as string));
    out.set(parseName(z.name), [...new Set(names)].sort());
  }
  return out;
}

interface ZoneRow {
  readonly zone: string;
  readonly contribution?: { readonly local: string; readonly deliveries: readonly { readonly peer: string; readonly status: string }[] };
}

/**
 * True once, for every zone, every listed provider's nameserver serves the expected NS RRset and
 * every listed provider's contribution is served by its own combiner and confirmed (SUCCESS) by
 * every other listed provider. (The owner's NS is that union from the start, so the NS RRset
 * alone would not show that the providers synced.)
 */
export async function converged(config: LabConfig, json: LabJson): Promise<boolean> {
  for (const [zone, want] of expectedNs(config)) {
    const z = config.zones.find((c) => parseName(c.name) === zone);
    const listed = json.providers.filter((x) => z?.hsync.includes(x.label) === true);
    for (const p of listed) {
      const got = await servedAt(parseHostPort(p.nameserver), zone);
      if (got.ns.join(' ') !== want.join(' ')) return false;
      const rows = (await fetch(`${p.control}/zones`, { signal: AbortSignal.timeout(2000) }).then((r) => r.json()).catch(() => [])) as ZoneRow[];
      const c = rows.find((r) => r.zone === zone)?.contribution;
      if (c?.local !== 'served') return false;
      for (const q of listed) if (q !== p && !c.deliveries.some((d) => d.peer === q.identity && d.status === 'SUCCESS')) return false;
    }
  }
  return true;
}
