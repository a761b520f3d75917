// mpdns lab: a multi-provider world on loopback in one process (actors/lab/lab.ts), with a
// status table of every provider's view of its peers until Ctrl-C or SIGTERM.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError } from '../actors/config-reader.ts';
import { loadLabConfig } from '../actors/lab/config.ts';
import { DEFAULT_LAB, startLab, type Lab } from '../actors/lab/lab.ts';
import { DEFAULT_INSPECT_URL } from '../actors/inspect.ts';
import { converged, servedAt } from '../actors/lab/converged.ts';
import { rootLogger } from '../actors/logger.ts';
import { parseName } from '../dns/name.ts';
import { parseHostPort } from '../dns/net/transport.ts';
import { flagValue, runCommand } from './args.ts';
import { natsUrlProblem } from './ctl.ts';
import { complain, complainProblems, UsageError } from './errors.ts';

const USAGE = `usage: mpdns lab [--dir DIR] [--config lab.yaml] [--beat SECONDS] [--nats URL [--processes]] [--until-converged] [--inspect[=URL]]

Starts a multi-provider world on loopback: a signed root, TLDs and each provider's identity zone
(discovery records), a validating Unbound (or, without Unbound, an explicit INSECURE mode), the
zone owner's primary (mpdns serve on DIR/owner/), and each provider's gateway and agent. Peers
find each other from DNS and reach OPERATIONAL over the JOSE transport. Prints a table of every
provider's peers as their states change; Ctrl-C stops everything.

  --dir DIR          lab directory (created if missing; default a fresh temporary directory).
                     DIR/lab.json describes the running lab; DIR/owner/*.zone are the owner's
                     zone files: edit one (raise the SOA serial) and SIGHUP owner.pid to publish.
  --config FILE      lab.yaml: zones (name, hsync, servers, signers, nsmgmt, parentsync) and
                     providers (label, identity, nameservers, upstream, signs); default: three
                     providers alpha, bravo, echo serving customer.zone.
  --beat SECONDS     BEAT interval (default 2): DEGRADED after 2 missed, INTERRUPTED after 10
  --until-converged  exit 0 once every listed provider's nameserver serves the same combined NS
                     RRset (the union of the listed providers' nameservers), saying how long it
                     took; exit 1 if that does not happen within 120 s
  --inspect[=URL]    stream every peer machine's events and snapshots to a Stately inspector
                     (default ws://127.0.0.1:8080; nothing listening costs nothing)
  --nats URL         the providers' brokers on this NATS server (JetStream, no authentication),
                     each under its own namespace (its label); default: the embedded broker
  --processes        each role of each provider as its own process (mpdns agent, mpdns gateway
                     with DIR/<label>/provider.yaml), restarted within a second when it exits;
                     logs in DIR/<label>/<role>.log; needs --nats
  --help             this text
`;

const SPEC = {
  name: 'lab',
  usage: USAGE,
  options: {
    dir: { type: 'string' },
    config: { type: 'string' },
    beat: { type: 'string' },
    nats: { type: 'string' },
    inspect: { type: 'string' },
    processes: { type: 'boolean', default: false },
    'until-converged': { type: 'boolean', default: false },
  },
} as const;

export function run(argv: string[]): Promise<number> {
  // A bare --inspect takes the default inspector URL (parseArgs wants a value).
  const args = argv.map((a) => (a === '--inspect' ? `--inspect=${DEFAULT_INSPECT_URL}` : a));
  return runCommand(SPEC, args, async ({ values }) => {
    const beat = values.beat === undefined ? 2 : flagValue('--beat', values.beat, (t) => {
      const n = Number(t);
      if (!/^[0-9]+$/.test(t) || n < 1 || n > 3600) throw new UsageError(`--beat: "${t}" is not a whole number of seconds from 1 to 3600`);
      return n;
    });
    let config = DEFAULT_LAB;
    if (values.config !== undefined) {
      try {
        config = await loadLabConfig(values.config);
      } catch (e) {
        if (e instanceof ConfigError) {
          complainProblems('lab', e.file, e.problems);
          return 2;
        }
        throw e;
      }
    }
    const dir = values.dir !== undefined ? resolve(values.dir) : await mkdtemp(join(tmpdir(), 'mpdns-lab-'));
    if (values.nats !== undefined) {
      const problem = natsUrlProblem(values.nats);
      if (problem !== undefined) throw new UsageError(`--nats "${values.nats}": ${problem} (expected nats://HOST[:PORT])`);
    }
    if (values.processes && values.nats === undefined) throw new UsageError('--processes needs --nats URL: roles in separate processes share their broker through NATS');
    return lab(dir, config, beat, values.nats, values.inspect, values.processes, values['until-converged']);
  });
}

async function lab(dir: string, config: typeof DEFAULT_LAB, beatSeconds: number, nats: string | undefined, inspect: string | undefined, processes: boolean, untilConverged: boolean): Promise<number> {
  // The table is the lab's output; logs only from warnings up unless MPDNS_LOG_LEVEL asks for more.
  const logger = rootLogger().child({ component: 'lab' }, { level: process.env['MPDNS_LOG_LEVEL'] ?? 'warn' });
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  say(`mpdns lab in ${dir}`);
  const startedAt = Date.now();
  let running: Lab;
  try {
    running = await startLab({ dir, config, beatSeconds, logger, progress: say, mpdns: process.argv[1] ?? 'mpdns', processes, ...(nats !== undefined ? { nats } : {}), ...(inspect !== undefined ? { inspect } : {}) });
  } catch (e) {
    complain('lab', e instanceof Error ? e.message : String(e));
    return 1;
  }
  const mode = running.json.resolver.validating ? `validating resolver ${running.json.resolver.address}` : 'INSECURE (no validating resolver)';
  const readyAt = Date.now();
  say(`lab ready: ${join(dir, 'lab.json')}; owner primary ${running.json.owner.address} (pid ${running.json.owner.pid}); ${mode}`);
  let last = '';
  const table = async (): Promise<void> => {
    const rows: string[] = [];
    for (const p of running.json.providers) {
      const peers = await running.peers(p.label);
      const cells = peers === undefined ? 'stopped' : peers.length === 0 ? '(no peers)' : peers.map((v) => `${v.label || v.identity}=${v.state}`).join('  ');
      const served = await servedAt(parseHostPort(p.nameserver), zone);
      rows.push(`  ${p.label.padEnd(8)} serial ${String(served.serial ?? '-').padEnd(10)} NS ${String(served.ns.length).padEnd(3)} ${cells}`);
    }
    const text = rows.join('\n');
    if (text !== last) {
      last = text;
      say(`${new Date().toISOString()}${running.json.resolver.validating ? '' : ' INSECURE'}\n${text}`);
    }
  };
  const zone = parseName(config.zones[0]?.name ?? '.');
  const timer = setInterval(() => void table().catch(() => {}), 500);
  if (untilConverged) {
    const deadline = Date.now() + 120_000;
    while (!(await converged(config, running.json))) {
      if (Date.now() > deadline) {
        clearInterval(timer);
        await table().catch(() => {});
        complain('lab', 'not converged within 120 s: the table above shows where each provider stands');
        await running.stop();
        return 1;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    clearInterval(timer);
    await table().catch(() => {});
    say(`converged: every listed provider's nameserver serves the same NS RRset and every contribution is confirmed by every peer, ${Date.now() - startedAt} ms after the start (${Date.now() - readyAt} ms after the lab was ready)`);
    await running.stop();
    return 0;
  }
  await new Promise<void>((resolveStop) => {
    process.once('SIGINT', () => resolveStop());
    process.once('SIGTERM', () => resolveStop());
  });
  clearInterval(timer);
  say('stopping the lab');
  await running.stop();
  return 0;
}
