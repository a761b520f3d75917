// A small signed DNS world on loopback for the lab and for tests that need real validation:
// the given zones plus every ancestor up to the root, each signed by our signer (ECDSA P-256,
// KSK + ZSK, NSEC), DS records in each parent, each zone served by its own DnsServer on a free
// loopback port. The root's DS is the trust anchor a validating resolver starts from.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKey, SignedZone, SignedZoneSource } from '../../dns/dnssec/index.ts';
import { DnsServer } from '../../dns/net/server.ts';
import type { Peer } from '../../dns/net/transport.ts';
import { nameLabels, parentName, parseName, ROOT, type Fqdn } from '../../dns/name.ts';
import { rdataToText } from '../../dns/rdata/codec.ts';
import { RRType } from '../../dns/types.ts';
import { parseRecords } from '../../dns/zonefile/parse.ts';

export interface WorldZone {
  readonly origin: string;
  /** Records in presentation form with absolute owner names; SOA, NS, DNSKEY and DS are added. */
  readonly records: readonly string[];
}

export interface SignedWorld {
  /** Where each zone is served. */
  readonly servers: ReadonlyMap<Fqdn, Peer>;
  /** Each zone's signed data, for a server that answers for all of them at once. */
  readonly sources: readonly SignedZoneSource[];
  /** Absolute path of a file holding the trust anchor. */
  readonly trustAnchorFile: string;
  stop(): Promise<void>;
}

const depth = (n: Fqdn): number => nameLabels(n).length;
const nsOf = (origin: Fqdn): string => (origin === ROOT ? 'ns.root.' : `ns.${origin}`);

/** Signs and serves `zones` and their ancestors; writes the trust anchor into `dir`. */
export async function startSignedWorld(dir: string, zones: readonly WorldZone[]): Promise<SignedWorld> {
  const data = new Map<Fqdn, string[]>();
  for (const z of zones) {
    const origin = parseName(z.origin);
    data.set(origin, [...(data.get(origin) ?? []), ...z.records]);
    for (let p = parentName(origin); p !== undefined; p = parentName(p)) if (!data.has(p)) data.set(p, []);
  }
  // Children first, so that each parent is signed with its children's DS records.
  const order = [...data.keys()].sort((a, b) => depth(b) - depth(a) || (a < b ? -1 : 1));
  const extra = new Map<Fqdn, string[]>();
  const servers = new Map<Fqdn, Peer>();
  const running: DnsServer[] = [];
  const sources: SignedZoneSource[] = [];
  let trustAnchor = '';
  try {
    for (const origin of order) {
      const ns = nsOf(origin);
      const text = [
        `${origin} 3600 IN SOA ${ns} hostmaster.${origin === ROOT ? 'root.' : origin} 1 7200 3600 1209600 300`,
        `${origin} 3600 IN NS ${ns}`,
        `${ns} 3600 IN A 127.0.0.1`,
        ...(data.get(origin) ?? []),
        ...(extra.get(origin) ?? []),
      ].join('\n');
      const records = parseRecords(`${text}\n`, { origin, file: `world:${origin}` });
      const keys = [generateKey(origin, 13, 257), generateKey(origin, 13, 256)];
      const signed = SignedZone.sign(records, { origin, keys });
      const server = new DnsServer({ address: '127.0.0.1', port: 0 });
      const source = new SignedZoneSource(signed);
      sources.push(source);
      server.setZone(source);
      const { port } = await server.start();
      running.push(server);
      servers.set(origin, { address: '127.0.0.1', port });
      const ds = signed.dsSet().map((d) => `${origin} 3600 IN DS ${rdataToText(RRType.DS, d)}`);
      const parent = parentName(origin);
      if (parent === undefined) trustAnchor = ds[0] ?? '';
      else extra.set(parent, [...(extra.get(parent) ?? []), `${origin} 3600 IN NS ${ns}`, `${ns} 3600 IN A 127.0.0.1`, ...ds]);
    }
  } catch (e) {
    await Promise.all(running.map((s) => s.stop()));
    throw e;
  }
  const trustAnchorFile = join(dir, 'root.anchor');
  await writeFile(trustAnchorFile, `${trustAnchor}\n`);
  return {
    servers,
    sources,
    trustAnchorFile,
    stop: async () => {
      await Promise.all(running.map((s) => s.stop()));
    },
  };
}
