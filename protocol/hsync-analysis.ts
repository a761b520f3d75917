// HSYNC analysis: what a zone's apex HSYNC + HSYNCPARAM RRsets say to one provider. Pure; the
// agent feeds it the RDATA it fetched and acts on the result. Nothing here throws for bad data:
// every inconsistency is reported as a typed problem next to the best reading of the rest, so
// an operator sees all of them at once (docs/decisions.md, "HSYNC analysis").
import type { Fqdn } from '../dns/name.ts';
import { decodeRdata } from '../dns/rdata/codec.ts';
import { hsyncParamsView, type HsyncParams } from '../dns/rdata/hsyncparam.ts';
import { hsyncView } from '../dns/rdata/hsync.ts';
import { DnsError } from '../dns/errors.ts';

export type HsyncState = 'ON' | 'OFF';

export interface ProviderRoles {
  /** Listed in `servers` (or every provider, when HSYNCPARAM names no servers). */
  readonly server: boolean;
  readonly signer: boolean;
  readonly auditor: boolean;
}

/** One provider as the HSYNC RRset lists it, with its roles from HSYNCPARAM. */
export interface Provider {
  readonly label: string;
  readonly identity: Fqdn;
  /** ON: taking part; OFF: being removed (still listed so that peers can wind down). */
  readonly state: HsyncState;
  /** The label this provider pulls the zone from; null for `.` (from the owner). */
  readonly upstream: string | null;
  readonly roles: ProviderRoles;
}

export type HsyncProblem =
  | { readonly kind: 'bad-hsync'; readonly index: number; readonly reason: string }
  | { readonly kind: 'bad-hsyncparam'; readonly reason: string }
  | { readonly kind: 'several-hsyncparam'; readonly count: number }
  | { readonly kind: 'duplicate-label'; readonly label: string; readonly identities: readonly Fqdn[] }
  | { readonly kind: 'duplicate-identity'; readonly identity: Fqdn; readonly labels: readonly string[] }
  | { readonly kind: 'unknown-label'; readonly param: 'servers' | 'signers' | 'auditors'; readonly label: string }
  | { readonly kind: 'signer-not-server'; readonly label: string }
  | { readonly kind: 'unknown-upstream'; readonly label: string; readonly upstream: string }
  | { readonly kind: 'upstream-loop'; readonly labels: readonly string[] }
  | { readonly kind: 'upstream-not-signer'; readonly label: string; readonly upstream: string }
  | { readonly kind: 'unsigned-upstream'; readonly label: string };

/** Whether the analysing provider takes part: listed ON, listed OFF (leaving), or not listed. */
export type Membership = 'on' | 'off' | 'absent';

export interface HsyncAnalysis {
  readonly zone: Fqdn;
  readonly self: Fqdn;
  readonly membership: Membership;
  /** Our own entry, when listed (the first one, if the identity is listed twice). */
  readonly me: Provider | undefined;
  /** Every readable HSYNC entry, ordered by label then identity. */
  readonly providers: readonly Provider[];
  /** The providers other than ourselves, ON and OFF alike. */
  readonly peers: readonly Provider[];
  readonly params: HsyncParams;
  /** The zone names signers: it is DNSSEC-signed by providers. */
  readonly signed: boolean;
  readonly problems: readonly HsyncProblem[];
}

export interface HsyncInput {
  readonly zone: Fqdn;
  /** Our provider identity. */
  readonly self: Fqdn;
  /** RDATA of each apex HSYNC record. */
  readonly hsync: readonly Uint8Array[];
  /** RDATA of each apex HSYNCPARAM record (normally zero or one). */
  readonly hsyncparam: readonly Uint8Array[];
}

const byLabel = (a: Provider, b: Provider): number =>
  a.label < b.label ? -1 : a.label > b.label ? 1 : a.identity < b.identity ? -1 : a.identity > b.identity ? 1 : 0;

function reasonOf(e: unknown): string {
  if (e instanceof DnsError) return e.message;
  throw e;
}

function readParams(rdatas: readonly Uint8Array[], problems: HsyncProblem[]): HsyncParams {
  if (rdatas.length > 1) problems.push({ kind: 'several-hsyncparam', count: rdatas.length });
  const first = rdatas[0];
  if (first !== undefined) {
    try {
      return hsyncParamsView(decodeRdata('HSYNCPARAM', first).params);
    } catch (e) {
      problems.push({ kind: 'bad-hsyncparam', reason: reasonOf(e) });
    }
  }
  return hsyncParamsView([]);
}

interface Entry {
  label: string;
  identity: Fqdn;
  state: HsyncState;
  upstream: string | null;
}

function readEntries(rdatas: readonly Uint8Array[], problems: HsyncProblem[]): Entry[] {
  const out: Entry[] = [];
  rdatas.forEach((rdata, index) => {
    let v;
    try {
      v = hsyncView(rdata);
    } catch (e) {
      problems.push({ kind: 'bad-hsync', index, reason: reasonOf(e) });
      return;
    }
    if (v.state !== 'ON' && v.state !== 'OFF') {
      problems.push({ kind: 'bad-hsync', index, reason: `state ${v.state} is neither ON (1) nor OFF (0)` });
      return;
    }
    if (v.label === undefined || v.label === '' || v.identity === undefined) {
      problems.push({ kind: 'bad-hsync', index, reason: 'label or identity missing' });
      return;
    }
    const upstream = v.upstream === undefined || v.upstream === '.' || v.upstream === '' ? null : v.upstream;
    out.push({ label: v.label, identity: v.identity, state: v.state, upstream });
  });
  return out;
}

function groupBy<K>(entries: readonly Entry[], key: (e: Entry) => K): Map<K, Entry[]> {
  const m = new Map<K, Entry[]>();
  for (const e of entries) {
    const list = m.get(key(e));
    if (list === undefined) m.set(key(e), [e]);
    else list.push(e);
  }
  return m;
}

function checkUpstreams(providers: readonly Provider[], signed: boolean, problems: HsyncProblem[]): void {
  const byLabelMap = new Map(providers.map((p) => [p.label, p]));
  for (const p of providers) {
    if (p.upstream === null) {
      if (signed && !p.roles.signer) problems.push({ kind: 'unsigned-upstream', label: p.label });
      continue;
    }
    const up = byLabelMap.get(p.upstream);
    if (up === undefined) problems.push({ kind: 'unknown-upstream', label: p.label, upstream: p.upstream });
    else if (signed && !up.roles.signer) problems.push({ kind: 'upstream-not-signer', label: p.label, upstream: p.upstream });
  }
  // Each provider has one upstream, so a loop is a cycle in a functional graph: walk from
  // every provider, and report each cycle once (from its smallest label).
  const reported = new Set<string>();
  for (const start of providers) {
    const path: string[] = [];
    const onPath = new Set<string>();
    let at: Provider | undefined = start;
    while (at !== undefined && !onPath.has(at.label) && !reported.has(at.label)) {
      path.push(at.label);
      onPath.add(at.label);
      at = at.upstream === null ? undefined : byLabelMap.get(at.upstream);
    }
    if (at === undefined || reported.has(at.label)) continue;
    const cycle = path.slice(path.indexOf(at.label));
    for (const l of cycle) reported.add(l);
    const first = cycle.indexOf([...cycle].sort()[0] as string);
    problems.push({ kind: 'upstream-loop', labels: [...cycle.slice(first), ...cycle.slice(0, first)] });
  }
}

/** Analyses a zone's apex HSYNC + HSYNCPARAM RDATA from the point of view of provider `self`. */
export function analyseHsync(input: HsyncInput): HsyncAnalysis {
  const problems: HsyncProblem[] = [];
  const params = readParams(input.hsyncparam, problems);
  const entries = readEntries(input.hsync, problems);

  for (const [label, list] of groupBy(entries, (e) => e.label)) {
    if (list.length > 1) problems.push({ kind: 'duplicate-label', label, identities: list.map((e) => e.identity) });
  }
  for (const [identity, list] of groupBy(entries, (e) => e.identity)) {
    if (list.length > 1) problems.push({ kind: 'duplicate-identity', identity, labels: list.map((e) => e.label) });
  }
  const labels = new Set(entries.map((e) => e.label));
  for (const param of ['servers', 'signers', 'auditors'] as const) {
    for (const label of params[param]) if (!labels.has(label)) problems.push({ kind: 'unknown-label', param, label });
  }
  const servers = new Set(params.servers);
  const signers = new Set(params.signers);
  const auditors = new Set(params.auditors);
  if (servers.size > 0) {
    for (const label of params.signers) if (!servers.has(label)) problems.push({ kind: 'signer-not-server', label });
  }

  const providers = entries
    .map(
      (e): Provider => ({
        ...e,
        roles: { server: servers.size === 0 || servers.has(e.label), signer: signers.has(e.label), auditor: auditors.has(e.label) },
      }),
    )
    .sort(byLabel);
  const signed = signers.size > 0;
  checkUpstreams(providers, signed, problems);

  const me = providers.find((p) => p.identity === input.self);
  return {
    zone: input.zone,
    self: input.self,
    membership: me === undefined ? 'absent' : me.state === 'ON' ? 'on' : 'off',
    me,
    providers,
    peers: providers.filter((p) => p.identity !== input.self),
    params,
    signed,
    problems,
  };
}

export type HsyncChange =
  | { readonly kind: 'added'; readonly provider: Provider }
  | { readonly kind: 'removed'; readonly provider: Provider }
  | { readonly kind: 'changed'; readonly before: Provider; readonly after: Provider; readonly fields: readonly ProviderField[] }
  | { readonly kind: 'policy'; readonly field: PolicyField; readonly before: string; readonly after: string };

export type ProviderField = 'label' | 'state' | 'upstream' | 'server' | 'signer' | 'auditor';
export type PolicyField = 'nsmgmt' | 'parentsync' | 'signed';

function providerFields(a: Provider, b: Provider): ProviderField[] {
  const out: ProviderField[] = [];
  if (a.label !== b.label) out.push('label');
  if (a.state !== b.state) out.push('state');
  if (a.upstream !== b.upstream) out.push('upstream');
  for (const role of ['server', 'signer', 'auditor'] as const) if (a.roles[role] !== b.roles[role]) out.push(role);
  return out;
}

/**
 * What changed between two analyses of one zone: providers (matched by identity, the name a
 * peer is known by) added, removed or changed, and zone policy changes. Empty when equal.
 */
export function diffHsync(before: HsyncAnalysis, after: HsyncAnalysis): HsyncChange[] {
  const out: HsyncChange[] = [];
  const old = new Map(before.providers.map((p) => [p.identity, p]));
  const now = new Map(after.providers.map((p) => [p.identity, p]));
  for (const [id, p] of old) if (!now.has(id)) out.push({ kind: 'removed', provider: p });
  for (const [id, p] of now) {
    const q = old.get(id);
    if (q === undefined) {
      out.push({ kind: 'added', provider: p });
      continue;
    }
    const fields = providerFields(q, p);
    if (fields.length > 0) out.push({ kind: 'changed', before: q, after: p, fields });
  }
  for (const field of ['nsmgmt', 'parentsync'] as const) {
    if (before.params[field] !== after.params[field]) out.push({ kind: 'policy', field, before: before.params[field], after: after.params[field] });
  }
  if (before.signed !== after.signed) out.push({ kind: 'policy', field: 'signed', before: String(before.signed), after: String(after.signed) });
  return out;
}

/** One line per problem, for logs and `mpdns ctl`. */
export function problemText(p: HsyncProblem): string {
  switch (p.kind) {
    case 'bad-hsync':
      return `HSYNC record ${p.index + 1}: ${p.reason}`;
    case 'bad-hsyncparam':
      return `HSYNCPARAM: ${p.reason}`;
    case 'several-hsyncparam':
      return `${p.count} HSYNCPARAM records at the apex (one expected; the first is used)`;
    case 'duplicate-label':
      return `label "${p.label}" is used by ${p.identities.join(', ')}`;
    case 'duplicate-identity':
      return `identity ${p.identity} is listed ${p.labels.length} times (labels ${p.labels.join(', ')})`;
    case 'unknown-label':
      return `HSYNCPARAM ${p.param} names "${p.label}", which no HSYNC record has`;
    case 'signer-not-server':
      return `signer "${p.label}" is not in servers`;
    case 'unknown-upstream':
      return `"${p.label}" pulls from upstream "${p.upstream}", which no HSYNC record has`;
    case 'upstream-loop':
      return `upstreams form a loop: ${[...p.labels, p.labels[0]].join(' -> ')}`;
    case 'upstream-not-signer':
      return `"${p.label}" pulls the signed zone from "${p.upstream}", which is not a signer`;
    case 'unsigned-upstream':
      return `"${p.label}" does not sign this signed zone but pulls from the owner (upstream "."): it would serve unsigned data`;
    default: {
      const never: never = p;
      return never;
    }
  }
}
