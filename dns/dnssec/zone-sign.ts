// Signing RRsets of the index: each RRset (or single NSEC/NSEC3 record) becomes one sign job
// per key that signs it, handed to a JobSink. The sink decides when the private-key work runs:
// at once in this thread (signNow), after a stage (collected, then runJobs), or in batches
// on a worker pool (sign-parallel.ts).
import type { RR } from '../rr.ts';
import { prepareSign, runSignJob, signatureTimes, type SignJob } from './sign.ts';
import type { Node, RRset, SignIndex } from './signed-index.ts';

/** A prepared signature and the RRSIG list its result goes to. */
export type Job = SignJob & { readonly target: RR[] };

export type JobSink = (job: Job) => void;

/** A sink that signs each job as it comes (nothing piles up for the GC). */
export function signNow(s: SignIndex): JobSink {
  return (job) => {
    job.target.push(runSignJob(job));
    s.stats.signatures++;
  };
}

/** Signs collected jobs in this thread. */
export function runJobs(s: SignIndex, jobs: readonly Job[]): void {
  for (const j of jobs) j.target.push(runSignJob(j));
  s.stats.signatures += jobs.length;
}

/** Prepares the signatures of the RRset of `type` at `n` (replacing its RRSIGs). */
export function prepareSet(s: SignIndex, n: Node, type: number, sink: JobSink): void {
  const set = n.sets.get(type) as RRset;
  const target: RR[] = [];
  n.sigs.set(type, target);
  const times = signatureTimes(s.policy, s.now, n.name, type);
  for (const key of s.keysFor(type, n.name)) {
    sink(prepareSign(n.name, type, set.klass, set.ttl, set.rdatas, key, times, s.wireOf(n), s.signerWire, target) as Job);
  }
  s.stats.rrsets++;
}

/** Prepares the ZSK signatures of one record (an NSEC or NSEC3) into `target`, emptied first. */
export function prepareRecord(s: SignIndex, rr: RR, wire: Uint8Array, target: RR[], sink: JobSink): void {
  target.length = 0;
  const times = signatureTimes(s.policy, s.now, rr.name, rr.type);
  for (const key of s.zsks) {
    sink(prepareSign(rr.name, rr.type, rr.class, rr.ttl, [rr.rdata], key, times, wire, s.signerWire, target) as Job);
  }
  s.stats.rrsets++;
}
