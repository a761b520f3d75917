// The signed zone's index: names in canonical order with their RRsets, signatures and denial
// records, the NSEC3 chain by hash, the keys and the policy. The stages that fill and change it
// (zone-sign.ts, nsec-chain.ts, nsec3-chain.ts, zone-nsec.ts, sign-zone.ts, sign-parallel.ts,
// sign-incremental.ts, refresh.ts) work on a SignIndex; SignedZone (signer.ts) is its public face.
//
// Multi-signer model 2 (RFC 8901): the DNSKEY RRset holds this signer's keys plus foreign
// DNSKEYs (published, never used to sign). KSKs (SEP bit) sign DNSKEY, CDS and CDNSKEY; ZSKs
// sign everything else; with only SEP keys (CSK mode) they sign everything.
import { canonicalRdata } from '../canonical.ts';
import { isSubdomain, type Fqdn } from '../name.ts';
import type { RR } from '../rr.ts';
import { RRType } from '../types.ts';
import type { ZoneDiff } from '../zone.ts';
import { algorithmName } from './algorithms.ts';
import { SignError } from './errors.ts';
import { decodeDnskey, isKsk, type SigningKey } from './keys.ts';
import { keyTag } from './keytag.ts';
import { nameSortKey, ownerWire, parentOf as parentName } from './namekeys.ts';
import type { Nsec3Params } from './nsec3.ts';
import { DEFAULT_POLICY, type SigningPolicy } from './sign.ts';

export type Denial = { readonly kind: 'nsec' } | ({ readonly kind: 'nsec3' } & Nsec3Params);

export interface SignerConfig {
  readonly origin: Fqdn;
  /** This signer's own keys (private halves). */
  readonly keys: readonly SigningKey[];
  /** Other signers' DNSKEY RDATA: published in the DNSKEY RRset, never used to sign. */
  readonly foreignDnskeys?: readonly Uint8Array[];
  readonly denial?: Denial;
  readonly policy?: SigningPolicy;
  /** Signatures expiring within this many seconds are renewed by refresh() (default validity/4). */
  readonly refreshWithin?: number;
  /** Canonical RDATA (RFC 4034 §6.2) of a record; default: dns/canonical.ts. */
  readonly canonicalRdata?: (type: number, rdata: Uint8Array) => Uint8Array;
}

/** A change of unsigned records: the RR lists of a dns/zone.ts ZoneDiff. */
export type RRDiff = Pick<ZoneDiff, 'removed' | 'added'>;

export interface SignStats {
  /** Signatures created (each is one private-key operation). */
  signatures: number;
  /** RRsets (including NSEC/NSEC3 records) that got new signatures. */
  rrsets: number;
}

/** A change's work, with the signed records it removed and added (for an IXFR journal). */
export type SignChanges = SignStats & { removed: RR[]; added: RR[] };

/** Node status: where the name stands relative to zone cuts. */
export type Status = 'auth' | 'cut' | 'occluded' | 'ent';

export interface RRset {
  ttl: number;
  klass: number;
  rdatas: Uint8Array[];
}

export interface Node {
  readonly name: Fqdn;
  readonly key: string;
  readonly sets: Map<number, RRset>;
  /** RRSIGs by type covered (NSEC included). */
  readonly sigs: Map<number, RR[]>;
  status: Status;
  nsec?: RR;
  /** Base32hex label of the NSEC3 hash when the name is in the NSEC3 chain. */
  hash?: string;
  wire?: Uint8Array;
}

export interface Nsec3Node {
  readonly label: string;
  readonly owner: Fqdn;
  readonly hash: Uint8Array;
  readonly node: Node;
  rr?: RR;
  sigs: RR[];
}

/** Types the signer makes itself: dropped from unsigned input and made anew. */
export const STRIPPED = new Set<number>([RRType.RRSIG, RRType.NSEC, RRType.NSEC3, RRType.NSEC3PARAM]);
const KSK_TYPES = new Set<number>([RRType.DNSKEY, RRType.CDS, RRType.CDNSKEY]);

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The first index in `arr` (sorted by `keyOf`) whose key is not below `key`. */
export function lowerBound<T>(arr: readonly T[], key: string, keyOf: (t: T) => string): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keyOf(arr[mid] as T) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export const nodeKey = (n: Node): string => n.key;
export const n3Key = (n: Nsec3Node): string => n.label;

export class SignIndex {
  readonly origin: Fqdn;
  readonly denial: Denial;
  readonly policy: SigningPolicy;
  readonly stats: SignStats = { signatures: 0, rrsets: 0 };
  readonly keys: readonly SigningKey[];
  readonly ksks: readonly SigningKey[];
  readonly zsks: readonly SigningKey[];
  readonly foreign: readonly Uint8Array[];
  readonly canon: (type: number, rdata: Uint8Array) => Uint8Array;
  readonly refreshWithin: number;
  readonly byName = new Map<Fqdn, Node>();
  sorted: Node[] = [];
  readonly n3ByLabel = new Map<string, Nsec3Node>();
  n3Sorted: Nsec3Node[] = [];
  readonly signerWire: Uint8Array;
  denialTtl = 3600;
  /** The DNSKEY RRset took the SOA TTL (the unsigned zone had no DNSKEY of its own). */
  dnskeyTtlFromSoa = false;
  /** The signing time of the current stage (seconds since the epoch). */
  now = 0;

  constructor(cfg: SignerConfig) {
    this.origin = cfg.origin;
    this.denial = cfg.denial ?? { kind: 'nsec' };
    this.policy = cfg.policy ?? DEFAULT_POLICY;
    this.refreshWithin = cfg.refreshWithin ?? Math.floor(this.policy.validity / 4);
    this.canon = cfg.canonicalRdata ?? canonicalRdata;
    this.signerWire = ownerWire(cfg.origin);
    this.foreign = cfg.foreignDnskeys ?? [];
    if (cfg.keys.length === 0) throw new SignError(`no signing keys for zone ${cfg.origin}`);
    const alg = (cfg.keys[0] as SigningKey).algorithm;
    for (const k of cfg.keys) {
      if (k.zone !== cfg.origin) {
        throw new SignError(`key ${k.keyTag} is for zone ${k.zone}, not ${cfg.origin}`);
      }
      if (k.algorithm !== alg) {
        throw new SignError(
          `key ${k.keyTag} uses algorithm ${algorithmName(k.algorithm)}, key ${cfg.keys[0]?.keyTag} uses ${algorithmName(alg)}: one algorithm per signer`,
        );
      }
    }
    this.keys = cfg.keys;
    for (const dk of this.foreign) this.checkForeign(dk);
    const ksks = cfg.keys.filter((k) => isKsk(k.flags));
    const zsks = cfg.keys.filter((k) => !isKsk(k.flags));
    this.ksks = ksks.length > 0 ? ksks : zsks;
    this.zsks = zsks.length > 0 ? zsks : ksks;
  }

  /** Refuses a foreign DNSKEY of another algorithm than this signer's keys. */
  checkForeign(dk: Uint8Array): void {
    const alg = (this.keys[0] as SigningKey).algorithm;
    const f = decodeDnskey(dk);
    if (f.algorithm !== alg) {
      throw new SignError(
        `foreign DNSKEY ${keyTag(dk)} uses algorithm ${algorithmName(f.algorithm)} but this signer uses ${algorithmName(alg)}: ` +
          'every algorithm in the DNSKEY RRset must sign every RRset (RFC 4035 §2.2), so model 2 needs one algorithm',
      );
    }
  }

  /** The node at `name`, made (with the empty non-terminals above it) when absent. */
  ensureNode(name: Fqdn, created?: Node[]): Node {
    let n = this.byName.get(name);
    if (n !== undefined) return n;
    n = { name, key: nameSortKey(name), sets: new Map(), sigs: new Map(), status: 'ent' };
    this.byName.set(name, n);
    created?.push(n);
    // Empty non-terminals between the name and the apex.
    let p = name === this.origin ? undefined : parentName(name);
    while (p !== undefined && !this.byName.has(p)) {
      const ent: Node = { name: p, key: nameSortKey(p), sets: new Map(), sigs: new Map(), status: 'ent' };
      this.byName.set(p, ent);
      created?.push(ent);
      if (p === this.origin) break;
      p = parentName(p);
    }
    return n;
  }

  /** Adds a record (its RRset takes its TTL); false when the record was there already. */
  addRR(rr: RR): boolean {
    const n = this.ensureNode(rr.name);
    const rdata = this.canon(rr.type, rr.rdata);
    let set = n.sets.get(rr.type);
    if (set === undefined) {
      set = { ttl: rr.ttl, klass: rr.class, rdatas: [] };
      n.sets.set(rr.type, set);
    }
    set.ttl = rr.ttl;
    if (set.rdatas.some((r) => bytesEqual(r, rdata))) return false;
    set.rdatas.push(rdata);
    return true;
  }

  computeStatus(n: Node): Status {
    if (n.name !== this.origin) {
      const parent = this.byName.get(parentName(n.name) as Fqdn);
      if (parent !== undefined) {
        if (parent.status === 'occluded' || parent.status === 'cut') return 'occluded';
        if (parent.sets.has(RRType.DNAME)) return 'occluded';
      }
      if (n.sets.has(RRType.NS)) return 'cut';
    }
    return n.sets.size === 0 ? 'ent' : 'auth';
  }

  /** Authoritative data is signed; at a cut only the DS. */
  isSigned(n: Node, type: number): boolean {
    if (n.status === 'auth') return true;
    return n.status === 'cut' && type === RRType.DS;
  }

  wireOf(n: Node): Uint8Array {
    n.wire ??= ownerWire(n.name);
    return n.wire;
  }

  keysFor(type: number, name: Fqdn): readonly SigningKey[] {
    return KSK_TYPES.has(type) && name === this.origin ? this.ksks : this.zsks;
  }

  hasDescendant(n: Node): boolean {
    const i = lowerBound(this.sorted, n.key, nodeKey);
    const next = this.sorted[this.sorted[i] === n ? i + 1 : i];
    return next !== undefined && next.name !== n.name && isSubdomain(next.name, n.name);
  }

  apexSoaTtl(): number | undefined {
    return this.byName.get(this.origin)?.sets.get(RRType.SOA)?.ttl;
  }

  /**
   * The records of output sections [from, to): section i < size is the i-th name in canonical
   * order (its RRsets by type, each followed by its RRSIGs, then its NSEC); section `size` is
   * every NSEC3 record.
   */
  *sectionRecords(from: number, to: number): Generator<RR> {
    const end = Math.min(to, this.sorted.length);
    for (let i = from; i < end; i++) {
      const n = this.sorted[i] as Node;
      const types = [...n.sets.keys()].sort((a, b) => a - b);
      for (const type of types) {
        const set = n.sets.get(type) as RRset;
        for (const rdata of set.rdatas) yield { name: n.name, type, class: set.klass, ttl: set.ttl, rdata };
        yield* n.sigs.get(type) ?? [];
      }
      if (n.nsec !== undefined) {
        yield n.nsec;
        yield* n.sigs.get(RRType.NSEC) ?? [];
      }
    }
    if (from <= this.sorted.length && to > this.sorted.length) {
      for (const x of this.n3Sorted) {
        if (x.rr !== undefined) yield x.rr;
        yield* x.sigs;
      }
    }
  }
}
