// deploy/nats/nats-server.conf under the real roles: two providers, each on its own nats-server
// started with the production configuration (namespace `mpdns`, one user per role, generated
// passwords), each role its own process (`mpdns agent`, `mpdns gateway`) logged in as its own
// user. They reach mutual OPERATIONAL, and neither the roles' logs nor the servers' report a
// permission violation: the grants suffice for what the agent and the gateway really do.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { DEFAULT_LAB, startLab, type Lab, type LabConfig } from '../actors/lab/lab.ts';
import { haveBinary } from './support/daemon.ts';
import { startNatsServer, type NatsServer } from './support/nats.ts';
import { pollUntil } from './support/poll.ts';
import { tmpDir, type TmpDir } from './support/tmp.ts';

const CONF = fileURLToPath(new URL('../deploy/nats/nats-server.conf', import.meta.url));
const LABELS = ['alpha', 'bravo'] as const;
const ROLES = ['agent', 'gateway', 'combiner'] as const;
const base = DEFAULT_LAB.zones[0];
const TWO: LabConfig = {
  zones: base === undefined ? [] : [{ ...base, hsync: [...LABELS], servers: [...LABELS] }],
  providers: DEFAULT_LAB.providers.filter((p) => (LABELS as readonly string[]).includes(p.label)),
};
// nats-server parses a variable's value as a config value: passwords start with a letter.
const password = (): string => `p${randomBytes(12).toString('hex')}`;
const VIOLATION = /permissions? violation|PermissionDenied|Publish Violation|Subscription Violation/i;

interface Provider {
  readonly server: NatsServer;
  readonly pass: Record<(typeof ROLES)[number], string>;
}

describe('deploy/nats under the real agent, gateway and combiner processes', { skip: !haveBinary('nats-server') && 'nats-server not installed' }, () => {
  const providers = new Map<string, Provider>();
  let dir: TmpDir;
  let lab: Lab | undefined;

  const roleLog = (label: string, role: string): Promise<string> => readFile(join(dir.path, label, `${role}.log`), 'utf8').catch(() => '');
  /** The last lines of each role's log that are not info (level 30), and each server's errors. */
  const diagnosis = async (): Promise<string> => {
    const out: string[] = [];
    for (const l of LABELS) {
      for (const r of ROLES) {
        const lines = (await roleLog(l, r)).split('\n').filter((x) => x !== '' && !x.includes('"level":30'));
        out.push(`--- ${l} ${r}\n${lines.slice(-10).join('\n')}`);
      }
      const server = providers.get(l)?.server.daemon().output() ?? '';
      out.push(`--- ${l} nats-server\n${server.split('\n').filter((x) => /\[(ERR|WRN)\]/.test(x)).slice(-10).join('\n')}`);
    }
    return out.join('\n');
  };

  before(async () => {
    for (const l of LABELS) {
      const pass = { agent: password(), gateway: password(), combiner: password() };
      const env = {
        ...process.env,
        MPDNS_NATS_AGENT_PASSWORD: pass.agent,
        MPDNS_NATS_GATEWAY_PASSWORD: pass.gateway,
        MPDNS_NATS_COMBINER_PASSWORD: pass.combiner,
        MPDNS_NATS_SIGNER_PASSWORD: password(),
        MPDNS_NATS_ADMIN_PASSWORD: password(),
      };
      providers.set(l, { server: await startNatsServer({ configFile: CONF, env }), pass });
    }
    dir = await tmpDir('mpdns-lab-deploy-nats-');
    lab = await startLab({
      dir: dir.path,
      config: TWO,
      beatSeconds: 1,
      logger: pino({ level: 'silent' }),
      processes: true,
      natsFor: (label) => {
        const p = providers.get(label);
        if (p === undefined) return undefined;
        return {
          url: p.server.url,
          namespace: 'mpdns',
          credentials: { agent: { user: 'agent', pass: p.pass.agent }, gateway: { user: 'gateway', pass: p.pass.gateway }, combiner: { user: 'combiner', pass: p.pass.combiner } },
        };
      },
    }).catch(async (e: unknown) => {
      throw new Error(`${e instanceof Error ? e.message : String(e)}\n${await diagnosis()}`);
    });
  });
  after(async () => {
    await lab?.stop();
    for (const p of providers.values()) await p.server.stop();
    await dir?.remove();
  });

  it('alpha and bravo, each on its own deploy/nats server, reach mutual OPERATIONAL', { timeout: 120_000 }, async () => {
    const stateAt = async (viewer: string, peer: string): Promise<string | undefined> => (await lab?.peers(viewer))?.find((v) => v.label === peer)?.state;
    await pollUntil(
      'mutual OPERATIONAL on the deploy/nats servers',
      async () => (await stateAt('alpha', 'bravo')) === 'OPERATIONAL' && (await stateAt('bravo', 'alpha')) === 'OPERATIONAL',
      { timeoutMs: 90_000, intervalMs: 200 },
    ).catch(async (e: unknown) => {
      throw new Error(`${e instanceof Error ? e.message : String(e)}\n${await diagnosis()}`);
    });
  });

  it('each contributes its NS: its own combiner serves it and the other combiner confirms it (SUCCESS)', { timeout: 120_000 }, async () => {
    interface ZoneRow {
      contribution: { local: string; deliveries: { peer: string; status: string }[] };
    }
    const row = async (label: string): Promise<ZoneRow | undefined> => {
      const p = lab?.json.providers.find((x) => x.label === label);
      return p === undefined ? undefined : ((await (await fetch(`${p.control}/zones`)).json()) as ZoneRow[])[0];
    };
    await pollUntil(
      'both contributions served locally and confirmed by the other',
      async () => {
        for (const l of LABELS) {
          const c = (await row(l))?.contribution;
          if (c?.local !== 'served' || c.deliveries.length !== 1 || c.deliveries[0]?.status !== 'SUCCESS') return false;
        }
        return true;
      },
      { timeoutMs: 90_000, intervalMs: 200 },
    ).catch(async (e: unknown) => {
      throw new Error(`${e instanceof Error ? e.message : String(e)}\n${await diagnosis()}`);
    });
  });

  it('no role and no server reports a permission violation', async () => {
    const found: string[] = [];
    for (const l of LABELS) {
      for (const r of ROLES) {
        const log = await roleLog(l, r);
        assert.notEqual(log, '', `${l} ${r} wrote a log`);
        for (const line of log.split('\n')) if (VIOLATION.test(line)) found.push(`${l} ${r}: ${line}`);
      }
      for (const line of (providers.get(l)?.server.daemon().output() ?? '').split('\n')) if (VIOLATION.test(line)) found.push(`${l} nats-server: ${line}`);
    }
    assert.deepEqual(found, [], `permission violations:\n${found.join('\n')}\n${await diagnosis()}`);
  });
});
