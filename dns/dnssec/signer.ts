// The zone signer's public face: SignedZone signs a whole zone (NSEC or NSEC3), keeps the result
// indexed by owner and type, and re-signs incrementally. The work is done in stages, one file
// each (after Knot's zone-sign.c, zone-nsec.c, nsec-chain.c, nsec3-chain.c):
//
//   signed-index.ts      the index: names, RRsets, signatures, keys, policy
//   zone-sign.ts         RRsets to sign jobs, and the sinks that run them
//   sign-zone.ts         full signing in this thread
//   sign-parallel.ts     full signing with a worker pool
//   nsec-chain.ts        the NSEC chain;  nsec3-chain.ts  the NSEC3 chain
//   zone-nsec.ts         denial of either kind: TTL, repair, re-timing after a new SOA
//   sign-incremental.ts  apply(diff);  refresh.ts  renewal before expiry
//   signed-changes.ts    the signed records a change removed and added (IXFR journal)
import type { Fqdn } from '../name.ts';
import type { RR } from '../rr.ts';
import { RRType } from '../types.ts';
import { dsFromDnskey } from './ds.ts';
import { decodeDnskey, isKsk, type SigningKey } from './keys.ts';
import { nameSortKey } from './namekeys.ts';
import { chainPrev } from './nsec-chain.ts';
import { nsec3For } from './nsec3-chain.ts';
import { refresh, refreshWithChanges } from './refresh.ts';
import { applySigned, applySignedWithChanges } from './sign-incremental.ts';
import { signIndexParallel, type BatchSigner, type ParallelOptions } from './sign-parallel.ts';
import type { SigningPolicy } from './sign.ts';
import { signZone } from './sign-zone.ts';
import type { Denial, Node, RRDiff, SignChanges, SignerConfig, SignIndex, SignStats, Status } from './signed-index.ts';

export type { BatchSigner, ParallelOptions } from './sign-parallel.ts';
export type { Denial, RRDiff, SignChanges, SignerConfig, SignStats } from './signed-index.ts';

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export class SignedZone {
  readonly origin: Fqdn;
  readonly denial: Denial;
  readonly policy: SigningPolicy;
  readonly stats: SignStats;
  private readonly s: SignIndex;

  private constructor(s: SignIndex) {
    this.s = s;
    this.origin = s.origin;
    this.denial = s.denial;
    this.policy = s.policy;
    this.stats = s.stats;
  }

  /** Signs a zone in this thread. `now` is seconds since the epoch. */
  static sign(records: readonly RR[], cfg: SignerConfig, now: number = nowSeconds()): SignedZone {
    return new SignedZone(signZone(records, cfg, now));
  }

  /**
   * Signs a zone with a worker pool (dns/net/sign-pool.ts) and this thread together, and hands
   * out the signed zone's records in output order (`onReady`).
   *
   * With an ECDSA pool the workers only make nonces (`pool.nonces`) and this thread signs
   * everything with them, then hands out all records at once. Otherwise (Ed25519) the workers
   * sign batches and records go out while the rest is still being signed: this thread prepares
   * every signature input first (in output order, cut into batches of `batchSize`); meanwhile
   * the workers are kept `ahead` batches deep with the newest batches.
   * Then this thread walks the batches from the front: a batch nobody has taken it signs itself,
   * one a worker has it waits for; after each, the names whose signatures are all done go to
   * `onReady` (formatting and writing them overlaps the workers' signing). The two ends meet in
   * the middle, so neither thread idles at the end. The workers' progress is read from shared
   * memory (`backlog()`) because replies are only seen when this thread waits.
   */
  static async signParallel(
    records: readonly RR[],
    cfg: SignerConfig,
    pool: BatchSigner,
    now: number = nowSeconds(),
    opts: ParallelOptions = {},
  ): Promise<SignedZone> {
    return new SignedZone(await signIndexParallel(records, cfg, pool, now, opts));
  }

  /** This signer's own keys. */
  get signingKeys(): readonly SigningKey[] {
    return this.s.keys;
  }

  // ---- changing ------------------------------------------------------------------------

  /**
   * Applies a diff of unsigned records and re-signs what it touches: the changed RRsets, the
   * NSEC/NSEC3 records of names whose existence or type set changed and of their chain
   * predecessors. Returns the work done.
   */
  apply(diff: RRDiff, now: number = nowSeconds()): SignStats {
    return applySigned(this.s, diff, now);
  }

  /** apply() that also returns the signed records it removed and added, for an IXFR journal. */
  applyWithChanges(diff: RRDiff, now: number = nowSeconds()): SignChanges {
    return applySignedWithChanges(this.s, diff, now);
  }

  /** Re-signs every RRset with a signature that expires within the refresh window. */
  refresh(now: number = nowSeconds()): SignStats {
    return refresh(this.s, now);
  }

  /** refresh() that also returns the signed records it replaced (for an IXFR journal). */
  refreshWithChanges(now: number = nowSeconds()): SignChanges {
    return refreshWithChanges(this.s, now);
  }

  // ---- reading -------------------------------------------------------------------------

  /** Every record of the signed zone: names in canonical order, then the NSEC3 records. */
  records(): Generator<RR> {
    return this.s.sectionRecords(0, this.s.sorted.length + 1);
  }

  /**
   * The records of output sections [from, to): section i < size is the i-th name in canonical
   * order (its RRsets by type, each followed by its RRSIGs, then its NSEC); section `size` is
   * every NSEC3 record. records() is all of them.
   */
  sectionRecords(from: number, to: number): Generator<RR> {
    return this.s.sectionRecords(from, to);
  }

  /** The RRset of `type` at `name` (empty when absent). */
  rrset(name: Fqdn, type: number): RR[] {
    const set = this.s.byName.get(name)?.sets.get(type);
    if (set === undefined) return [];
    return set.rdatas.map((rdata) => ({ name, type, class: set.klass, ttl: set.ttl, rdata }));
  }

  /** The RRSIGs covering `type` at `name` (empty when unsigned). */
  rrsigs(name: Fqdn, type: number): RR[] {
    const n = this.s.byName.get(name);
    if (n !== undefined) return [...(n.sigs.get(type) ?? [])];
    const label = name.slice(0, name.indexOf('.'));
    const x = this.s.n3ByLabel.get(label);
    return x !== undefined && type === RRType.NSEC3 && x.owner === name ? [...x.sigs] : [];
  }

  /** True when `name` has an RRset of `type` (no array made: the answer path asks per label). */
  hasType(name: Fqdn, type: number): boolean {
    return this.s.byName.get(name)?.sets.has(type) === true;
  }

  /** Types with data at `name`, undefined when the name does not exist (ENTs give []). */
  typesAt(name: Fqdn): number[] | undefined {
    const n = this.s.byName.get(name);
    return n === undefined ? undefined : [...n.sets.keys()];
  }

  /** Where `name` stands: authoritative data, a zone cut, below a cut, an ENT, or absent. */
  statusOf(name: Fqdn): Status | undefined {
    return this.s.byName.get(name)?.status;
  }

  /** The NSEC record at `name` itself, when it is in the chain. */
  nsecAt(name: Fqdn): RR | undefined {
    return this.s.byName.get(name)?.nsec;
  }

  /** The NSEC record covering a name that does not exist (its canonical predecessor). */
  nsecCovering(name: Fqdn): RR | undefined {
    return chainPrev(this.s, nameSortKey(name))?.nsec;
  }

  /** NSEC3 record matching (`match`) or covering the hash of `name`. */
  nsec3For(name: Fqdn): { rr: RR; match: boolean } | undefined {
    return nsec3For(this.s, name);
  }

  /** DS RDATA for every SEP key in the published DNSKEY RRset (own and foreign KSKs). */
  dsSet(digestType = 2): Uint8Array[] {
    const apex = this.s.byName.get(this.origin) as Node;
    const dnskeys = apex.sets.get(RRType.DNSKEY)?.rdatas ?? [];
    return dnskeys.filter((dk) => isKsk(decodeDnskey(dk).flags)).map((dk) => dsFromDnskey(this.origin, dk, digestType));
  }

  /** Number of names (including empty non-terminals and names below cuts). */
  get size(): number {
    return this.s.sorted.length;
  }
}
