// Inline signing for `mpdns serve --sign`: a zone's keys from a key directory, the zone signed
// with them (worker threads optional), and the signed zone served with an IXFR journal.
import { SignedZone, SignedZoneSource, type Denial } from '../dnssec/index.ts';
import { writeKeyFiles, zoneKeys } from '../files/keydir.ts';
import type { Fqdn } from '../name.ts';
import type { RR } from '../rr.ts';
import { serialAdd, serialGt, serialMax } from '../serial.ts';
import { soaWithSerial } from '../rdata/soa.ts';
import { RRType } from '../types.ts';
import type { Zone, ZoneDiff } from '../zone.ts';
import { diffZones } from '../zone-diff.ts';
import { Journal } from './journal.ts';
import type { UpdateOutcome } from './primary.ts';
import { SignPool } from './sign-pool.ts';

/**
 * Inline signing for `mpdns serve --sign`: the zone's keys from `keyDir` (a KSK and a ZSK are
 * generated, and written there after signing succeeded, when it holds none), and the zone signed
 * with them. DNSKEY records in the
 * zone other than this signer's are published as foreign keys (multi-signer model 2).
 */
export async function signForServing(
  origin: Fqdn,
  records: readonly RR[],
  keyDir: string,
  opts: { algorithm?: string; denial?: Denial; threads?: number } = {},
): Promise<{ zone: SignedZone; generatedKeys: string[] }> {
  const { keys, publishOnly, generated } = await zoneKeys({
    origin,
    keyDir,
    ...(opts.algorithm !== undefined ? { algorithm: opts.algorithm } : {}),
    csk: false,
  });
  const cfg = { origin, keys, foreignDnskeys: publishOnly, denial: opts.denial ?? { kind: 'nsec' as const } };
  let zone: SignedZone;
  if ((opts.threads ?? 1) > 1) {
    const pool = new SignPool(keys, (opts.threads ?? 2) - 1);
    try {
      zone = await SignedZone.signParallel(records, cfg, pool);
    } finally {
      await pool.close();
    }
  } else {
    zone = SignedZone.sign(records, cfg);
  }
  // Generated keys are written only once the zone signed with them, as `mpdns sign` does.
  const generatedKeys = generated ? [...(await writeKeyFiles(keyDir, keys)).bases] : [];
  return { zone, generatedKeys };
}

/**
 * A zone served signed (`mpdns serve --sign`): the server's ZoneSource over the signed zone,
 * with PrimaryZone's update rule (a change is taken only when the serial grew); an update is
 * applied as a diff and re-signed incrementally, and the signed records it removed and added
 * go into an IXFR journal.
 */
export class InlineSignedZone extends SignedZoneSource {
  #unsigned: Zone;
  readonly journal: Journal;

  private constructor(unsigned: Zone, signed: SignedZone, journalEntries = 100) {
    super(signed);
    this.#unsigned = unsigned;
    this.journal = new Journal({ maxEntries: journalEntries });
  }

  diffsSince(serial: number): readonly ZoneDiff[] | undefined {
    return this.journal.since(serial);
  }

  static async create(
    unsigned: Zone,
    keyDir: string,
    opts: { algorithm?: string; denial?: Denial; threads?: number; journal?: number } = {},
  ): Promise<{ zone: InlineSignedZone; generatedKeys: string[] }> {
    const { zone, generatedKeys } = await signForServing(unsigned.origin, [...unsigned.records()], keyDir, opts);
    return { zone: new InlineSignedZone(unsigned, zone, opts.journal), generatedKeys };
  }

  /**
   * Takes a re-read unsigned zone; re-signs what changed when the owner's serial grew. The
   * served serial is max(served + 1, owner's serial) (docs/design.md): refresh() may have raised it.
   */
  update(next: Zone): UpdateOutcome & { signatures?: number } {
    const old = this.#unsigned;
    const d = diffZones(old, next);
    const changed = d.removed.some((r) => r.type !== RRType.SOA) || d.added.some((r) => r.type !== RRType.SOA);
    if (next.serial === old.serial) {
      return changed
        ? { result: 'serial-not-increased', serial: old.serial, newSerial: next.serial }
        : { result: 'unchanged', serial: old.serial };
    }
    if (!serialGt(next.serial, old.serial)) return { result: 'serial-not-increased', serial: old.serial, newSerial: next.serial };
    const served = this.soa();
    const fromSerial = this.serial;
    const toSerial = serialMax(serialAdd(fromSerial, 1), next.serial);
    const nextSoa = soaWithSerial(next.soaRR(), toSerial);
    const st = this.signed.applyWithChanges({
      removed: [served, ...d.removed.filter((r) => r.type !== RRType.SOA)],
      added: [nextSoa, ...d.added.filter((r) => r.type !== RRType.SOA)],
    });
    this.journal.append({ fromSerial, toSerial, removed: st.removed, added: st.added });
    this.#unsigned = next;
    return { result: 'updated', fromSerial, toSerial, removed: d.removed.length, added: d.added.length, signatures: st.signatures };
  }

  /**
   * Renews signatures close to expiry; when any were renewed the served serial goes up by one
   * (so secondaries transfer them) and the change is journalled. Returns the signatures made.
   */
  refresh(now: number = Math.floor(Date.now() / 1000)): number {
    const r = this.signed.refreshWithChanges(now);
    if (r.signatures === 0) return 0;
    const fromSerial = this.serial;
    const toSerial = serialAdd(fromSerial, 1);
    const served = this.soa();
    const s = this.signed.applyWithChanges({ removed: [served], added: [soaWithSerial(served, toSerial)] }, now);
    // Compose the two changes: what the second one removes of the first one's additions cancels.
    const key = (x: RR): string => `${x.name}|${x.type}|${x.ttl}|${Buffer.from(x.rdata).toString('hex')}`;
    const added = new Map(r.added.map((x) => [key(x), x]));
    const removed = new Map(r.removed.map((x) => [key(x), x]));
    for (const x of s.removed) {
      if (!added.delete(key(x))) removed.set(key(x), x);
    }
    for (const x of s.added) added.set(key(x), x);
    this.journal.append({ fromSerial, toSerial, removed: [...removed.values()], added: [...added.values()] });
    return r.signatures + s.signatures;
  }
}
