// `mpdns lab`, first version: a multi-provider world on loopback in one process. It writes and
// serves a signed root, a parent for every TLD and each provider's identity zone with its
// discovery records (URI, SVCB, A, JWK), starts a validating Unbound over them (or, without
// Unbound, says "insecure" and lets discovery read the zones directly), starts the zone owner's
// primary (`mpdns serve` on DIR/owner/, a child process: edit a zone file and SIGHUP it), and
// for each provider its gateway and agent on the embedded broker. DIR/lab.json is the contract
// for scripts, written atomically once everything listens.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { createEmbeddedBroker, EmbeddedHub } from '../../broker/embedded.ts';
import { createJetStreamBroker } from '../../broker/jetstream.ts';
import type { Broker } from '../../broker/types.ts';
import { writeFileAtomic } from '../../dns/files/atomic.ts';
import { parentName, parseName } from '../../dns/name.ts';
import { DnsServer } from '../../dns/net/server.ts';
import type { Peer } from '../../dns/net/transport.ts';
import { identityRecords } from '../../protocol/discovery.ts';
import { ownKeys } from '../../protocol/envelope.ts';
import type { PeerView } from '../agent/agent.ts';
import { providerConfigText, type ProviderConfig } from '../config.ts';
import { createHostInspector } from '../inspect.ts';
import type { Logger } from '../logger.ts';
import { Metrics } from '../metrics.ts';
import { waitForAnswer } from './answering.ts';
import { freePort } from './ports.ts';
import { nameserverProcess, processRunner, type ProviderRunner, type RoleProcess } from './processes.ts';
import { inProcessRunner } from './provider.ts';
import { startUnbound, type Resolver } from './unbound.ts';
import { startSignedWorld, type SignedWorld } from './world.ts';

export interface LabZone {
  readonly name: string;
  readonly hsync: readonly string[];
  readonly servers: readonly string[];
  readonly signers: readonly string[];
  readonly nsmgmt: 'owner' | 'agent';
  readonly parentsync: 'owner' | 'agent';
}

export interface LabProvider {
  readonly label: string;
  readonly identity: string;
  readonly nameservers: readonly string[];
  /** `owner` or another provider's label. */
  readonly upstream: string;
  readonly signs: boolean;
}

export interface LabConfig {
  readonly zones: readonly LabZone[];
  readonly providers: readonly LabProvider[];
}

/** The issue's three-provider example. */
export const DEFAULT_LAB: LabConfig = {
  zones: [{ name: 'customer.zone.', hsync: ['alpha', 'bravo', 'echo'], servers: ['alpha', 'bravo', 'echo'], signers: [], nsmgmt: 'agent', parentsync: 'owner' }],
  providers: [
    { label: 'alpha', identity: 'agent.alpha.example.', nameservers: ['ns1.alpha.example.'], upstream: 'owner', signs: false },
    { label: 'bravo', identity: 'agent.bravo.example.', nameservers: ['ns1.bravo.example.'], upstream: 'owner', signs: false },
    { label: 'echo', identity: 'agent.echo.example.', nameservers: ['ns.echo.example.'], upstream: 'alpha', signs: false },
  ],
};

export interface LabNats {
  readonly url: string;
  readonly namespace: string;
  readonly credentials?: Partial<Record<'agent' | 'gateway' | 'combiner', { user: string; pass: string }>>;
}

export interface LabJson {
  /** `embedded`, or the NATS URL the providers' brokers use. */
  readonly broker: string;
  /** Whether every role runs as its own process (pids are then those processes'). */
  readonly processes: boolean;
  readonly resolver: { address: string; validating: boolean; trustAnchor: string | null };
  readonly owner: { address: string; pid: number; zones: Record<string, string> };
  readonly providers: {
    label: string;
    identity: string;
    signs: boolean;
    gateway: string;
    control: string;
    metrics: string;
    /** The gateway's own /metrics when it runs as its own process. */
    gatewayMetrics?: string;
    /** Where every nameserver name of this provider is served (its nameserver process). */
    nameserver: string;
    pids: { agent: number; gateway: number; combiner: number; nameserver: number };
  }[];
}

export interface Lab {
  readonly dir: string;
  readonly json: LabJson;
  /** A provider's agent's view of its peers (undefined while it is stopped or not answering). */
  peers(label: string): Promise<PeerView[] | undefined>;
  /** Stops a provider's roles (gateway, agent, listeners); its broker state is kept. */
  stopProvider(label: string): Promise<void>;
  startProvider(label: string): Promise<void>;
  stop(): Promise<void>;
}

export interface LabOptions {
  readonly dir: string;
  readonly config?: LabConfig;
  readonly beatSeconds?: number;
  readonly logger: Logger;
  /** Progress lines while it starts. */
  readonly progress?: (line: string) => void;
  /** The mpdns command for the owner's primary. Default: bin/mpdns of this checkout. */
  readonly mpdns?: string;
  /** Stream every peer machine's events and snapshots to a Stately inspector at this URL. */
  readonly inspect?: string;
  /** NATS server with JetStream: every provider's broker there, each under its own namespace. Default: the embedded broker. */
  readonly nats?: string;
  /**
   * Each provider's own NATS server, namespace and per-role credentials (a server configured
   * like deploy/nats per provider); takes precedence over `nats`.
   */
  readonly natsFor?: (label: string) => LabNats | undefined;
  /** Each role of each provider as its own process (`mpdns agent`, `mpdns gateway`), restarted when it exits; needs NATS. */
  readonly processes?: boolean;
}

const addr = (p: Peer): string => `${p.address}:${p.port}`;

/** One line per record: `<owner> <ttl> IN <TYPE> <rdata>`, the contract for owner zone files. */
export function ownerZoneText(zone: LabZone, providers: readonly LabProvider[], serial = 1): string {
  const name = parseName(zone.name);
  const listed = providers.filter((p) => zone.hsync.includes(p.label));
  const lines = [`${name} 3600 IN SOA ns.owner.${name} hostmaster.${name} ${serial} 7200 3600 1209600 300`];
  for (const p of listed) for (const ns of p.nameservers) lines.push(`${name} 3600 IN NS ${parseName(ns)}`);
  for (const p of listed) {
    const upstream = p.upstream === 'owner' ? '.' : p.upstream;
    lines.push(`${name} 3600 IN HSYNC ON ${p.label} ${parseName(p.identity)} ${upstream}`);
  }
  const params = [`servers="${zone.servers.join(',')}"`];
  if (zone.signers.length > 0) params.push(`signers="${zone.signers.join(',')}"`);
  params.push(`nsmgmt="${zone.nsmgmt}"`, `parentsync="${zone.parentsync}"`);
  lines.push(`${name} 3600 IN HSYNCPARAM ${params.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Starts the lab. Ports are picked free before the identity zones are signed and bound later,
 * so another program can take one meanwhile: a start that fails on a port in use is tried
 * again from the beginning with new ports (three times at most).
 */
export async function startLab(opts: LabOptions): Promise<Lab> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startLabOnce(opts);
    } catch (e) {
      const text = e instanceof Error ? `${e.message} ${e.cause instanceof Error ? e.cause.message : ''}` : String(e);
      if (attempt >= 3 || !text.includes('EADDRINUSE')) throw e;
      opts.progress?.(`a port was taken meanwhile (${text.slice(0, 200)}); starting again with new ports`);
    }
  }
}

async function startLabOnce(opts: LabOptions): Promise<Lab> {
  const cfg = opts.config ?? DEFAULT_LAB;
  const dir = resolve(opts.dir);
  const say = opts.progress ?? (() => {});
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch(() => {});
  };
  try {
    await mkdir(join(dir, 'owner'), { recursive: true });
    // Keys and ports per provider, so that the identity zones can name them before signing.
    const ports = new Map<string, { gateway: Peer; notify: Peer; control: Peer; gatewayMetrics: Peer; combiner: Peer; nameserver: Peer }>();
    const keys = new Map<string, object>();
    const idZones: { origin: string; records: string[] }[] = [];
    for (const p of cfg.providers) {
      await mkdir(join(dir, p.label), { recursive: true });
      const { privateKey } = await generateKeyPair('ES256', { extractable: true });
      const priv = await exportJWK(privateKey);
      keys.set(p.label, priv);
      await writeFileAtomic(join(dir, p.label, 'key.jwk'), `${JSON.stringify(priv)}\n`, { mode: 0o600 });
      const { d: _d, ...pub } = priv;
      const local = async (): Promise<Peer> => ({ address: '127.0.0.1', port: await freePort() });
      const here = { gateway: await local(), notify: await local(), control: await local(), gatewayMetrics: await local(), combiner: await local(), nameserver: await local() };
      ports.set(p.label, here);
      const id = parseName(p.identity);
      idZones.push({ origin: parentName(id) ?? id, records: identityRecords(id, { addresses: ['127.0.0.1'], port: here.gateway.port }, pub, 60) });
    }
    say('signing the lab root, TLDs and identity zones');
    const world: SignedWorld = await startSignedWorld(dir, idZones);
    stops.push(() => world.stop());
    let resolver: Resolver | undefined;
    let resolverAddress: Peer;
    try {
      resolver = await startUnbound(dir, world.servers, world.trustAnchorFile);
      stops.push(() => resolver?.stop() ?? Promise.resolve());
      resolverAddress = resolver.address;
      say(`validating Unbound on ${addr(resolverAddress)}`);
    } catch (e) {
      // No Unbound: discovery reads the lab's zones from one server, unvalidated, and says so.
      const direct = new DnsServer({ address: '127.0.0.1', port: 0 });
      for (const source of world.sources) direct.setZone(source);
      const { port } = await direct.start();
      stops.push(() => direct.stop());
      resolverAddress = { address: '127.0.0.1', port };
      say(`INSECURE: no validating resolver (${e instanceof Error ? e.message : String(e)})`);
    }
    const validating = resolver !== undefined;

    // The zone owner's primary.
    const ownerPort = await freePort();
    const zoneFiles: Record<string, string> = {};
    // The providers' combiners transfer the owner's zones (loopback only).
    const serveArgs = ['serve', '--listen', `127.0.0.1:${ownerPort}`, '--allow-transfer', '127.0.0.0/8'];
    for (const z of cfg.zones) {
      const file = join(dir, 'owner', `${parseName(z.name).slice(0, -1)}.zone`);
      await writeFile(file, ownerZoneText(z, cfg.providers));
      zoneFiles[parseName(z.name)] = file;
      serveArgs.push('--zone', `${file}:${parseName(z.name)}`);
    }
    for (const p of cfg.providers) {
      const here = ports.get(p.label);
      if (here !== undefined) serveArgs.push('--notify', addr(here.notify), '--notify', addr(here.combiner));
    }
    const mpdns = opts.mpdns ?? join(import.meta.dirname, '..', '..', 'bin', 'mpdns');
    // MPDNS_EXIT_WITH_PARENT: the primary exits when the lab is gone, even after a SIGKILL.
    const owner: ChildProcess = spawn(mpdns, serveArgs, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, MPDNS_EXIT_WITH_PARENT: '1' } });
    let ownerErr = '';
    owner.stderr?.on('data', (b: Buffer) => (ownerErr += b.toString()));
    stops.push(async () => {
      if (owner.exitCode === null && owner.signalCode === null) {
        const gone = new Promise((r) => owner.once('exit', r));
        owner.kill('SIGTERM');
        await gone;
      }
    });
    const ownerPeer = { address: '127.0.0.1', port: ownerPort };
    await waitForAnswer(ownerPeer, parseName(cfg.zones[0]?.name ?? '.'), {
      timeoutMs: 30_000,
      failed: () => (owner.exitCode !== null ? `the owner primary exited (${owner.exitCode})` : undefined),
    }).catch((e: unknown) => {
      throw new Error(`lab: ${e instanceof Error ? e.message : String(e)}: ${ownerErr.slice(-400)}`);
    });
    say(`owner primary on ${addr(ownerPeer)} (pid ${owner.pid ?? 0})`);

    // The providers: each with its own broker namespace, kept open across a stop and start of
    // its roles (the persisted peer machines survive, as on a real broker).
    const hub = new EmbeddedHub();
    const inspector = opts.inspect === undefined || opts.processes === true ? undefined : createHostInspector(opts.inspect);
    if (inspector !== undefined) stops.push(() => inspector.stop());
    const runners = new Map<string, ProviderRunner>();
    const nameservers = new Map<string, RoleProcess>();
    const pidsOf = (label: string): LabJson['providers'][number]['pids'] => {
      const r = runners.get(label)?.pids() ?? { agent: 0, gateway: 0 };
      return { agent: r.agent, gateway: r.gateway, combiner: r.combiner ?? process.pid, nameserver: nameservers.get(label)?.pid ?? 0 };
    };
    const providers: LabJson['providers'][number][] = [];
    const json: LabJson = {
      broker: opts.nats ?? (opts.natsFor !== undefined ? 'nats' : 'embedded'),
      processes: opts.processes === true,
      resolver: { address: addr(resolverAddress), validating, trustAnchor: validating ? world.trustAnchorFile : null },
      owner: { address: addr(ownerPeer), pid: owner.pid ?? 0, zones: zoneFiles },
      providers,
    };
    /** lab.json is written once every provider runs, and again when a role restarts. */
    let complete = false;
    const writeJson = async (): Promise<void> => {
      if (!complete) return;
      for (const p of json.providers) p.pids = pidsOf(p.label);
      await writeFileAtomic(join(dir, 'lab.json'), `${JSON.stringify(json, null, 2)}\n`);
    };
    for (const p of cfg.providers) {
      const here = ports.get(p.label);
      if (here === undefined) continue;
      const nats = opts.natsFor?.(p.label) ?? (opts.nats !== undefined ? { url: opts.nats, namespace: p.label } : undefined);
      const config: ProviderConfig = {
        identity: parseName(p.identity),
        keyFile: join(dir, p.label, 'key.jwk'),
        namespace: nats?.namespace ?? p.label,
        resolver: resolverAddress,
        insecure: !validating,
        gateway: here.gateway,
        control: here.control,
        controlTokenFile: undefined,
        notify: here.notify,
        gatewayMetrics: opts.processes === true ? here.gatewayMetrics : undefined,
        combiner: here.combiner,
        nameserver: here.nameserver,
        nameservers: p.nameservers.map((n) => parseName(n)),
        beatSeconds: opts.beatSeconds ?? 2,
        recheckSeconds: 10,
        zones: cfg.zones.map((z) => ({ name: parseName(z.name), primary: ownerPeer })),
      };
      let runner: ProviderRunner;
      if (opts.processes === true) {
        if (nats === undefined) throw new Error('lab: --processes needs --nats URL (roles in separate processes share their broker through NATS)');
        const configFile = join(dir, p.label, 'provider.yaml');
        await writeFileAtomic(configFile, providerConfigText(config));
        runner = processRunner({
          label: p.label,
          mpdns,
          configFile,
          config,
          logDir: join(dir, p.label),
          env: (role) => {
            const c = nats.credentials?.[role];
            return { ...process.env, MPDNS_NATS_URL: nats.url, ...(c !== undefined ? { MPDNS_NATS_USER: c.user, MPDNS_NATS_PASSWORD: c.pass } : {}) };
          },
          restarted: () => void writeJson().catch(() => {}),
          ...(opts.inspect !== undefined ? { inspect: opts.inspect } : {}),
        });
      } else {
        const broker: Broker = nats === undefined ? createEmbeddedBroker({ hub, namespace: p.label }) : await createJetStreamBroker({ servers: nats.url, namespace: config.namespace, name: `mpdns-lab-${p.label}` });
        stops.push(() => broker.close());
        const own = await ownKeys(keys.get(p.label));
        runner = inProcessRunner({ config, own, broker, metrics: new Metrics(), logger: opts.logger.child({ provider: p.label }), ...(inspector !== undefined ? { inspect: inspector } : {}) });
      }
      runners.set(p.label, runner);
      stops.push(() => runner.stop());
      await runner.start();
      const nameserver = nameserverProcess({
        label: p.label,
        mpdns,
        zones: cfg.zones.map((z) => parseName(z.name)),
        combiner: here.combiner,
        listen: here.nameserver,
        logDir: join(dir, p.label),
        restarted: () => void writeJson().catch(() => {}),
      });
      nameservers.set(p.label, nameserver);
      stops.push(() => nameserver.stop());
      await nameserver.start();
      const control = `http://${addr(here.control)}`;
      providers.push({
        label: p.label,
        identity: config.identity,
        signs: p.signs,
        gateway: addr(here.gateway),
        control,
        metrics: `${control}/metrics`,
        ...(config.gatewayMetrics !== undefined ? { gatewayMetrics: `http://${addr(config.gatewayMetrics)}/metrics` } : {}),
        nameserver: addr(here.nameserver),
        pids: pidsOf(p.label),
      });
      say(`${p.label}: agent ${config.identity}, gateway ${addr(here.gateway)}, control ${addr(here.control)}${opts.processes === true ? ` (pids ${runner.pids().agent}, ${runner.pids().gateway})` : ''}`);
    }
    complete = true;
    await writeJson();
    const runnerOf = (label: string): ProviderRunner => {
      const r = runners.get(label);
      if (r === undefined) throw new Error(`lab: no provider "${label}"`);
      return r;
    };
    return {
      dir,
      json,
      peers: (label) => runnerOf(label).peers(),
      stopProvider: (label) => runnerOf(label).stop(),
      startProvider: async (label) => {
        await runnerOf(label).start();
        await writeJson();
      },
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
