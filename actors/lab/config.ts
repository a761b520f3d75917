// The lab's configuration file (lab.yaml): zones with their HSYNC providers and roles, and the
// providers with their identities and nameservers. Validated whole; every problem reported.
import { ConfigError, readYaml, topReader } from '../config-reader.ts';
import type { LabConfig, LabProvider, LabZone } from './lab.ts';

const LABEL = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Validates a parsed lab.yaml; throws ConfigError listing every problem. */
export function labConfig(doc: unknown, file: string): LabConfig {
  const problems: string[] = [];
  const r = topReader(doc, file, problems);
  r.unknownKeys(['zones', 'providers']);
  const providers: LabProvider[] = [];
  for (const p of r.list('providers')) {
    p.unknownKeys(['label', 'identity', 'nameservers', 'upstream', 'signs']);
    const label = p.string('label', true);
    if (label !== undefined && !LABEL.test(label)) problems.push(`${p.path}.label: "${label}" is not a label (a-z, 0-9, -)`);
    const identity = p.name('identity');
    const nameservers = (p.strings('nameservers') ?? []).map((n) => (n.endsWith('.') ? n : `${n}.`));
    const upstream = p.string('upstream', false) ?? 'owner';
    const signs = p.bool('signs', false);
    if (label !== undefined && identity !== undefined) providers.push({ label, identity, nameservers, upstream, signs });
  }
  const labels = providers.map((p) => p.label);
  for (const [i, l] of labels.entries()) if (labels.indexOf(l) !== i) problems.push(`providers: label "${l}" is used twice`);
  const ids = providers.map((p) => p.identity);
  for (const [i, id] of ids.entries()) if (ids.indexOf(id) !== i) problems.push(`providers: identity ${id} is used twice`);
  for (const p of providers) {
    if (p.upstream !== 'owner' && !labels.includes(p.upstream)) problems.push(`providers: "${p.label}" has upstream "${p.upstream}", neither owner nor a provider`);
  }
  const zones: LabZone[] = [];
  for (const z of r.list('zones')) {
    z.unknownKeys(['name', 'hsync', 'servers', 'signers', 'nsmgmt', 'parentsync']);
    const name = z.name('name');
    const hsync = z.strings('hsync') ?? [];
    const servers = z.obj['servers'] === undefined ? hsync : (z.strings('servers') ?? []);
    const signers = z.strings('signers') ?? [];
    for (const [key, list] of [['hsync', hsync], ['servers', servers], ['signers', signers]] as const) {
      for (const l of list) if (!labels.includes(l)) problems.push(`${z.path}.${key}: "${l}" is not a provider`);
    }
    const nsmgmt = z.oneOf('nsmgmt', ['owner', 'agent'] as const, 'owner');
    const parentsync = z.oneOf('parentsync', ['owner', 'agent'] as const, 'owner');
    if (name !== undefined) zones.push({ name, hsync, servers, signers, nsmgmt, parentsync });
  }
  if (zones.length === 0) problems.push('zones: at least one zone is needed');
  if (providers.length === 0) problems.push('providers: at least one provider is needed');
  if (problems.length > 0) throw new ConfigError(file, problems);
  return { zones, providers };
}

/** Reads and validates a lab configuration file. */
export async function loadLabConfig(file: string): Promise<LabConfig> {
  return labConfig(await readYaml(file), file);
}
