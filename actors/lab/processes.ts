// `mpdns lab --processes`: each role of each provider as its own OS process, started with the
// production command (`mpdns agent --config FILE --nats URL`, `mpdns gateway ...`) and kept
// running: a role that exits for any reason is started again 200 ms later, and the lab rewrites
// lab.json with its new pid. Output goes to DIR/<label>/<role>.log. Children carry
// MPDNS_EXIT_WITH_PARENT=1, so they end with the lab even when it is SIGKILLed.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseName } from '../../dns/name.ts';
import { query } from '../../dns/net/client.ts';
import type { Peer } from '../../dns/net/transport.ts';
import { RRType } from '../../dns/types.ts';
import type { PeerView } from '../agent/agent.ts';
import type { ProviderConfig } from '../config.ts';

/** Delay before a role that exited is started again. */
export const RESTART_DELAY_MS = 200;

export interface RoleProcessOptions {
  /** For messages: `alpha agent`. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly logFile: string;
  /** Resolves true once the role answers (its control or metrics endpoint). */
  readonly ready: () => Promise<boolean>;
  /** Called with the pid of every start and restart. */
  readonly started: (pid: number) => void;
}

/** The last line a role wrote (its error, when it exits while starting). */
function lastLine(file: string): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').at(-1)?.slice(0, 400) ?? '';
  } catch {
    return '';
  }
}

export class RoleProcess {
  readonly #o: RoleProcessOptions;
  #child: ChildProcess | undefined;
  #stopping = false;
  #restartTimer: NodeJS.Timeout | undefined;
  /** Times the role was started again after it exited. */
  restarts = 0;

  constructor(opts: RoleProcessOptions) {
    this.#o = opts;
  }

  get pid(): number {
    return this.#child?.pid ?? 0;
  }

  /** Starts the role and resolves once it is ready; rejects if it exits first or takes 30 s. */
  async start(): Promise<void> {
    this.#stopping = false;
    const child = this.#spawn();
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${this.#o.name} exited (${child.exitCode ?? child.signalCode}) while starting: ${lastLine(this.#o.logFile)} (${this.#o.logFile})`);
      }
      if (await this.#o.ready().catch(() => false)) return;
      if (Date.now() > deadline) throw new Error(`${this.#o.name} was not ready within 30 s; see ${this.#o.logFile}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  #spawn(): ChildProcess {
    const out = openSync(this.#o.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(this.#o.command, [...this.#o.args], { stdio: ['ignore', out, out], env: { ...this.#o.env, MPDNS_EXIT_WITH_PARENT: '1' } });
    } finally {
      closeSync(out);
    }
    this.#child = child;
    child.once('exit', () => {
      if (this.#stopping || this.#child !== child) return;
      this.#restartTimer = setTimeout(() => {
        if (this.#stopping) return;
        this.restarts++;
        this.#spawn();
      }, RESTART_DELAY_MS);
    });
    if (child.pid !== undefined) this.#o.started(child.pid);
    return child;
  }

  /** Stops the role for good (SIGTERM, SIGKILL after 5 s) and resolves once it has exited. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(killer);
  }
}

/** One provider of the lab, whichever way its roles run. */
export interface ProviderRunner {
  start(): Promise<void>;
  /** Stops its roles (their broker state is kept). */
  stop(): Promise<void>;
  /** Its agent's view of its peers; undefined while the agent is not running or not answering. */
  peers(): Promise<PeerView[] | undefined>;
  pids(): { agent: number; gateway: number; combiner?: number };
}

export interface ProcessRunnerOptions {
  readonly label: string;
  readonly mpdns: string;
  /** The provider's configuration file (written by the lab). */
  readonly configFile: string;
  readonly config: ProviderConfig;
  /** Environment of both roles: MPDNS_NATS_URL and, per role, credentials. */
  readonly env: (role: 'agent' | 'gateway' | 'combiner') => NodeJS.ProcessEnv;
  readonly logDir: string;
  /** The agent's `--inspect` URL. */
  readonly inspect?: string;
  /** Called when a role started again (lab.json is rewritten). */
  readonly restarted: () => void;
}

/** A DNS listener answers (any RCODE: the zone may not be loaded yet). */
const answers = async (at: Peer): Promise<boolean> =>
  query(at, parseName('.'), RRType.SOA, { timeoutMs: 500, attempts: 1 }).then(
    () => true,
    () => false,
  );

const httpOk = async (url: string): Promise<boolean> => (await fetch(url, { signal: AbortSignal.timeout(2000) })).ok;

/** A provider whose agent and gateway are separate processes, restarted when they exit. */
export function processRunner(o: ProcessRunnerOptions): ProviderRunner {
  const control = `http://${o.config.control.address}:${o.config.control.port}`;
  const metrics = o.config.gatewayMetrics === undefined ? undefined : `http://${o.config.gatewayMetrics.address}:${o.config.gatewayMetrics.port}/metrics`;
  let starting = true;
  const role = (name: 'agent' | 'gateway' | 'combiner', ready: () => Promise<boolean>): RoleProcess =>
    new RoleProcess({
      name: `${o.label} ${name}`,
      command: o.mpdns,
      args: [name, '--config', o.configFile, ...(name === 'agent' && o.inspect !== undefined ? [`--inspect=${o.inspect}`] : [])],
      env: o.env(name),
      logFile: join(o.logDir, `${name}.log`),
      ready,
      started: () => {
        if (!starting) o.restarted();
      },
    });
  const gateway = role('gateway', () => (metrics === undefined ? Promise.resolve(true) : httpOk(metrics)));
  const agent = role('agent', () => httpOk(`${control}/peers`));
  const combinerAt = o.config.combiner;
  const combiner = combinerAt === undefined ? undefined : role('combiner', () => answers(combinerAt));
  return {
    start: async () => {
      starting = true;
      try {
        await Promise.all([gateway.start(), agent.start(), combiner?.start()]);
      } finally {
        starting = false;
      }
    },
    stop: async () => {
      await Promise.all([agent.stop(), gateway.stop(), combiner?.stop()]);
    },
    peers: async () => {
      try {
        const r = await fetch(`${control}/peers`, { signal: AbortSignal.timeout(2000) });
        return r.ok ? ((await r.json()) as PeerView[]) : undefined;
      } catch {
        return undefined;
      }
    },
    pids: () => ({ agent: agent.pid, gateway: gateway.pid, ...(combiner !== undefined ? { combiner: combiner.pid } : {}) }),
  };
}

export interface NameserverOptions {
  readonly label: string;
  readonly mpdns: string;
  readonly zones: readonly string[];
  /** The provider's combiner: the primary the nameserver transfers from. */
  readonly combiner: Peer;
  readonly listen: Peer;
  readonly logDir: string;
  readonly restarted: () => void;
}

/**
 * A provider's nameserver: `mpdns serve --secondary ZONE@COMBINER` for every zone, its own
 * process, so a combiner that dies never stops the provider answering. Lab nameservers allow
 * AXFR from loopback (for kdig and the tests).
 */
export function nameserverProcess(o: NameserverOptions): RoleProcess {
  const args = ['serve', '--listen', `${o.listen.address}:${o.listen.port}`, '--allow-transfer', '127.0.0.0/8'];
  for (const z of o.zones) args.push('--secondary', `${z}@${o.combiner.address}:${o.combiner.port}`);
  let first = true;
  return new RoleProcess({
    name: `${o.label} nameserver`,
    command: o.mpdns,
    args,
    env: process.env,
    logFile: join(o.logDir, 'nameserver.log'),
    ready: () => answers(o.listen),
    started: () => {
      if (!first) o.restarted();
      first = false;
    },
  });
}
