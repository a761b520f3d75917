// The combiner's policy gates end to end in the lab (one process, embedded broker; every
// provider's nameserver its own `mpdns serve --secondary` process), checked from outside with
// kdig and each agent's control endpoint:
//   - bravo's nameserver lies in alpha's protected namespace (ns9.alpha.example.; alpha is
//     agent.alpha.example.): alpha's and echo's combiners reject bravo's NS with a `namespace:`
//     reason, bravo sees both deliveries REJECTED with that reason (and its own combiner does
//     not serve it either), no nameserver serves ns9.alpha.example. once the contributions
//     replaced the owner's NS RRset, and alpha and echo still converge between themselves;
//   - a zone with nsmgmt=owner: every nameserver serves the owner's NS RRset, and an owner NS
//     edit reaches every nameserver.
// Rules a lab config cannot provoke (the agent contributes only `<zone> 3600 IN NS <its
// nameservers>`, and only when nsmgmt=agent and it is in `servers`): ttl, class, type, owner,
// glue, ns-server, nsmgmt, dnskey-*, parentsync; multi-provider/membership/sender only in the
// instant when two combiners disagree about the owner's zone.
import { strict as assert } from 'node:assert';
import { writeFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import pino from 'pino';
import {
  ownerZoneText,
  startLab,
  type Lab,
  type LabConfig,
  type LabProvider,
  type LabZone,
} from '../actors/lab/lab.ts';
import { haveBinary } from './support/daemon.ts';
import { digAt } from './support/kdig.ts';
import { pollUntil } from './support/poll.ts';
import { tmpDir, type TmpDir } from './support/tmp.ts';

const dig = (label: string, zone: string, type: string): Promise<string[]> =>
  digAt(lab?.json, label, zone, type);
const NO_KDIG = !haveBinary('kdig') && 'kdig not installed';

const PROVIDERS: readonly LabProvider[] = [
  {
    label: 'alpha',
    identity: 'agent.alpha.example.',
    nameservers: ['ns1.alpha.example.'],
    upstream: 'owner',
    signs: false,
  },
  // In alpha's protected namespace (alpha.example.).
  {
    label: 'bravo',
    identity: 'agent.bravo.example.',
    nameservers: ['ns9.alpha.example.'],
    upstream: 'owner',
    signs: false,
  },
  {
    label: 'echo',
    identity: 'agent.echo.example.',
    nameservers: ['ns.echo.example.'],
    upstream: 'owner',
    signs: false,
  },
];
const THREE = ['alpha', 'bravo', 'echo'];
const AGENT_ZONE: LabZone = {
  name: 'customer.zone.',
  hsync: THREE,
  servers: THREE,
  signers: [],
  nsmgmt: 'agent',
  parentsync: 'owner',
};
const OWNER_ZONE: LabZone = {
  name: 'owned.zone.',
  hsync: THREE,
  servers: THREE,
  signers: [],
  nsmgmt: 'owner',
  parentsync: 'owner',
};
const CONFIG: LabConfig = { zones: [AGENT_ZONE, OWNER_ZONE], providers: PROVIDERS };
const ID: Record<string, string> = Object.fromEntries(PROVIDERS.map((p) => [p.label, p.identity]));

let dir: TmpDir;
let lab: Lab | undefined;

before(async () => {
  dir = await tmpDir('mpdns-lab-policy-');
  lab = await startLab({
    dir: dir.path,
    config: CONFIG,
    beatSeconds: 1,
    logger: pino({ level: 'silent' }),
  });
});
after(async () => {
  await lab?.stop();
  await dir?.remove();
});

/** kdig +short at a provider's nameserver, sorted lines. */

interface ZoneRow {
  readonly zone: string;
  readonly contribution?: {
    readonly contribution: readonly string[];
    readonly local: string;
    readonly deliveries: readonly {
      peer: string;
      status: string;
      message: string;
      rejected: readonly { record: string; reason: string }[];
    }[];
  };
}

async function zones(label: string): Promise<ZoneRow[]> {
  const control = lab?.json.providers.find((p) => p.label === label)?.control ?? '';
  return (await fetch(`${control}/zones`, { signal: AbortSignal.timeout(2000) }).then((r) =>
    r.json(),
  )) as ZoneRow[];
}
const contributionAt = async (label: string, zone: string): Promise<ZoneRow['contribution']> =>
  (await zones(label)).find((r) => r.zone === zone)?.contribution;

const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false>): Promise<T> =>
  pollUntil(what, probe, { timeoutMs: 90_000, intervalMs: 250 });

/**
 * Per nameserver and zone: whether it served a contributed NS RRset (one without bravo's
 * ns9.alpha.example.: until the first contribution the owner's RRset is served, and the lab's
 * owner lists every HSYNC provider's nameservers, bravo's too), and whether ns9.alpha.example.
 * appeared after that.
 */
const seen = new Map<string, { contributed: boolean; samples: number; after: string[] }>();
async function digNs(label: string, zone: string): Promise<string[]> {
  const ns = await digAt(lab?.json, label, zone, 'NS');
  const k = `${label} ${zone}`;
  const s = seen.get(k) ?? { contributed: false, samples: 0, after: [] };
  if (s.contributed && ns.includes('ns9.alpha.example.')) s.after.push(ns.join(' '));
  if (ns.length > 0 && !ns.includes('ns9.alpha.example.')) s.contributed = true;
  s.samples++;
  seen.set(k, s);
  return ns;
}

test(
  "lab policy: a NS target in another provider's protected namespace is rejected (namespace:) by alpha and echo, and bravo sees why",
  { skip: NO_KDIG },
  async () => {
    // Keep probing the nameservers while the providers sync: ns9.alpha.example. must never appear.
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        for (const l of ['alpha', 'echo']) await digNs(l, AGENT_ZONE.name).catch(() => []);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      const c = await waitFor("bravo's deliveries to alpha and echo final", async () => {
        const v = await contributionAt('bravo', AGENT_ZONE.name);
        const final = (peer: string): boolean =>
          v?.deliveries.some((d) => d.peer === ID[peer] && d.status !== 'pending') === true;
        return final('alpha') && final('echo') ? v : undefined;
      });
      assert.deepEqual(c?.contribution, [`${AGENT_ZONE.name} 3600 IN NS ns9.alpha.example.`]);
      for (const peer of ['alpha', 'echo']) {
        const d = c?.deliveries.find((x) => x.peer === ID[peer]);
        assert.equal(
          d?.status,
          'REJECTED',
          `${peer}'s CONFIRM of bravo's NS: ${JSON.stringify(d)}`,
        );
        assert.equal(d?.rejected.length, 1, JSON.stringify(d));
        const r = d?.rejected[0];
        assert.match(r?.record ?? '', /ns9\.alpha\.example\./);
        assert.ok(
          r?.reason.startsWith('namespace:'),
          `reason starts with namespace: (${r?.reason})`,
        );
        assert.match(
          r?.reason ?? '',
          /agent\.alpha\.example\./,
          'the reason names the namespace owner',
        );
      }
      // Bravo's own combiner applies the same gate: its own contribution is never served.
      assert.notEqual(
        c?.local,
        'served',
        `bravo's own combiner must not serve ns9.alpha.example. (local=${c?.local})`,
      );

      // Alpha and echo still converge between themselves: each serves its own contribution,
      // confirmed SUCCESS by the other (and by bravo, whose combiner has no objection to theirs).
      await waitFor('alpha and echo converged', async () => {
        for (const [l, others] of [
          ['alpha', ['echo', 'bravo']],
          ['echo', ['alpha', 'bravo']],
        ] as const) {
          const v = await contributionAt(l, AGENT_ZONE.name);
          if (v?.local !== 'served') return false;
          for (const o of others)
            if (!v.deliveries.some((d) => d.peer === ID[o] && d.status === 'SUCCESS')) return false;
        }
        for (const l of THREE)
          if ((await digNs(l, AGENT_ZONE.name)).join(' ') !== 'ns.echo.example. ns1.alpha.example.')
            return false;
        return true;
      });
    } finally {
      sampling = false;
      await sampler;
    }
    for (const l of ['alpha', 'echo']) {
      const s = seen.get(`${l} ${AGENT_ZONE.name}`);
      assert.ok(s !== undefined && s.samples > 0 && s.contributed, `${l}'s nameserver was probed`);
      assert.deepEqual(
        s.after,
        [],
        `${l}'s nameserver never served ns9.alpha.example. once the contributions took over`,
      );
    }
    // Still not, a few beats later (a retry could not sneak it in).
    for (const l of THREE)
      assert.ok(
        !(await digNs(l, AGENT_ZONE.name)).includes('ns9.alpha.example.'),
        `${l} serves no ns9.alpha.example.`,
      );
  },
);

test(
  "lab policy: nsmgmt=owner, every nameserver serves the owner's NS RRset, and an owner NS edit reaches them all",
  { skip: NO_KDIG },
  async () => {
    assert.ok(lab !== undefined);
    const ownerNs = ['ns.echo.example.', 'ns1.alpha.example.', 'ns9.alpha.example.'];
    for (const l of THREE)
      await waitFor(
        `${l} serves the owner's NS for ${OWNER_ZONE.name}`,
        async () => (await dig(l, OWNER_ZONE.name, 'NS')).join(' ') === ownerNs.join(' '),
      );
    // No provider contributes to a zone with nsmgmt=owner.
    for (const l of THREE) {
      const c = await contributionAt(l, OWNER_ZONE.name);
      assert.ok(
        c === undefined || c.contribution.length === 0,
        `${l} contributes nothing to ${OWNER_ZONE.name}: ${JSON.stringify(c)}`,
      );
    }
    // The owner changes the NS list: drops ns9.alpha.example., adds two of its own.
    const file = lab.json.owner.zones[OWNER_ZONE.name];
    assert.ok(file !== undefined);
    const text = ownerZoneText(OWNER_ZONE, PROVIDERS, 2)
      .split('\n')
      .filter((l) => !l.includes(' IN NS ns9.alpha.example.'))
      .join('\n');
    await writeFile(
      file,
      `${text}${OWNER_ZONE.name} 3600 IN NS ns1.owner.example.\n${OWNER_ZONE.name} 3600 IN NS ns2.owner.example.\n`,
    );
    process.kill(lab.json.owner.pid, 'SIGHUP');
    const edited = [
      'ns.echo.example.',
      'ns1.alpha.example.',
      'ns1.owner.example.',
      'ns2.owner.example.',
    ];
    for (const l of THREE) {
      await waitFor(
        `${l} serves the owner's edited NS for ${OWNER_ZONE.name}`,
        async () => (await dig(l, OWNER_ZONE.name, 'NS')).join(' ') === edited.join(' '),
      ).catch(async (e: unknown) => {
        throw new Error(
          `${e instanceof Error ? e.message : String(e)}; ${l} serves ${(await dig(l, OWNER_ZONE.name, 'NS')).join(' ')}`,
        );
      });
    }
    // The agent-managed zone is untouched by the other zone's edit.
    for (const l of THREE)
      assert.equal(
        (await dig(l, AGENT_ZONE.name, 'NS')).join(' '),
        'ns.echo.example. ns1.alpha.example.',
      );
  },
);
