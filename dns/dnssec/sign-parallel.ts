// Full signing with a worker pool (dns/net/sign-pool.ts) and this thread together, handing out
// the signed zone's records in output order as they are done (`onReady`).
import type { RR } from '../rr.ts';
import { algorithmName } from './algorithms.ts';
import type { NonceSource } from './ecdsa.ts';
import { SignError } from './errors.ts';
import { ecdsaSignerFor, type SigningKey } from './keys.ts';
import { rrsigRR, runSignJob } from './sign.ts';
import { SignIndex, type SignerConfig } from './signed-index.ts';
import { buildSigned, signZone } from './sign-zone.ts';
import type { Job } from './zone-sign.ts';

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

export interface ParallelOptions {
  readonly batchSize?: number;
  readonly ahead?: number;
  readonly onReady?: (records: Iterable<RR>) => void;
}

/**
 * Signs a zone with a worker pool and this thread (SignedZone.signParallel documents the two
 * modes: ECDSA workers make nonces; Ed25519 workers sign batches while this thread signs from
 * the front).
 */
export async function signIndexParallel(
  records: readonly RR[],
  cfg: SignerConfig,
  pool: BatchSigner,
  now: number,
  opts: ParallelOptions,
): Promise<SignIndex> {
  if (pool.nonces !== undefined) return signWithNonces(records, cfg, pool, now, opts);
  const batchSize = opts.batchSize ?? 256;
  const limit = pool.size * batchSize * (opts.ahead ?? 2);
  const s = new SignIndex(cfg);
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
        s.stats.signatures += b.jobs.length;
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
  const sink = (job: Job): void => {
    open.push(job);
    if (open.length >= batchSize) close();
  };
  buildSigned(s, records, now, sink, (sections) => {
    complete = sections;
  });
  close();
  let written = 0;
  for (const b of batches) {
    post();
    if (!b.taken) {
      b.taken = true;
      untaken.splice(untaken.indexOf(b), 1);
      for (const j of b.jobs) j.target.push(runSignJob(j));
      s.stats.signatures += b.jobs.length;
    } else {
      await b.done;
    }
    if (opts.onReady !== undefined && b.through > written) {
      opts.onReady(s.sectionRecords(written, b.through));
      written = b.through;
    }
  }
  const all = s.sorted.length + 1;
  if (opts.onReady !== undefined && written < all) opts.onReady(s.sectionRecords(written, all));
  return s;
}

/**
 * ECDSA: the workers have been making nonces since the pool started; this thread signs
 * everything with them (and makes its own when they run short), then hands out all records.
 */
function signWithNonces(records: readonly RR[], cfg: SignerConfig, pool: BatchSigner, now: number, opts: ParallelOptions): SignIndex {
  for (const k of cfg.keys) {
    if (k.algorithm !== pool.algorithm) {
      throw new SignError(`key ${k.keyTag} uses algorithm ${algorithmName(k.algorithm)}, the sign pool's nonces are for ${algorithmName(pool.algorithm ?? 0)}`);
    }
  }
  const signers = cfg.keys.map((k) => ecdsaSignerFor(k.algorithm, k.privateKey));
  for (const e of signers) e.nonceSource = pool.nonces;
  let s: SignIndex;
  try {
    s = signZone(records, cfg, now);
  } finally {
    for (const e of signers) e.nonceSource = undefined;
    pool.stopNonces?.();
  }
  opts.onReady?.(s.sectionRecords(0, s.sorted.length + 1));
  return s;
}
