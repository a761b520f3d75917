// Start our own nats-server (JetStream) on a free port with a temp store dir; kill and restart it
// on the same store. Never the system server on 4222. Model: nats.js nst/src/launcher.ts.
import { connect as tcpConnect } from 'node:net';
import { pollUntil } from './poll.ts';
import { freePort } from './ports.ts';
import { startDaemon, type Daemon } from './daemon.ts';
import { tmpDir, type TmpDir } from './tmp.ts';

export const NATS_SERVER = '/usr/sbin/nats-server';

export interface NatsServer {
  readonly port: number;
  readonly url: string;
  readonly storeDir: string;
  /** The running process (replaced by restart). */
  daemon(): Daemon;
  /** SIGKILL (default) or another signal; resolves when the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts again on the same port and store dir; resolves when it accepts connections. */
  restart(): Promise<void>;
  /** Stops the server and removes the temp store dir (if the launcher created it). */
  stop(): Promise<void>;
}

export interface NatsServerOptions {
  /** Config file passed with -c (flags below still override port and store dir). */
  configFile?: string;
  env?: NodeJS.ProcessEnv;
  /** Reuse this store dir instead of a fresh temp dir (not removed on stop). */
  storeDir?: string;
  timeoutMs?: number;
  /** False: a plain server without JetStream (no -js, no store dir). Default true. */
  jetstream?: boolean;
}

/** Resolves with the server's INFO line once a TCP client gets one. */
function probeInfo(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = tcpConnect({ host: '127.0.0.1', port });
    let buf = '';
    const done = (v: string | undefined): void => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(1000, () => done(undefined));
    s.on('error', () => done(undefined));
    s.on('data', (b: Buffer) => {
      buf += b.toString();
      if (buf.includes('\r\n')) done(buf.startsWith('INFO ') ? buf : undefined);
    });
  });
}

export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServer> {
  const port = await freePort();
  let tmp: TmpDir | undefined;
  let storeDir = opts.storeDir;
  if (storeDir === undefined) {
    tmp = await tmpDir('mpdns-nats-');
    storeDir = tmp.path;
  }
  const sd = storeDir;
  // With a config file (deploy/nats), the store dir goes in through $MPDNS_NATS_STORE_DIR: the
  // server refuses `-sd` when the file sets store_dir too.
  const args =
    opts.configFile !== undefined
      ? ['-c', opts.configFile, '-a', '127.0.0.1', '-p', String(port)]
      : opts.jetstream === false
        ? ['-a', '127.0.0.1', '-p', String(port)]
        : ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', sd];
  const env = opts.configFile !== undefined ? { ...(opts.env ?? process.env), MPDNS_NATS_STORE_DIR: sd } : opts.env;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  let d: Daemon;
  const launch = async (): Promise<void> => {
    d = startDaemon('nats-server', NATS_SERVER, args, env !== undefined ? { env } : {});
    await pollUntil(
      `nats-server on port ${port}`,
      async () => {
        if (d.proc.exitCode !== null) throw new Error(`nats-server exited: ${d.output()}`);
        const info = await probeInfo(port);
        return info !== undefined && (opts.jetstream === false || info.includes('"jetstream":true'));
      },
      { timeoutMs, intervalMs: 50 },
    ).catch(async (err: unknown) => {
      await d.kill();
      throw new Error(`nats-server did not start: ${d.output()}`, { cause: err });
    });
  };
  await launch();
  return {
    port,
    url: `nats://127.0.0.1:${port}`,
    storeDir: sd,
    daemon: () => d,
    kill: (signal: NodeJS.Signals = 'SIGKILL') => d.kill(signal),
    restart: async () => {
      await d.kill();
      await launch();
    },
    stop: async () => {
      await d.stop(2000);
      await tmp?.remove();
    },
  };
}
