// A deterministic zone-file generator for benchmarks and load tests: a valid zone of about
// `records` RRs mixing A, AAAA, MX, TXT and NS delegations with glue, as presentation text.

export interface GenZoneOptions {
  /** Absolute origin, e.g. "bench.example.". */
  readonly origin: string;
  /** Approximate number of RRs (the result has at least this many). */
  readonly records: number;
  /** PRNG seed; the same seed gives the same text. */
  readonly seed?: number;
}

export interface GeneratedZone {
  readonly text: string;
  /** Exact number of RRs in `text`. */
  readonly records: number;
  /** Number of owner names (without empty non-terminals). */
  readonly owners: number;
}

/** xorshift32: small, fast and deterministic. */
function rng(seed: number): () => number {
  let x = seed | 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

function hex4(n: number): string {
  return (n & 0xffff).toString(16);
}

/**
 * Generates the zone. Roughly: 40% A, 20% AAAA, 10% MX, 15% TXT and 15% delegations
 * (two NS plus an in-bailiwick glue A). Owners are relative names under the origin.
 */
export function generateZone(opts: GenZoneOptions): GeneratedZone {
  const rand = rng(opts.seed ?? 1);
  const lines: string[] = [
    `$ORIGIN ${opts.origin}`,
    '$TTL 3600',
    '@ IN SOA ns1 hostmaster 2026112701 7200 3600 1209600 300',
    '@ IN NS ns1',
    '@ IN NS ns2',
    'ns1 IN A 192.0.2.1',
    'ns2 IN AAAA 2001:db8::2',
  ];
  for (let m = 0; m < 100; m++) lines.push(`mail${m} A 192.0.2.${100 + m}`);
  let records = 105;
  let owners = 103;
  let i = 0;
  while (records < opts.records) {
    i++;
    const r = rand();
    const a = (i >>> 8) & 0xff;
    const b = i & 0xff;
    if (r < 0.4) {
      lines.push(`h${i} A 10.${(i >>> 16) & 0xff}.${a}.${b}`);
      records += 1;
    } else if (r < 0.6) {
      lines.push(`h${i} 300 IN AAAA 2001:db8:${hex4(i >>> 16)}:${hex4(i)}::1`);
      records += 1;
    } else if (r < 0.7) {
      lines.push(`m${i} MX 10 mail${i % 100}.${opts.origin}`);
      records += 1;
    } else if (r < 0.85) {
      lines.push(`t${i} TXT "v=spf1 ip4:10.${a}.${b}.0/24 -all" "record ${i}"`);
      records += 1;
    } else {
      lines.push(`d${i} NS ns.d${i}`, `d${i} NS ns1.${opts.origin}`, `ns.d${i} A 192.0.2.${b}`);
      records += 3;
      owners += 1;
    }
    owners += 1;
  }
  return { text: lines.join('\n') + '\n', records, owners };
}
