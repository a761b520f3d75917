// Actor host replicas as child processes (test/actors-child.ts), for the tests and the bench that
// kill them: spawn one, and read which shards it holds from its output.
import { startDaemon, type Daemon } from './daemon.ts';

export interface ReplicaOptions {
  readonly url: string;
  readonly namespace: string;
  readonly shards: number;
  readonly replica: string;
  /** More flags for actors-child.ts (`--ack-wait-ms`, `--max-deliver`, ...). */
  readonly flags?: readonly string[];
  /** MPDNS_LOG_LEVEL of the child. Default info (shard changes are logged). */
  readonly logLevel?: string;
}

/** Starts a replica holding shards through broker/shards.ts leases (`--coordinator`). */
export function spawnReplica(o: ReplicaOptions): Daemon {
  const args = ['--import', 'tsx', 'test/actors-child.ts', '--nats', o.url, '--namespace', o.namespace, '--shards', String(o.shards), '--replica', o.replica, '--coordinator', ...(o.flags ?? [])];
  return startDaemon(o.replica, process.execPath, args, { env: { ...process.env, MPDNS_LOG_LEVEL: o.logLevel ?? 'info' } });
}

/** Shards a replica holds now, from its {"acquired":n} / {"lost":n} lines. */
export function heldShards(d: Daemon): Set<number> {
  const s = new Set<number>();
  for (const line of d.output().split('\n')) {
    const m = /^\{"(acquired|lost)":(\d+)\}$/.exec(line.trim());
    if (m === null) continue;
    if (m[1] === 'acquired') s.add(Number(m[2]));
    else s.delete(Number(m[2]));
  }
  return s;
}

/** True while the process runs. */
export function isAlive(d: Daemon): boolean {
  return d.proc.exitCode === null && d.proc.signalCode === null;
}
