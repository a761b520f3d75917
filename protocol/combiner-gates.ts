// The combiner's policy gates (SPEC §7): the one place where data from other providers is
// checked. Pure: a verdict per RR from the zone's HSYNC analysis, the originator, the RR, the
// originator's current NS targets (for glue) and this provider's options. Every rule has its
// own reason text naming the rule; docs/combiner.md records the choices made here.
import { isSubdomain, labelCount, parentName, type Fqdn } from '../dns/name.ts';
import { decodeRdata } from '../dns/rdata/codec.ts';
import { CLASS_IN, type RR } from '../dns/rr.ts';
import { RRType, typeToString } from '../dns/types.ts';
import type { HsyncAnalysis, Provider } from './hsync-analysis.ts';

/** RFC 8767's suggested TTL cap and SPEC §7's limit: one week. */
export const DEFAULT_MAX_TTL = 604_800;

/** The types a provider may contribute at the apex. */
export const APEX_TYPES: ReadonlySet<number> = new Set([RRType.NS, RRType.DNSKEY, RRType.CDS, RRType.CDNSKEY, RRType.CSYNC, RRType.KEY]);
/** The types a provider may contribute below the apex, as glue for its in-bailiwick NS targets. */
export const GLUE_TYPES: ReadonlySet<number> = new Set([RRType.A, RRType.AAAA]);
const PARENT_SIGNALS: ReadonlySet<number> = new Set([RRType.CDS, RRType.CDNSKEY, RRType.CSYNC]);

/**
 * accept: store and serve. ignore: store, but this provider does not serve it (it serves but
 * does not sign a signed zone and transfers the signed zone from its upstream). reject: not
 * stored. hold: not stored until an operator approves it (the approval predicate says no more).
 */
export type GateVerdict =
  | { readonly verdict: 'accept' }
  | { readonly verdict: 'ignore'; readonly reason: string }
  | { readonly verdict: 'reject'; readonly reason: string }
  | { readonly verdict: 'hold'; readonly reason: string };

export interface GateOptions {
  /** Largest TTL accepted (default DEFAULT_MAX_TTL). */
  readonly maxTtl?: number;
  /** The DNSKEY algorithm(s) this zone's signers use (RFC 8901 model 2: normally one). */
  readonly dnskeyAlgorithms: readonly number[];
  /**
   * Protected namespaces per provider identity, in addition to the default one (the parent of
   * the identity, e.g. alpha.example. for agent.alpha.example.).
   */
  readonly protectedNamespaces?: ReadonlyMap<Fqdn, readonly Fqdn[]>;
  /** True when this RR from this originator waits for an operator's approval. */
  readonly needsApproval?: (originator: Fqdn, rr: RR) => boolean;
}

export interface GateInput {
  readonly analysis: HsyncAnalysis;
  readonly originator: Fqdn;
  readonly rr: RR;
  /** The NS targets of the same originator's contribution (what its glue may be for). */
  readonly nsTargets: ReadonlySet<Fqdn>;
}

const ACCEPT: GateVerdict = { verdict: 'accept' };
const reject = (rule: string, text: string): GateVerdict => ({ verdict: 'reject', reason: `${rule}: ${text}` });

/** The rules every contribution and every removal must pass: we and the sender take part. */
function membership(analysis: HsyncAnalysis, originator: Fqdn, offAllowed: boolean): GateVerdict | Provider {
  if (analysis.providers.length === 0) return reject('multi-provider', `${analysis.zone} has no HSYNC RRset, it is not a multi-provider zone`);
  if (analysis.membership !== 'on') return reject('membership', `this provider (${analysis.self}) is ${analysis.membership === 'off' ? 'listed OFF' : 'not listed'} in the HSYNC RRset of ${analysis.zone}`);
  const sender = analysis.providers.find((p) => p.identity === originator);
  if (sender === undefined) return reject('sender', `${originator} is not listed in the HSYNC RRset of ${analysis.zone}`);
  if (sender.state === 'OFF' && !offAllowed) return reject('sender', `${originator} is listed OFF in the HSYNC RRset of ${analysis.zone}`);
  return sender;
}

/**
 * Each provider's protected namespaces: the parent of its identity (when that has at least two
 * labels and does not contain the zone) plus the configured ones.
 */
export function protectedNamespaces(analysis: HsyncAnalysis, options: Pick<GateOptions, 'protectedNamespaces'>): Map<Fqdn, Fqdn[]> {
  const out = new Map<Fqdn, Fqdn[]>();
  for (const p of analysis.providers) {
    const spaces: Fqdn[] = [];
    const parent = parentName(p.identity);
    if (parent !== undefined && labelCount(parent) >= 2) spaces.push(parent);
    for (const s of options.protectedNamespaces?.get(p.identity) ?? []) spaces.push(s);
    out.set(
      p.identity,
      spaces.filter((s) => !isSubdomain(analysis.zone, s)),
    );
  }
  return out;
}

/**
 * The provider whose protected namespace holds `target` most specifically (longest match);
 * several when they claim the same namespace; empty when none does.
 */
export function namespaceOwners(target: Fqdn, spaces: ReadonlyMap<Fqdn, readonly Fqdn[]>): Fqdn[] {
  let best = -1;
  let owners: Fqdn[] = [];
  for (const [identity, list] of spaces) {
    for (const s of list) {
      if (!isSubdomain(target, s)) continue;
      const depth = labelCount(s);
      if (depth > best) {
        best = depth;
        owners = [identity];
      } else if (depth === best && !owners.includes(identity)) {
        owners.push(identity);
      }
    }
  }
  return owners;
}

function typeRules(input: GateInput, sender: Provider, options: GateOptions): GateVerdict {
  const { analysis, rr, originator } = input;
  const t = typeToString(rr.type);
  switch (rr.type) {
    case RRType.NS: {
      if (!sender.roles.server) return reject('ns-server', `NS only from a provider in servers, and "${sender.label}" is not`);
      if (analysis.params.nsmgmt !== 'agent') return reject('nsmgmt', `NS only when nsmgmt=agent (it is ${analysis.params.nsmgmt})`);
      const target = decodeRdata('NS', rr.rdata).host;
      const owners = namespaceOwners(target, protectedNamespaces(analysis, options));
      if (owners.length > 0 && !owners.includes(originator)) return reject('namespace', `NS target ${target} lies in the protected namespace of ${owners.join(', ')}`);
      return ACCEPT;
    }
    case RRType.DNSKEY: {
      if (!sender.roles.signer) return reject('dnskey-signer', `DNSKEY only from a provider in signers, and "${sender.label}" is not`);
      const alg = decodeRdata('DNSKEY', rr.rdata).algorithm;
      if (!options.dnskeyAlgorithms.includes(alg)) return reject('dnskey-algorithm', `DNSKEY algorithm ${alg} is not the zone's (${options.dnskeyAlgorithms.join(', ') || 'none known'})`);
      return ACCEPT;
    }
    case RRType.A:
    case RRType.AAAA:
      if (!input.nsTargets.has(rr.name)) return reject('glue', `${t} at ${rr.name} is not glue for an NS target of ${originator}'s contribution`);
      return ACCEPT;
    default:
      if (PARENT_SIGNALS.has(rr.type) && analysis.params.parentsync !== 'agent') return reject('parentsync', `${t} only when parentsync=agent (it is ${analysis.params.parentsync})`);
      return ACCEPT;
  }
}

/** The verdict on one contributed RR (from an add or a replace). */
export function checkRecord(input: GateInput, options: GateOptions): GateVerdict {
  const { analysis, rr, originator } = input;
  const sender = membership(analysis, originator, false);
  if ('verdict' in sender) return sender;
  const t = typeToString(rr.type);
  if (rr.class !== CLASS_IN) return reject('class', `class ${rr.class} is not IN`);
  if (APEX_TYPES.has(rr.type)) {
    if (rr.name !== analysis.zone) return reject('owner', `${t} only at the apex ${analysis.zone}, not at ${rr.name}`);
  } else if (GLUE_TYPES.has(rr.type)) {
    if (rr.name === analysis.zone || !isSubdomain(rr.name, analysis.zone)) return reject('glue', `${t} at ${rr.name} is not below the apex ${analysis.zone} (glue is only for in-bailiwick NS targets)`);
  } else {
    return reject('type', `${t} is not one of NS, DNSKEY, CDS, CDNSKEY, CSYNC, KEY or A/AAAA glue`);
  }
  const maxTtl = options.maxTtl ?? DEFAULT_MAX_TTL;
  if (rr.ttl > maxTtl) return reject('ttl', `TTL ${rr.ttl} is above the limit of ${maxTtl}`);
  const typed = typeRules(input, sender, options);
  if (typed.verdict !== 'accept') return typed;
  if (analysis.signed && analysis.me?.roles.signer !== true) {
    return { verdict: 'ignore', reason: `non-signer: this provider serves but does not sign ${analysis.zone}; it transfers the signed zone from its upstream` };
  }
  if (options.needsApproval?.(originator, rr) === true) return { verdict: 'hold', reason: 'approval: waiting for an operator to approve it' };
  return ACCEPT;
}

/**
 * The verdict on a removal (a delete, or what a replace displaces): an originator may always
 * remove its own data while it is listed in HSYNC, ON or OFF, so a leaving provider can wind down.
 */
export function checkRemoval(analysis: HsyncAnalysis, originator: Fqdn): GateVerdict {
  const sender = membership(analysis, originator, true);
  return 'verdict' in sender ? sender : ACCEPT;
}
