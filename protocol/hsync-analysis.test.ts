import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseName, type Fqdn } from '../dns/name.ts';
import { rdataFromText } from '../dns/rdata/codec.ts';
import { RRType } from '../dns/types.ts';
import { analyseHsync, diffHsync, problemText, type HsyncAnalysis, type HsyncProblem } from './hsync-analysis.ts';

const ZONE = parseName('customer.zone.');
const ALPHA = parseName('agent.alpha.example.');
const ECHO = parseName('agent.echo.example.');

// The talk's zone: alpha and bravo pull from the owner, echo from alpha; alpha and bravo sign.
const TALK_HSYNC = ['ON alpha agent.alpha.example. .', 'ON bravo agent.bravo.example. .', 'ON echo agent.echo.example. alpha'];
const TALK_PARAM = 'servers="alpha,bravo,echo" signers="alpha,bravo" nsmgmt="agent"';

function analyse(hsync: readonly string[], param: string | readonly string[] | undefined, self: Fqdn = ALPHA): HsyncAnalysis {
  const params = param === undefined ? [] : typeof param === 'string' ? [param] : param;
  return analyseHsync({
    zone: ZONE,
    self,
    hsync: hsync.map((t) => rdataFromText(RRType.HSYNC, t)),
    hsyncparam: params.map((t) => rdataFromText(RRType.HSYNCPARAM, t)),
  });
}

const kinds = (a: HsyncAnalysis): string[] => a.problems.map((p) => p.kind);

test('hsync analysis: the talk example from alpha and from echo', () => {
  const a = analyse(TALK_HSYNC, TALK_PARAM);
  assert.deepEqual(a.problems, []);
  assert.equal(a.membership, 'on');
  assert.equal(a.signed, true);
  assert.equal(a.params.nsmgmt, 'agent');
  assert.equal(a.params.parentsync, 'owner');
  assert.deepEqual(
    a.peers.map((p) => [p.label, p.identity, p.state, p.upstream, p.roles.server, p.roles.signer]),
    [
      ['bravo', 'agent.bravo.example.', 'ON', null, true, true],
      ['echo', 'agent.echo.example.', 'ON', 'alpha', true, false],
    ],
  );
  assert.deepEqual(a.me?.roles, { server: true, signer: true, auditor: false });

  const e = analyse(TALK_HSYNC, TALK_PARAM, ECHO);
  assert.equal(e.me?.upstream, 'alpha');
  assert.deepEqual(
    e.peers.map((p) => p.label),
    ['alpha', 'bravo'],
  );
});

test('hsync analysis: not listed, leaving (OFF is membership, not a problem), TDNS trailing dots', () => {
  assert.equal(analyse(TALK_HSYNC, TALK_PARAM, parseName('agent.zulu.example.')).membership, 'absent');
  const off = analyse(['OFF alpha. agent.alpha.example. .', 'ON bravo. agent.bravo.example. .'], 'servers="alpha,bravo"');
  assert.equal(off.membership, 'off');
  assert.deepEqual(off.problems, []);
  assert.equal(off.me?.label, 'alpha');
  assert.equal(off.peers[0]?.label, 'bravo');
});

test('hsync analysis: no HSYNCPARAM means every provider serves, nobody signs, owner manages', () => {
  const a = analyse(['ON alpha agent.alpha.example. .', 'ON bravo agent.bravo.example. alpha'], undefined);
  assert.deepEqual(a.problems, []);
  assert.equal(a.signed, false);
  assert.ok(a.providers.every((p) => p.roles.server && !p.roles.signer));
  assert.equal(a.params.nsmgmt, 'owner');
});

const cases: { name: string; hsync: string[]; param?: string | string[]; want: HsyncProblem[] }[] = [
  {
    name: 'duplicate label',
    hsync: ['ON alpha agent.alpha.example. .', 'ON alpha agent.bravo.example. .'],
    want: [{ kind: 'duplicate-label', label: 'alpha', identities: [ALPHA, parseName('agent.bravo.example.')] }],
  },
  {
    name: 'duplicate identity',
    hsync: ['ON alpha agent.alpha.example. .', 'ON alpha2 agent.alpha.example. .'],
    want: [{ kind: 'duplicate-identity', identity: ALPHA, labels: ['alpha', 'alpha2'] }],
  },
  {
    name: 'label in servers or signers without an HSYNC record',
    hsync: ['ON alpha agent.alpha.example. .'],
    param: 'servers="alpha,zulu" signers="alpha,yankee" auditors="xray"',
    want: [
      { kind: 'unknown-label', param: 'servers', label: 'zulu' },
      { kind: 'unknown-label', param: 'signers', label: 'yankee' },
      { kind: 'unknown-label', param: 'auditors', label: 'xray' },
      { kind: 'signer-not-server', label: 'yankee' },
    ],
  },
  {
    name: 'signers not a subset of servers',
    hsync: ['ON alpha agent.alpha.example. .', 'ON bravo agent.bravo.example. .'],
    param: 'servers="alpha" signers="alpha,bravo"',
    want: [{ kind: 'signer-not-server', label: 'bravo' }],
  },
  {
    name: 'unknown upstream',
    hsync: ['ON alpha agent.alpha.example. .', 'ON bravo agent.bravo.example. charlie'],
    want: [{ kind: 'unknown-upstream', label: 'bravo', upstream: 'charlie' }],
  },
  {
    name: 'upstream loop',
    hsync: ['ON alpha agent.alpha.example. .', 'ON charlie agent.charlie.example. bravo', 'ON bravo agent.bravo.example. charlie'],
    want: [{ kind: 'upstream-loop', labels: ['bravo', 'charlie'] }],
  },
  {
    name: 'a provider that is its own upstream',
    hsync: ['ON alpha agent.alpha.example. alpha'],
    want: [{ kind: 'upstream-loop', labels: ['alpha'] }],
  },
  {
    name: 'upstream not a signer of a signed zone',
    hsync: ['ON alpha agent.alpha.example. .', 'ON bravo agent.bravo.example. alpha', 'ON charlie agent.charlie.example. bravo'],
    param: 'servers="alpha,bravo,charlie" signers="alpha"',
    want: [{ kind: 'upstream-not-signer', label: 'charlie', upstream: 'bravo' }],
  },
  {
    name: 'a non-signer of a signed zone pulling from the owner',
    hsync: ['ON alpha agent.alpha.example. .', 'ON bravo agent.bravo.example. .'],
    param: 'servers="alpha,bravo" signers="alpha"',
    want: [{ kind: 'unsigned-upstream', label: 'bravo' }],
  },
  {
    name: 'two HSYNCPARAM records',
    hsync: ['ON alpha agent.alpha.example. .'],
    param: ['servers="alpha"', 'nsmgmt="agent"'],
    want: [{ kind: 'several-hsyncparam', count: 2 }],
  },
];

for (const c of cases) {
  test(`hsync analysis problem: ${c.name}`, () => {
    const a = analyse(c.hsync, c.param);
    assert.deepEqual(a.problems, c.want);
    for (const p of a.problems) assert.ok(problemText(p).length > 10);
  });
}

test('hsync analysis: unreadable records are problems, the rest is still analysed', () => {
  const a = analyseHsync({
    zone: ZONE,
    self: ALPHA,
    hsync: [rdataFromText(RRType.HSYNC, 'ON alpha agent.alpha.example. .'), Uint8Array.of(1, 5, 0x61), Uint8Array.of(7), Uint8Array.of(2, 1, 0x62, 0)],
    hsyncparam: [Uint8Array.of(0, 0, 0)],
  });
  assert.deepEqual(kinds(a), ['bad-hsyncparam', 'bad-hsync', 'bad-hsync', 'bad-hsync']);
  assert.deepEqual(
    a.problems.filter((p) => p.kind === 'bad-hsync').map((p) => p.index),
    [1, 2, 3],
  );
  assert.equal(a.membership, 'on');
  assert.equal(a.providers.length, 1);
});

test('hsync diff: provider added, removed, role and state changed, policy changed', () => {
  const before = analyse(TALK_HSYNC, TALK_PARAM);
  assert.deepEqual(diffHsync(before, before), []);
  const after = analyse(
    ['OFF alpha agent.alpha.example. .', 'ON bravo agent.bravo.example. .', 'ON delta agent.delta.example. bravo'],
    'servers="alpha,bravo,delta" signers="bravo" nsmgmt="owner" parentsync="agent"',
  );
  const d = diffHsync(before, after);
  const summary = d.map((c) =>
    c.kind === 'policy' ? `policy ${c.field} ${c.before}->${c.after}` : c.kind === 'changed' ? `changed ${c.after.label} ${c.fields.join(',')}` : `${c.kind} ${c.provider.label}`,
  );
  assert.deepEqual(summary, ['removed echo', 'changed alpha state,signer', 'added delta', 'policy nsmgmt agent->owner', 'policy parentsync owner->agent']);
});
