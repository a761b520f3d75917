// The zone signer: signs a whole zone (NSEC or NSEC3), keeps the result indexed by owner and
// type, and re-signs incrementally: a ZoneDiff re-signs only the RRsets it touches and repairs
// the denial chain around the names whose existence or type set changed.
//
// Multi-signer model 2 (RFC 8901): the DNSKEY RRset holds this signer's keys plus foreign
// DNSKEYs (published, never used to sign). KSKs (SEP bit) sign DNSKEY, CDS and CDNSKEY; ZSKs
// sign everything else; with only SEP keys (CSK mode) they sign everything.
import { canonicalRdata } from '../canonical.ts';
import { isSubdomain, type Fqdn } from '../name.ts';
import type { RR } from '../rr.ts';
import { RRType, typeToString } from '../types.ts';
import { negativeTtl } from '../zone-lookup.ts';
import { algorithmName } from './algorithms.ts';
import { dsFromDnskey } from './ds.ts';
import { SignError } from './errors.ts';
import type { NonceSource } from './ecdsa.ts';
import { decodeDnskey, ecdsaSignerFor, isKsk, type SigningKey } from './keys.ts';
import { keyTag } from './keytag.ts';
import { nameSortKey, ownerWire, parentOf as parentName } from './namekeys.ts';
import { encodeNsec } from './nsec.ts';
import { base32hex, encodeNsec3, encodeNsec3Param, nsec3Hash, type Nsec3Params } from './nsec3.ts';
import { decodeRrsig } from './rrsig.ts';
import { DEFAULT_POLICY, prepareSign, rrsigRR, runSignJob, signatureTimes, type SignJob, type SigningPolicy } from './sign.ts';

/** What signParallel needs of a worker pool: dns/net/sign-pool.ts `SignPool` (worker_threads). */
export interface BatchSigner {
  readonly size: number;
  /** ECDSA: one-time nonces the workers make (this thread then signs everything itself). */
  readonly nonces?: NonceSource | undefined;
  /** The algorithm the pool was made for (its nonces fit that curve only). */
  readonly algorithm?: number;
  /** Stops the making of nonces once they are no longer needed. */
  stopNonces?(): void;
  backlog(): number;
  signBatch(batch: readonly { key: SigningKey; input: Uint8Array }[]): Promise<Uint8Array[]>;
}

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

/** A ZoneDiff as dns/zone.ts produces it (only the RR lists are used here). */
export interface RRDiff {
  readonly removed: readonly RR[];
  readonly added: readonly RR[];
}

export interface SignStats {
  /** Signatures created (each is one private-key operation). */
  signatures: number;
  /** RRsets (including NSEC/NSEC3 records) that got new signatures. */
  rrsets: number;
}

/** Node status: where the name stands relative to zone cuts. */
type Status = 'auth' | 'cut' | 'occluded' | 'ent';

interface RRset {
  ttl: number;
  klass: number;
  rdatas: Uint8Array[];
}

interface Node {
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

interface Nsec3Node {
  readonly label: string;
  readonly owner: Fqdn;
  readonly hash: Uint8Array;
  readonly node: Node;
  rr?: RR;
  sigs: RR[];
}

type Job = SignJob & { readonly target: RR[] };

const STRIPPED = new Set<number>([RRType.RRSIG, RRType.NSEC, RRType.NSEC3, RRType.NSEC3PARAM]);
const KSK_TYPES = new Set<number>([RRType.DNSKEY, RRType.CDS, RRType.CDNSKEY]);

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function lowerBound<T>(arr: readonly T[], key: string, keyOf: (t: T) => string): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keyOf(arr[mid] as T) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const nodeKey = (n: Node): string => n.key;
const n3Key = (n: Nsec3Node): string => n.label;

export class SignedZone {
  readonly origin: Fqdn;
  readonly denial: Denial;
  readonly policy: SigningPolicy;
  readonly stats: SignStats = { signatures: 0, rrsets: 0 };
  private readonly keys: readonly SigningKey[];
  private readonly ksks: readonly SigningKey[];
  private readonly zsks: readonly SigningKey[];
  private readonly foreign: readonly Uint8Array[];
  private readonly canon: (type: number, rdata: Uint8Array) => Uint8Array;
  private readonly refreshWithin: number;
  private readonly byName = new Map<Fqdn, Node>();
  private sorted: Node[] = [];
  private readonly n3ByLabel = new Map<string, Nsec3Node>();
  private n3Sorted: Nsec3Node[] = [];
  private readonly signerWire: Uint8Array;
  private denialTtl = 3600;
  /** The DNSKEY RRset took the SOA TTL (the unsigned zone had no DNSKEY of its own). */
  private dnskeyTtlFromSoa = false;
  private now = 0;
  private inline = false;
  private sink: ((job: Job) => void) | undefined;
  private progress: ((sections: number) => void) | undefined;

  private constructor(cfg: SignerConfig) {
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
    for (const dk of this.foreign) this.checkForeign(dk, alg);
    this.keys = cfg.keys;
    const ksks = cfg.keys.filter((k) => isKsk(k.flags));
    const zsks = cfg.keys.filter((k) => !isKsk(k.flags));
    this.ksks = ksks.length > 0 ? ksks : zsks;
    this.zsks = zsks.length > 0 ? zsks : ksks;
  }

  private checkForeign(dk: Uint8Array, alg: number): void {
    const f = decodeDnskey(dk);
    if (f.algorithm !== alg) {
      throw new SignError(
        `foreign DNSKEY ${keyTag(dk)} uses algorithm ${algorithmName(f.algorithm)} but this signer uses ${algorithmName(alg)}: ` +
          'every algorithm in the DNSKEY RRset must sign every RRset (RFC 4035 §2.2), so model 2 needs one algorithm',
      );
    }
  }

  /** Signs a zone in this thread. `now` is seconds since the epoch. */
  static sign(records: readonly RR[], cfg: SignerConfig, now: number = Math.floor(Date.now() / 1000)): SignedZone {
    const z = new SignedZone(cfg);
    z.inline = true; // sign each RRset as it is prepared: nothing piles up for the GC
    z.runJobs(z.build(records, now));
    z.inline = false;
    return z;
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
    now: number = Math.floor(Date.now() / 1000),
    opts: { readonly batchSize?: number; readonly ahead?: number; readonly onReady?: (records: Iterable<RR>) => void } = {},
  ): Promise<SignedZone> {
    if (pool.nonces !== undefined) {
      // ECDSA: the workers have been making nonces since the pool started; this thread signs
      // everything with them (and makes its own when they run short).
      for (const k of cfg.keys) {
        if (k.algorithm !== pool.algorithm) {
          throw new SignError(`key ${k.keyTag} uses algorithm ${algorithmName(k.algorithm)}, the sign pool's nonces are for ${algorithmName(pool.algorithm ?? 0)}`);
        }
      }
      const signers = cfg.keys.map((k) => ecdsaSignerFor(k.algorithm, k.privateKey));
      for (const s of signers) s.nonceSource = pool.nonces;
      let z: SignedZone;
      try {
        z = SignedZone.sign(records, cfg, now);
      } finally {
        for (const s of signers) s.nonceSource = undefined;
        pool.stopNonces?.();
      }
      opts.onReady?.(z.records());
      return z;
    }
    const batchSize = opts.batchSize ?? 256;
    const limit = pool.size * batchSize * (opts.ahead ?? 2);
    const z = new SignedZone(cfg);
    interface Batch {
      readonly jobs: Job[];
      /** Output sections [0, through) have every signature in this batch or an earlier one. */
      readonly through: number;
      taken: boolean;
      done?: Promise<void>;
    }
    const batches: Batch[] = [];
    const untaken: Batch[] = []; // newest last
    let open: Job[] = [];
    let complete = 0;
    const post = (): void => {
      while (untaken.length > 0 && pool.backlog() < limit) {
        const b = untaken.pop() as Batch;
        b.taken = true;
        b.done = pool.signBatch(b.jobs).then((sigs) => {
          b.jobs.forEach((j, i) => j.target.push(rrsigRR(j, sigs[i] as Uint8Array)));
          z.stats.signatures += b.jobs.length;
        });
        // A rejection is seen where the batch is awaited; until then it is not unhandled.
        b.done.catch(() => undefined);
      }
    };
    const close = (): void => {
      if (open.length === 0) return;
      const b: Batch = { jobs: open, through: complete, taken: false };
      open = [];
      batches.push(b);
      untaken.push(b);
      post();
    };
    z.sink = (job) => {
      open.push(job);
      if (open.length >= batchSize) close();
    };
    z.progress = (sections) => {
      complete = sections;
    };
    try {
      z.build(records, now);
      close();
    } finally {
      z.sink = undefined;
      z.progress = undefined;
    }
    let written = 0;
    for (const b of batches) {
      post();
      if (!b.taken) {
        b.taken = true;
        untaken.splice(untaken.indexOf(b), 1);
        for (const j of b.jobs) j.target.push(runSignJob(j));
        z.stats.signatures += b.jobs.length;
      } else {
        await b.done;
      }
      if (opts.onReady !== undefined && b.through > written) {
        opts.onReady(z.sectionRecords(written, b.through));
        written = b.through;
      }
    }
    const all = z.sorted.length + 1;
    if (opts.onReady !== undefined && written < all) opts.onReady(z.sectionRecords(written, all));
    return z;
  }

  /** This signer's own keys. */
  get signingKeys(): readonly SigningKey[] {
    return this.keys;
  }

  // ---- building ------------------------------------------------------------------------

  private build(records: readonly RR[], now: number): Job[] {
    this.now = now;
    let soa: RR | undefined;
    for (const rr of records) {
      if (!isSubdomain(rr.name, this.origin)) {
        throw new SignError(`record outside the zone ${this.origin}: ${rr.name} ${typeToString(rr.type)}`);
      }
      if (STRIPPED.has(rr.type)) continue;
      if (rr.type === RRType.SOA) {
        if (rr.name !== this.origin) {
          throw new SignError(`SOA record at ${rr.name} is not at the zone apex ${this.origin}`);
        }
        soa = rr;
      }
      if (rr.type === RRType.DNSKEY && rr.name === this.origin) {
        this.checkForeign(rr.rdata, (this.keys[0] as SigningKey).algorithm);
      }
      this.addRR(rr);
    }
    if (soa === undefined) throw new SignError(`zone ${this.origin} has no SOA record at its apex`);
    this.setDenialTtl(soa);
    this.installApexRecords(soa);
    this.sorted = [...this.byName.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const n of this.sorted) n.status = this.computeStatus(n);
    const jobs: Job[] = [];
    // Jobs come in output order (records()): each name's RRsets, then its NSEC, name by name;
    // the NSEC3 records after every name. `progress` hears how many sections are complete.
    const chain = this.denial.kind === 'nsec' ? this.sorted.filter((n) => this.inChain(n)) : [];
    let c = 0;
    for (let i = 0; i < this.sorted.length; i++) {
      const n = this.sorted[i] as Node;
      for (const type of n.sets.keys()) {
        if (this.isSigned(n, type)) this.prepareSet(n, type, jobs);
      }
      if (chain[c] === n) {
        c++;
        n.nsec = this.nsecFor(n, chain[c % chain.length] as Node);
        const target: RR[] = [];
        n.sigs.set(RRType.NSEC, target);
        this.prepareRecord(n.nsec, this.wireOf(n), target, jobs);
      }
      this.progress?.(i + 1);
    }
    if (this.denial.kind === 'nsec3') this.buildNsec3Chain(jobs);
    this.progress?.(this.sorted.length + 1);
    return jobs;
  }

  private setDenialTtl(soa: RR): void {
    // RFC 9077: the lesser of the SOA TTL and the SOA MINIMUM field (RFC 2308's negative TTL).
    this.denialTtl = negativeTtl(soa.ttl, soa.rdata);
  }

  private installApexRecords(soa: RR): void {
    const apex = this.byName.get(this.origin) as Node;
    const existing = apex.sets.get(RRType.DNSKEY);
    const set: RRset = existing ?? { ttl: soa.ttl, klass: soa.class, rdatas: [] };
    this.dnskeyTtlFromSoa = existing === undefined;
    for (const dk of [...this.keys.map((k) => k.dnskey), ...this.foreign]) {
      if (!set.rdatas.some((r) => bytesEqual(r, dk))) set.rdatas.push(dk);
    }
    apex.sets.set(RRType.DNSKEY, set);
    if (this.denial.kind === 'nsec3') {
      apex.sets.set(RRType.NSEC3PARAM, { ttl: this.denialTtl, klass: soa.class, rdatas: [encodeNsec3Param(this.denial)] });
    }
  }

  private ensureNode(name: Fqdn, created?: Node[]): Node {
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

  private addRR(rr: RR): boolean {
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

  private computeStatus(n: Node): Status {
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

  private isSigned(n: Node, type: number): boolean {
    if (n.status === 'auth') return true;
    return n.status === 'cut' && type === RRType.DS;
  }

  private wireOf(n: Node): Uint8Array {
    n.wire ??= ownerWire(n.name);
    return n.wire;
  }

  private keysFor(type: number, name: Fqdn): readonly SigningKey[] {
    return KSK_TYPES.has(type) && name === this.origin ? this.ksks : this.zsks;
  }

  private prepareSet(n: Node, type: number, jobs: Job[]): void {
    const set = n.sets.get(type) as RRset;
    const target: RR[] = [];
    n.sigs.set(type, target);
    const times = signatureTimes(this.policy, this.now, n.name, type);
    for (const key of this.keysFor(type, n.name)) {
      this.emit(prepareSign(n.name, type, set.klass, set.ttl, set.rdatas, key, times, this.wireOf(n), this.signerWire, target) as Job, jobs);
    }
    this.stats.rrsets++;
  }

  private prepareRecord(rr: RR, wire: Uint8Array, target: RR[], jobs: Job[]): void {
    target.length = 0;
    const times = signatureTimes(this.policy, this.now, rr.name, rr.type);
    for (const key of this.zsks) {
      this.emit(prepareSign(rr.name, rr.type, rr.class, rr.ttl, [rr.rdata], key, times, wire, this.signerWire, target) as Job, jobs);
    }
    this.stats.rrsets++;
  }

  private emit(job: Job, jobs: Job[]): void {
    if (this.sink !== undefined) {
      this.sink(job);
      return;
    }
    if (!this.inline) {
      jobs.push(job);
      return;
    }
    job.target.push(runSignJob(job));
    this.stats.signatures++;
  }

  private runJobs(jobs: readonly Job[]): void {
    for (const j of jobs) j.target.push(runSignJob(j));
    this.stats.signatures += jobs.length;
  }

  // ---- NSEC ----------------------------------------------------------------------------

  private inChain(n: Node): boolean {
    return n.status === 'auth' || n.status === 'cut';
  }

  private nsecTypes(n: Node): number[] {
    if (n.status === 'cut') {
      // The NSEC's own RRSIG lives at the cut, so RRSIG is always listed.
      const t: number[] = [RRType.NS, RRType.RRSIG, RRType.NSEC];
      if (n.sets.has(RRType.DS)) t.push(RRType.DS);
      return t;
    }
    return [...n.sets.keys(), RRType.RRSIG, RRType.NSEC];
  }

  private nsecFor(n: Node, next: Node): RR {
    return { name: n.name, type: RRType.NSEC, class: 1, ttl: this.denialTtl, rdata: encodeNsec(next.name, this.nsecTypes(n)) };
  }

  /** Re-computes the NSEC of `n`; signs it when its RDATA changed. */
  private repairNsec(n: Node, jobs: Job[]): void {
    if (!this.inChain(n)) {
      if (n.nsec !== undefined) {
        delete n.nsec;
        n.sigs.delete(RRType.NSEC);
      }
      return;
    }
    const next = this.chainNext(n);
    const rr = this.nsecFor(n, next);
    if (n.nsec !== undefined && bytesEqual(n.nsec.rdata, rr.rdata) && n.nsec.ttl === rr.ttl) return;
    n.nsec = rr;
    const target: RR[] = [];
    n.sigs.set(RRType.NSEC, target);
    this.prepareRecord(rr, this.wireOf(n), target, jobs);
  }

  private chainNext(n: Node): Node {
    const i = lowerBound(this.sorted, n.key, nodeKey);
    for (let k = 1; k <= this.sorted.length; k++) {
      const c = this.sorted[(i + k) % this.sorted.length] as Node;
      if (this.inChain(c)) return c;
    }
    return n;
  }

  private chainPrev(key: string): Node | undefined {
    const i = lowerBound(this.sorted, key, nodeKey);
    for (let k = 1; k <= this.sorted.length; k++) {
      const c = this.sorted[(i - k + this.sorted.length * 2) % this.sorted.length] as Node;
      if (this.inChain(c) && c.key !== key) return c;
    }
    return undefined;
  }

  // ---- NSEC3 ---------------------------------------------------------------------------

  private inNsec3Chain(n: Node): boolean {
    if (n.status === 'auth' || n.status === 'ent') return true;
    if (n.status !== 'cut') return false;
    return !(this.denial.kind === 'nsec3' && this.denial.optOut && !n.sets.has(RRType.DS));
  }

  private nsec3Params(): Nsec3Params {
    return this.denial.kind === 'nsec3' ? this.denial : { iterations: 0, salt: new Uint8Array(0), optOut: false };
  }

  private nsec3Types(n: Node): number[] {
    if (n.status === 'ent') return [];
    if (n.status === 'cut') return n.sets.has(RRType.DS) ? [RRType.NS, RRType.DS, RRType.RRSIG] : [RRType.NS];
    return [...n.sets.keys(), RRType.RRSIG];
  }

  private makeNsec3Node(n: Node): Nsec3Node {
    const p = this.nsec3Params();
    const hash = nsec3Hash(n.name, p.iterations, p.salt);
    const label = base32hex(hash);
    const owner = `${label}.${this.origin === '.' ? '' : this.origin}` as Fqdn;
    n.hash = label;
    return { label, owner, hash, node: n, sigs: [] };
  }

  private nsec3Record(x: Nsec3Node, next: Nsec3Node): RR {
    const p = this.nsec3Params();
    const rdata = encodeNsec3({
      hashAlgorithm: 1,
      flags: p.optOut ? 1 : 0,
      iterations: p.iterations,
      salt: p.salt,
      nextHashed: next.hash,
      types: this.nsec3Types(x.node),
    });
    return { name: x.owner, type: RRType.NSEC3, class: 1, ttl: this.denialTtl, rdata };
  }

  private buildNsec3Chain(jobs: Job[]): void {
    for (const n of this.sorted) {
      if (!this.inNsec3Chain(n)) continue;
      const x = this.makeNsec3Node(n);
      this.n3ByLabel.set(x.label, x);
    }
    this.n3Sorted = [...this.n3ByLabel.values()].sort((a, b) => (a.label < b.label ? -1 : 1));
    this.n3Sorted.forEach((x, i) => {
      x.rr = this.nsec3Record(x, this.n3Sorted[(i + 1) % this.n3Sorted.length] as Nsec3Node);
      this.prepareRecord(x.rr, ownerWire(x.owner), x.sigs, jobs);
    });
  }

  private repairNsec3(x: Nsec3Node, jobs: Job[]): void {
    const i = lowerBound(this.n3Sorted, x.label, n3Key);
    const next = this.n3Sorted[(i + 1) % this.n3Sorted.length] as Nsec3Node;
    const rr = this.nsec3Record(x, next);
    if (x.rr !== undefined && bytesEqual(x.rr.rdata, rr.rdata) && x.rr.ttl === rr.ttl) return;
    x.rr = rr;
    this.prepareRecord(rr, ownerWire(x.owner), x.sigs, jobs);
  }

  // ---- incremental ---------------------------------------------------------------------

  /**
   * Applies a diff of unsigned records and re-signs what it touches: the changed RRsets, the
   * NSEC/NSEC3 records of names whose existence or type set changed and of their chain
   * predecessors. Returns the work done.
   */
  apply(diff: RRDiff, now: number = Math.floor(Date.now() / 1000)): SignStats {
    this.now = now;
    const before = { ...this.stats };
    const denialTtlBefore = this.denialTtl;
    const soaTtlBefore = this.apexSoaTtl();
    const touched = new Map<Fqdn, Set<number>>();
    const mark = (name: Fqdn, type: number): void => {
      let s = touched.get(name);
      if (s === undefined) touched.set(name, (s = new Set()));
      s.add(type);
    };
    const typesBefore = new Map<Fqdn, string>();
    const snapshot = (name: Fqdn): void => {
      if (typesBefore.has(name)) return;
      const n = this.byName.get(name);
      typesBefore.set(name, n === undefined ? '-' : `${n.status}:${[...n.sets.keys()].sort((a, b) => a - b).join(',')}`);
    };
    for (const rr of [...diff.removed, ...diff.added]) {
      if (!isSubdomain(rr.name, this.origin)) {
        throw new SignError(`record outside the zone ${this.origin}: ${rr.name} ${typeToString(rr.type)}`);
      }
    }
    const newNodes: Node[] = [];
    for (const rr of diff.removed) {
      if (STRIPPED.has(rr.type)) continue;
      const n = this.byName.get(rr.name);
      const set = n?.sets.get(rr.type);
      if (n === undefined || set === undefined) continue;
      if (rr.type === RRType.DNSKEY && rr.name === this.origin && this.keys.some((k) => bytesEqual(k.dnskey, rr.rdata))) {
        continue; // our own keys stay published while we sign with them
      }
      snapshot(n.name);
      const rdata = this.canon(rr.type, rr.rdata);
      const i = set.rdatas.findIndex((r) => bytesEqual(r, rdata));
      if (i < 0) continue;
      set.rdatas.splice(i, 1);
      if (set.rdatas.length === 0) n.sets.delete(rr.type);
      mark(n.name, rr.type);
    }
    for (const rr of diff.added) {
      if (STRIPPED.has(rr.type)) continue;
      if (rr.type === RRType.DNSKEY && rr.name === this.origin) {
        this.checkForeign(rr.rdata, (this.keys[0] as SigningKey).algorithm);
      }
      snapshot(rr.name);
      let p: Fqdn | undefined = rr.name;
      while (p !== undefined && !this.byName.has(p)) {
        snapshot(p);
        p = p === this.origin ? undefined : parentName(p);
      }
      const n = this.ensureNode(rr.name, newNodes);
      const set = n.sets.get(rr.type);
      const ttlChanged = set !== undefined && set.ttl !== rr.ttl;
      if (this.addRR(rr) || ttlChanged) mark(n.name, rr.type);
      if (rr.type === RRType.SOA) this.setDenialTtl(rr);
    }
    if (touched.size === 0) return { signatures: 0, rrsets: 0 };
    for (const n of newNodes) {
      const i = lowerBound(this.sorted, n.key, nodeKey);
      if (this.sorted[i] !== n) this.sorted.splice(i, 0, n);
    }
    // Remove names that have neither data nor descendants (walking up through ENTs).
    const removedNodes: Node[] = [];
    for (const name of touched.keys()) {
      let n = this.byName.get(name);
      while (n !== undefined && n.sets.size === 0 && n.name !== this.origin && !this.hasDescendant(n)) {
        const i = lowerBound(this.sorted, n.key, nodeKey);
        this.sorted.splice(i, 1);
        this.byName.delete(n.name);
        removedNodes.push(n);
        const p = parentName(n.name) as Fqdn;
        snapshot(p);
        n = this.byName.get(p);
      }
    }
    // Status: a changed NS or DNAME can move the whole subtree below it.
    const jobs: Job[] = [];
    const statusChanged: Node[] = [];
    const restatus = (n: Node): void => {
      const s = this.computeStatus(n);
      if (s !== n.status) {
        n.status = s;
        statusChanged.push(n);
      }
    };
    const sortedTouched = [...touched.keys()]
      .map((name) => this.byName.get(name))
      .filter((n): n is Node => n !== undefined)
      .sort((a, b) => (a.key < b.key ? -1 : 1));
    for (const n of [...sortedTouched, ...newNodes].sort((a, b) => (a.key < b.key ? -1 : 1))) {
      restatus(n);
      const types = touched.get(n.name);
      if (types !== undefined && (types.has(RRType.NS) || types.has(RRType.DNAME))) {
        for (let i = lowerBound(this.sorted, n.key, nodeKey) + 1; i < this.sorted.length; i++) {
          const d = this.sorted[i] as Node;
          if (!isSubdomain(d.name, n.name)) break;
          restatus(d);
        }
      }
    }
    // Signatures.
    for (const n of statusChanged) {
      n.sigs.forEach((_v, type) => {
        if (type !== RRType.NSEC) n.sigs.delete(type);
      });
      for (const type of n.sets.keys()) if (this.isSigned(n, type)) this.prepareSet(n, type, jobs);
    }
    for (const [name, types] of touched) {
      const n = this.byName.get(name);
      if (n === undefined || statusChanged.includes(n)) continue;
      for (const type of types) {
        if (n.sets.has(type) && this.isSigned(n, type)) this.prepareSet(n, type, jobs);
        else n.sigs.delete(type);
      }
    }
    // Denial chain around names whose existence, status or type set changed.
    const changed: { key: string; node: Node | undefined; hash: string | undefined }[] = [];
    for (const [name, was] of typesBefore) {
      const n = this.byName.get(name);
      const now2 = n === undefined ? '-' : `${n.status}:${[...n.sets.keys()].sort((a, b) => a - b).join(',')}`;
      if (now2 !== was) changed.push({ key: n?.key ?? nameSortKey(name), node: n, hash: n?.hash });
    }
    for (const n of removedNodes) changed.push({ key: n.key, node: undefined, hash: n.hash });
    for (const n of statusChanged) changed.push({ key: n.key, node: n, hash: n.hash });
    if (this.denial.kind === 'nsec') this.repairNsecChain(changed, jobs);
    else this.repairNsec3Chain(changed, removedNodes, jobs);
    this.retime(denialTtlBefore, soaTtlBefore, jobs);
    this.runJobs(jobs);
    return { signatures: this.stats.signatures - before.signatures, rrsets: this.stats.rrsets - before.rrsets };
  }

  private apexSoaTtl(): number | undefined {
    return this.byName.get(this.origin)?.sets.get(RRType.SOA)?.ttl;
  }

  /**
   * After a new SOA: TTLs derived from it follow, as a fresh signing would have them. The denial
   * TTL (RFC 9077: min(SOA TTL, MINIMUM)) of every NSEC or NSEC3 and of NSEC3PARAM, and the
   * DNSKEY RRset's TTL when it takes the SOA TTL; each is re-signed (RRSIGs carry the TTL).
   */
  private retime(denialTtlBefore: number, soaTtlBefore: number | undefined, jobs: Job[]): void {
    const apex = this.byName.get(this.origin) as Node;
    if (this.denialTtl !== denialTtlBefore) {
      if (this.denial.kind === 'nsec') for (const n of this.sorted) this.repairNsec(n, jobs);
      else {
        for (const x of this.n3Sorted) this.repairNsec3(x, jobs);
        const param = apex.sets.get(RRType.NSEC3PARAM);
        if (param !== undefined) {
          param.ttl = this.denialTtl;
          this.prepareSet(apex, RRType.NSEC3PARAM, jobs);
        }
      }
    }
    const soaTtl = this.apexSoaTtl();
    const dnskey = apex.sets.get(RRType.DNSKEY);
    if (this.dnskeyTtlFromSoa && soaTtl !== undefined && soaTtl !== soaTtlBefore && dnskey !== undefined && dnskey.ttl !== soaTtl) {
      dnskey.ttl = soaTtl;
      this.prepareSet(apex, RRType.DNSKEY, jobs);
    }
  }

  /**
   * True when `diff` brings an SOA that moves the denial TTL, so every NSEC or NSEC3 changes
   * (see retime; a DNSKEY re-timed with the SOA TTL is at the apex, read anyway).
   */
  private retimesDenial(diff: RRDiff): boolean {
    const soa = diff.added.find((r) => r.type === RRType.SOA && r.name === this.origin);
    return soa !== undefined && negativeTtl(soa.ttl, soa.rdata) !== this.denialTtl;
  }

  /**
   * apply() that also returns the signed records it removed and added (SOA and its RRSIGs
   * included), for an IXFR journal. The owners that can change are collected before the
   * change (the names in the diff, their ancestors, the subtree under a changed NS or DNAME,
   * and their chain predecessors), read before and after, and compared.
   */
  applyWithChanges(diff: RRDiff, now: number = Math.floor(Date.now() / 1000)): SignStats & { removed: RR[]; added: RR[] } {
    const names = new Set<Fqdn>([this.origin]);
    for (const rr of [...diff.removed, ...diff.added]) {
      let n: Fqdn | undefined = rr.name;
      while (n !== undefined && isSubdomain(n, this.origin)) {
        names.add(n);
        n = n === this.origin ? undefined : parentName(n);
      }
      const node = this.byName.get(rr.name);
      if (node !== undefined && (rr.type === RRType.NS || rr.type === RRType.DNAME)) {
        for (let i = lowerBound(this.sorted, node.key, nodeKey) + 1; i < this.sorted.length; i++) {
          const d = this.sorted[i] as Node;
          if (!isSubdomain(d.name, node.name)) break;
          names.add(d.name);
        }
      }
    }
    const owners = new Set<Fqdn>(names);
    const labels = new Set<string>();
    if (this.retimesDenial(diff)) {
      // Every denial record changes TTL: read all of them (NSEC at every owner, or every NSEC3).
      if (this.denial.kind === 'nsec') for (const n of this.sorted) owners.add(n.name);
      else for (const x of this.n3Sorted) labels.add(x.label);
    } else if (this.denial.kind === 'nsec') {
      for (const n of names) {
        const prev = this.chainPrev(nameSortKey(n));
        if (prev !== undefined) owners.add(prev.name);
      }
    } else {
      const p = this.nsec3Params();
      for (const n of names) {
        const label = base32hex(nsec3Hash(n, p.iterations, p.salt));
        labels.add(label);
        if (this.n3Sorted.length > 0) {
          const i = lowerBound(this.n3Sorted, label, n3Key);
          labels.add((this.n3Sorted[(i - 1 + this.n3Sorted.length) % this.n3Sorted.length] as Nsec3Node).label);
        }
      }
    }
    return this.withChanges(owners, labels, () => this.apply(diff, now));
  }

  /** Runs a change and reports the signed records it removed and added at these owners. */
  private withChanges(owners: Iterable<Fqdn>, labels: Iterable<string>, change: () => SignStats): SignStats & { removed: RR[]; added: RR[] } {
    const ownerList = [...owners];
    const labelList = [...labels];
    const before = this.snapshot(ownerList, labelList);
    const stats = change();
    const after = this.snapshot(ownerList, labelList);
    const removed: RR[] = [];
    const added: RR[] = [];
    for (const [k, rr] of before) if (!after.has(k)) removed.push(rr);
    for (const [k, rr] of after) if (!before.has(k)) added.push(rr);
    return { ...stats, removed, added };
  }

  private snapshot(owners: Iterable<Fqdn>, labels: Iterable<string>): Map<string, RR> {
    const out = new Map<string, RR>();
    const put = (rr: RR): void => {
      out.set(`${rr.name}|${rr.type}|${rr.ttl}|${Buffer.from(rr.rdata.buffer, rr.rdata.byteOffset, rr.rdata.byteLength).toString('hex')}`, rr);
    };
    for (const name of owners) {
      const n = this.byName.get(name);
      if (n === undefined) continue;
      for (const [type, set] of n.sets) {
        for (const rdata of set.rdatas) put({ name, type, class: set.klass, ttl: set.ttl, rdata });
      }
      for (const sigs of n.sigs.values()) sigs.forEach(put);
      if (n.nsec !== undefined) put(n.nsec);
    }
    for (const label of labels) {
      const x = this.n3ByLabel.get(label);
      if (x === undefined) continue;
      if (x.rr !== undefined) put(x.rr);
      x.sigs.forEach(put);
    }
    return out;
  }

  private hasDescendant(n: Node): boolean {
    const i = lowerBound(this.sorted, n.key, nodeKey);
    const next = this.sorted[this.sorted[i] === n ? i + 1 : i];
    return next !== undefined && next.name !== n.name && isSubdomain(next.name, n.name);
  }

  private repairNsecChain(changed: readonly { key: string; node: Node | undefined }[], jobs: Job[]): void {
    const redo = new Set<Node>();
    for (const c of changed) {
      if (c.node !== undefined && this.byName.get(c.node.name) === c.node) redo.add(c.node);
      const prev = this.chainPrev(c.key);
      if (prev !== undefined) redo.add(prev);
    }
    for (const n of redo) this.repairNsec(n, jobs);
  }

  private repairNsec3Chain(
    changed: readonly { key: string; node: Node | undefined }[],
    removedNodes: readonly Node[],
    jobs: Job[],
  ): void {
    const redo = new Set<Nsec3Node>();
    const prevOf = (label: string): Nsec3Node | undefined => {
      if (this.n3Sorted.length === 0) return undefined;
      const i = lowerBound(this.n3Sorted, label, n3Key);
      return this.n3Sorted[(i - 1 + this.n3Sorted.length) % this.n3Sorted.length];
    };
    const drop = (label: string): void => {
      const x = this.n3ByLabel.get(label);
      if (x === undefined) return;
      this.n3ByLabel.delete(label);
      const i = lowerBound(this.n3Sorted, label, n3Key);
      this.n3Sorted.splice(i, 1);
      redo.delete(x);
      const p = prevOf(label);
      if (p !== undefined) redo.add(p);
    };
    for (const n of removedNodes) if (n.hash !== undefined) drop(n.hash);
    for (const c of changed) {
      const n = c.node;
      if (n === undefined || this.byName.get(n.name) !== n) continue;
      const want = this.inNsec3Chain(n);
      if (!want) {
        if (n.hash !== undefined) drop(n.hash);
        delete n.hash;
        continue;
      }
      let x = n.hash !== undefined ? this.n3ByLabel.get(n.hash) : undefined;
      if (x === undefined) {
        x = this.makeNsec3Node(n);
        this.n3ByLabel.set(x.label, x);
        const i = lowerBound(this.n3Sorted, x.label, n3Key);
        this.n3Sorted.splice(i, 0, x);
        const p = prevOf(x.label);
        if (p !== undefined) redo.add(p);
      }
      redo.add(x);
    }
    for (const x of redo) this.repairNsec3(x, jobs);
  }

  /** Re-signs every RRset with a signature that expires within the refresh window. */
  refresh(now: number = Math.floor(Date.now() / 1000)): SignStats {
    this.now = now;
    const before = { ...this.stats };
    const jobs: Job[] = [];
    const due = (sigs: readonly RR[]): boolean => this.isDue(sigs, now);
    for (const n of this.sorted) {
      for (const [type, sigs] of n.sigs) {
        if (!due(sigs)) continue;
        if (type === RRType.NSEC) {
          if (n.nsec !== undefined) this.prepareRecord(n.nsec, this.wireOf(n), sigs, jobs);
        } else if (n.sets.has(type)) this.prepareSet(n, type, jobs);
      }
    }
    for (const x of this.n3Sorted) {
      if (x.rr !== undefined && due(x.sigs)) this.prepareRecord(x.rr, ownerWire(x.owner), x.sigs, jobs);
    }
    this.runJobs(jobs);
    return { signatures: this.stats.signatures - before.signatures, rrsets: this.stats.rrsets - before.rrsets };
  }

  private isDue(sigs: readonly RR[], now: number): boolean {
    return sigs.some((s) => ((decodeRrsig(s.rdata).expiration - now) | 0) < this.refreshWithin);
  }

  /** refresh() that also returns the signed records it replaced (for an IXFR journal). */
  refreshWithChanges(now: number = Math.floor(Date.now() / 1000)): SignStats & { removed: RR[]; added: RR[] } {
    const owners = new Set<Fqdn>();
    const labels = new Set<string>();
    for (const n of this.sorted) {
      for (const sigs of n.sigs.values()) if (this.isDue(sigs, now)) owners.add(n.name);
    }
    for (const x of this.n3Sorted) if (this.isDue(x.sigs, now)) labels.add(x.label);
    return this.withChanges(owners, labels, () => this.refresh(now));
  }

  // ---- reading -------------------------------------------------------------------------

  /** Every record of the signed zone: names in canonical order, then the NSEC3 records. */
  records(): Generator<RR> {
    return this.sectionRecords(0, this.sorted.length + 1);
  }

  /**
   * The records of output sections [from, to): section i < size is the i-th name in canonical
   * order (its RRsets by type, each followed by its RRSIGs, then its NSEC); section `size` is
   * every NSEC3 record. records() is all of them.
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

  /** The RRset of `type` at `name` (empty when absent). */
  rrset(name: Fqdn, type: number): RR[] {
    const set = this.byName.get(name)?.sets.get(type);
    if (set === undefined) return [];
    return set.rdatas.map((rdata) => ({ name, type, class: set.klass, ttl: set.ttl, rdata }));
  }

  /** The RRSIGs covering `type` at `name` (empty when unsigned). */
  rrsigs(name: Fqdn, type: number): RR[] {
    const n = this.byName.get(name);
    if (n !== undefined) return [...(n.sigs.get(type) ?? [])];
    const label = name.slice(0, name.indexOf('.'));
    const x = this.n3ByLabel.get(label);
    return x !== undefined && type === RRType.NSEC3 && x.owner === name ? [...x.sigs] : [];
  }

  /** True when `name` has an RRset of `type` (no array made: the answer path asks per label). */
  hasType(name: Fqdn, type: number): boolean {
    return this.byName.get(name)?.sets.has(type) === true;
  }

  /** Types with data at `name`, undefined when the name does not exist (ENTs give []). */
  typesAt(name: Fqdn): number[] | undefined {
    const n = this.byName.get(name);
    return n === undefined ? undefined : [...n.sets.keys()];
  }

  /** Where `name` stands: authoritative data, a zone cut, below a cut, an ENT, or absent. */
  statusOf(name: Fqdn): Status | undefined {
    return this.byName.get(name)?.status;
  }

  /** The NSEC record at `name` itself, when it is in the chain. */
  nsecAt(name: Fqdn): RR | undefined {
    return this.byName.get(name)?.nsec;
  }

  /** The NSEC record covering a name that does not exist (its canonical predecessor). */
  nsecCovering(name: Fqdn): RR | undefined {
    return this.chainPrev(nameSortKey(name))?.nsec;
  }

  /** NSEC3 record matching (`match`) or covering the hash of `name`. */
  nsec3For(name: Fqdn): { rr: RR; match: boolean } | undefined {
    if (this.n3Sorted.length === 0) return undefined;
    const p = this.nsec3Params();
    const label = base32hex(nsec3Hash(name, p.iterations, p.salt));
    const exact = this.n3ByLabel.get(label);
    if (exact?.rr !== undefined) return { rr: exact.rr, match: true };
    const i = lowerBound(this.n3Sorted, label, n3Key);
    const prev = this.n3Sorted[(i - 1 + this.n3Sorted.length) % this.n3Sorted.length] as Nsec3Node;
    return prev.rr === undefined ? undefined : { rr: prev.rr, match: false };
  }

  /** DS RDATA for every SEP key in the published DNSKEY RRset (own and foreign KSKs). */
  dsSet(digestType = 2): Uint8Array[] {
    const apex = this.byName.get(this.origin) as Node;
    const dnskeys = apex.sets.get(RRType.DNSKEY)?.rdatas ?? [];
    return dnskeys.filter((dk) => isKsk(decodeDnskey(dk).flags)).map((dk) => dsFromDnskey(this.origin, dk, digestType));
  }

  /** Number of names (including empty non-terminals and names below cuts). */
  get size(): number {
    return this.sorted.length;
  }
}
