// mpdns sign: signs a zone file with the keys in a key directory (generating a KSK+ZSK, or a
// CSK, when it holds none for the zone), and writes the signed zone and the DS set atomically.
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  algorithmName,
  DnssecError,
  fastRdataText,
  generateKey,
  keyTag,
  KSK_FLAGS,
  keyRoleAt,
  loadKeyDirTimed,
  parseKeyFile,
  parseSigningAlgorithm,
  SignedZone,
  SignedZoneSource,
  SignPool,
  writeKeyFiles,
  ZSK_FLAGS,
  type Denial,
  type SigningKey,
} from '../dns/dnssec/index.ts';
import { DnsError } from '../dns/errors.ts';
// The three light files of dns/net this needs, not its index: `mpdns sign` should not load the
// server and socket code at start-up (about 100 ms of tsx compiling and module loading).
import { Journal, type JournalDiff } from '../dns/net/journal.ts';
import type { UpdateOutcome } from '../dns/net/primary.ts';
import { soaWithSerial } from '../dns/net/zone-source.ts';
import { serialAdd, serialGt, serialMax } from '../dns/serial.ts';
import type { Zone } from '../dns/zone.ts';
import { diffZones } from '../dns/zone-diff.ts';
import { parseRecords } from '../dns/zonefile/index.ts';
import { parseName, type Fqdn } from '../dns/name.ts';
import { genericText, rdataToText } from '../dns/rdata/index.ts';
import type { RR } from '../dns/rr.ts';
import { classToString, RRType, typeToString } from '../dns/types.ts';

const USAGE = `usage: mpdns sign --zone FILE --origin NAME --key-dir DIR [options]

  --zone FILE              unsigned zone file
  --origin NAME            zone apex
  --key-dir DIR            BIND-style K<zone>+<alg>+<tag>.key/.private files; keys are
                           generated here when it holds none for the zone
  --algorithm ALG          ed25519 (default) or ecdsap256, for generated keys
  --csk                    generate one combined signing key instead of a KSK and a ZSK
  --nsec3                  NSEC3 (iterations 0, empty salt) instead of NSEC
  --nsec3-salt HEX         NSEC3 salt (default empty)
  --nsec3-iterations N     NSEC3 iterations (default 0, RFC 9276)
  --opt-out                NSEC3 opt-out for unsigned delegations
  --foreign-dnskeys FILE   other signers' DNSKEY records: published, never used (RFC 8901 model 2)
  --out FILE               signed zone (default: ZONE.signed)
  --ds-out FILE            DS records of every KSK (default: dsset-ORIGIN next to --out)
  --threads N              signing threads, this one included (default 1)
  --validity DAYS          signature validity (default 14)
  --json                   print the summary as JSON
`;

export interface SignCommandResult {
  readonly out: string;
  readonly dsOut: string;
  readonly records: number;
  readonly signatures: number;
  readonly generatedKeys: readonly string[];
  readonly ms: { readonly load: number; readonly sign: number; readonly write: number };
}

class UsageError extends Error {
  override name = 'UsageError';
}

function fail(message: string): never {
  throw new UsageError(message);
}

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        zone: { type: 'string' },
        origin: { type: 'string' },
        'key-dir': { type: 'string' },
        algorithm: { type: 'string' },
        csk: { type: 'boolean', default: false },
        nsec3: { type: 'boolean', default: false },
        'nsec3-salt': { type: 'string' },
        'nsec3-iterations': { type: 'string' },
        'opt-out': { type: 'boolean', default: false },
        'foreign-dnskeys': { type: 'string' },
        out: { type: 'string' },
        'ds-out': { type: 'string' },
        threads: { type: 'string' },
        validity: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`mpdns sign: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    const zone = values.zone ?? fail('--zone is required');
    const originText = values.origin ?? fail('--origin is required');
    const keyDir = values['key-dir'] ?? fail('--key-dir is required');
    let origin: Fqdn;
    try {
      origin = parseName(originText.endsWith('.') ? originText : `${originText}.`);
    } catch (err) {
      fail(`--origin: ${(err as Error).message}`);
    }
    const threads = values.threads === undefined ? 1 : Number(values.threads);
    if (!Number.isInteger(threads) || threads < 1 || threads > Math.max(64, availableParallelism())) {
      fail(`--threads must be a positive integer, not "${values.threads}"`);
    }
    const iterations = values['nsec3-iterations'] === undefined ? 0 : Number(values['nsec3-iterations']);
    if (!Number.isInteger(iterations) || iterations < 0 || iterations > 65535) fail('--nsec3-iterations must be 0..65535');
    const saltHex = values['nsec3-salt'] ?? '';
    if (!/^([0-9a-fA-F]{2})*$/.test(saltHex) || saltHex.length > 510) fail('--nsec3-salt must be hex octets');
    const validityDays = values.validity === undefined ? 14 : Number(values.validity);
    if (!(validityDays > 0 && validityDays <= 365)) fail('--validity must be 1..365 days');
    const nsec3 = values.nsec3 || values['opt-out'] || values['nsec3-salt'] !== undefined || values['nsec3-iterations'] !== undefined;
    const denial: Denial = nsec3
      ? { kind: 'nsec3', iterations, salt: new Uint8Array(Buffer.from(saltHex, 'hex')), optOut: values['opt-out'] }
      : { kind: 'nsec' };
    const out = values.out ?? `${zone}.signed`;
    const result = await signCommand({
      zone,
      origin,
      keyDir,
      ...(values.algorithm !== undefined ? { algorithm: values.algorithm } : {}),
      csk: values.csk,
      denial,
      ...(values['foreign-dnskeys'] !== undefined ? { foreignDnskeys: values['foreign-dnskeys'] } : {}),
      out,
      dsOut: values['ds-out'] ?? join(dirname(out), `dsset-${origin}`),
      threads,
      validityDays,
    });
    if (values.json) process.stdout.write(JSON.stringify(result) + '\n');
    else {
      for (const f of result.generatedKeys) process.stdout.write(`generated ${f}\n`);
      process.stdout.write(
        `signed ${origin}: ${result.records} records, ${result.signatures} signatures -> ${result.out}; DS -> ${result.dsOut} ` +
          `(load ${result.ms.load} ms, sign ${result.ms.sign} ms, write ${result.ms.write} ms)\n`,
      );
    }
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`mpdns sign: ${err.message}\n`);
      return 2;
    }
    if (err instanceof DnsError) {
      process.stderr.write(`mpdns sign: ${err.message}\n`);
      return 1;
    }
    const e = err as NodeJS.ErrnoException;
    if (typeof e.code === 'string' && typeof e.path === 'string') {
      process.stderr.write(`mpdns sign: ${e.path}: ${e.message}\n`);
      return 1;
    }
    throw err;
  }
}

export interface SignCommandOptions {
  readonly zone: string;
  readonly origin: Fqdn;
  readonly keyDir: string;
  readonly algorithm?: string;
  readonly csk: boolean;
  readonly denial: Denial;
  readonly foreignDnskeys?: string;
  readonly out: string;
  readonly dsOut: string;
  readonly threads: number;
  readonly validityDays: number;
}

/**
 * Loads or generates the zone's keys. By their BIND timing, active keys sign and keys that are
 * published but not (or no longer) active are only published. Generated keys are written only
 * after signing succeeds.
 */
async function zoneKeys(opts: SignCommandOptions): Promise<{ keys: SigningKey[]; publishOnly: Uint8Array[]; generated: boolean }> {
  // A key directory that does not exist yet is created: keys are generated into it.
  await mkdir(opts.keyDir, { recursive: true });
  const loaded = await loadKeyDirTimed(opts.keyDir, opts.origin);
  const wanted = opts.algorithm === undefined ? undefined : parseSigningAlgorithm(opts.algorithm);
  if (loaded.length > 0) {
    const now = Math.floor(Date.now() / 1000);
    const keys = loaded.filter((k) => keyRoleAt(k.timing, now) === 'sign').map((k) => k.key);
    const publishOnly = loaded.filter((k) => keyRoleAt(k.timing, now) === 'publish').map((k) => k.key.dnskey);
    const first = keys[0];
    if (first === undefined) throw new DnssecError(`${opts.keyDir}: no active key for ${opts.origin} (by the keys' Activate/Inactive/Delete times)`);
    if (wanted !== undefined && first.algorithm !== wanted) {
      throw new DnssecError(
        `${opts.keyDir}: key ${first.keyTag} for ${opts.origin} is ${algorithmName(first.algorithm)}, --algorithm asks for ${algorithmName(wanted)}`,
      );
    }
    return { keys, publishOnly, generated: false };
  }
  const alg = wanted ?? 15;
  const generated = opts.csk
    ? [generateKey(opts.origin, alg, KSK_FLAGS)]
    : [generateKey(opts.origin, alg, KSK_FLAGS), generateKey(opts.origin, alg, ZSK_FLAGS)];
  return { keys: generated, publishOnly: [], generated: true };
}

/** Other signers' DNSKEYs (one RR per line); each must be for the zone and of our algorithm. */
async function readForeign(file: string, origin: Fqdn, algorithm: number): Promise<Uint8Array[]> {
  const text = await readFile(file, 'utf8');
  const out: Uint8Array[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.replace(/;.*$/, '').trim() === '') return;
    const where = `${file}:${i + 1}`;
    const { zone, dnskey } = parseKeyFile(line, where);
    if (zone !== origin) throw new DnssecError(`${where}: foreign DNSKEY ${keyTag(dnskey)} is for ${zone}, not ${origin}`);
    if (dnskey[3] !== algorithm) {
      throw new DnssecError(
        `${where}: foreign DNSKEY ${keyTag(dnskey)} uses algorithm ${algorithmName(dnskey[3] ?? 0)}, this signer ${algorithmName(algorithm)}: ` +
          'every algorithm in the DNSKEY RRset must sign every RRset (RFC 4035 §2.2)',
      );
    }
    out.push(dnskey);
  });
  return out;
}

/**
 * Private-use types (RFC 6895: 65280-65534; HSYNC, HSYNCPARAM, CHUNK, JWK) are written in the
 * RFC 3597 form, so that the signed zone loads in BIND, NSD, Knot and ldns, which do not know them.
 */
const privateUse = (type: number): boolean => type >= 0xff00 && type <= 0xfffe;
const PRIVATE_MNEMONICS = new Set(
  Object.values(RRType).filter(privateUse).map((t) => typeToString(t)),
);
/** Type-list fields (RRSIG type covered, NSEC/NSEC3 bitmaps) with private types as TYPEnnn. */
const TYPE_LIST_START: ReadonlyMap<number, number> = new Map([
  [RRType.RRSIG, 0],
  [RRType.NSEC, 1],
  [RRType.NSEC3, 5],
]);

function rdataTextForOthers(type: number, rdata: Uint8Array): string {
  const text = fastRdataText(type, rdata);
  const start = TYPE_LIST_START.get(type);
  if (start === undefined) return text;
  const fields = text.split(' ');
  const end = type === RRType.RRSIG ? 1 : fields.length;
  let changed = false;
  for (let i = start; i < end; i++) {
    const f = fields[i] as string;
    if (PRIVATE_MNEMONICS.has(f)) {
      fields[i] = `TYPE${RRType[f as keyof typeof RRType]}`;
      changed = true;
    }
  }
  return changed ? fields.join(' ') : text;
}

/**
 * Presentation text of RRs, one per line, as UTF-8 in chunks of about `chunk` bytes. Lines are
 * written straight into one reused buffer (no per-line or per-chunk strings for the GC), so a
 * yielded chunk is valid only until the next one is asked for.
 */
export function* formatZone(records: Iterable<RR>, chunk = 1 << 20): Generator<Uint8Array> {
  const buf = Buffer.allocUnsafe(chunk);
  let o = 0;
  for (const r of records) {
    const line = privateUse(r.type)
      ? `${r.name}\t${r.ttl}\t${classToString(r.class)}\tTYPE${r.type}\t${genericText(r.rdata)}\n`
      : `${r.name}\t${r.ttl}\t${r.class === 1 ? 'IN' : classToString(r.class)}\t${typeToString(r.type)}\t${rdataTextForOthers(r.type, r.rdata)}\n`;
    if (buf.length - o < line.length * 3) {
      if (o > 0) yield buf.subarray(0, o);
      o = 0;
      if (buf.length < line.length * 3) {
        yield Buffer.from(line);
        continue;
      }
    }
    o += buf.write(line, o, 'utf8');
  }
  if (o > 0) yield buf.subarray(0, o);
}

/** Writes every file to a temporary name, then renames them all; on error removes the temps. */
async function writeAtomically(files: readonly { path: string; chunks: Iterable<Uint8Array | string> }[]): Promise<void> {
  const temps = files.map((f) => ({ ...f, tmp: `${f.path}.tmp-${process.pid}` }));
  try {
    for (const f of temps) {
      const fd = openSync(f.tmp, 'w');
      try {
        for (const c of f.chunks) {
          if (typeof c === 'string') writeSync(fd, c);
          else writeSync(fd, c);
        }
      } finally {
        closeSync(fd);
      }
    }
    for (const f of temps) await rename(f.tmp, f.path);
  } catch (err) {
    await Promise.all(temps.map((f) => rm(f.tmp, { force: true })));
    throw err;
  }
}

/** The work of `mpdns sign`, callable from tests and benchmarks. */
export async function signCommand(opts: SignCommandOptions): Promise<SignCommandResult> {
  const t0 = performance.now();
  const { keys, publishOnly, generated } = await zoneKeys(opts);
  const foreign = [
    ...publishOnly,
    ...(opts.foreignDnskeys === undefined ? [] : await readForeign(opts.foreignDnskeys, opts.origin, (keys[0] as SigningKey).algorithm)),
  ];
  // The workers start (a V8 isolate each, keys imported) while this thread reads the zone.
  // This thread signs too (signParallel), so N threads are N - 1 workers.
  const pool = opts.threads > 1 ? new SignPool(keys, opts.threads - 1) : undefined;
  let signed: SignedZone;
  let records: RR[];
  let t1: number;
  try {
    records = await readZoneRecords(opts.zone, opts.origin);
    t1 = performance.now();
    const cfg = {
      origin: opts.origin,
      keys,
      foreignDnskeys: foreign,
      denial: opts.denial,
      policy: { inceptionOffset: -3600, validity: Math.round(opts.validityDays * 86400), jitter: Math.round(opts.validityDays * 86400 * 0.1), seed: 0x6d70646e },
    };
    try {
      signed = pool !== undefined ? await SignedZone.signParallel(records, cfg, pool) : SignedZone.sign(records, cfg);
    } catch (err) {
      if (err instanceof DnsError) throw new DnssecError(`${opts.zone}: ${err.message}`, { cause: err });
      throw err;
    }
  } finally {
    await pool?.close();
  }
  const t2 = performance.now();
  const ds = signed
    .dsSet(2)
    .map((d) => `${opts.origin}\t3600\tIN\tDS\t${rdataToText(RRType.DS, d)}\n`)
    .join('');
  const generatedKeys: string[] = [];
  if (generated) for (const k of keys) generatedKeys.push(await writeKeyFiles(opts.keyDir, k));
  await writeAtomically([
    { path: opts.out, chunks: formatZone(signed.records()) },
    { path: opts.dsOut, chunks: [ds] },
  ]);
  const t3 = performance.now();
  return {
    out: opts.out,
    dsOut: opts.dsOut,
    records: records.length,
    signatures: signed.stats.signatures,
    generatedKeys,
    ms: { load: Math.round(t1 - t0), sign: Math.round(t2 - t1), write: Math.round(t3 - t2) },
  };
}

/** Reads a zone file (dns/zonefile: $INCLUDE relative to it) into RRs, in file order. */
export async function readZoneRecords(file: string, origin: Fqdn): Promise<RR[]> {
  const text = await readFile(file, 'utf8');
  return parseRecords(text, { origin, file, readFile: (path) => readFileSync(path, 'utf8') });
}

/**
 * Inline signing for `mpdns serve --sign`: the zone's keys from `keyDir` (a KSK and a ZSK are
 * generated there when it holds none), and the zone signed with them. DNSKEY records in the
 * zone other than this signer's are published as foreign keys (multi-signer model 2).
 */
export async function signForServing(
  origin: Fqdn,
  records: readonly RR[],
  keyDir: string,
  opts: { algorithm?: string; denial?: Denial; threads?: number } = {},
): Promise<{ zone: SignedZone; generatedKeys: string[] }> {
  const { keys, publishOnly, generated } = await zoneKeys({
    zone: '<serve>',
    origin,
    keyDir,
    ...(opts.algorithm !== undefined ? { algorithm: opts.algorithm } : {}),
    csk: false,
    denial: opts.denial ?? { kind: 'nsec' },
    out: '',
    dsOut: '',
    threads: opts.threads ?? 1,
    validityDays: 14,
  });
  const generatedKeys: string[] = [];
  if (generated) for (const k of keys) generatedKeys.push(await writeKeyFiles(keyDir, k));
  const cfg = { origin, keys, foreignDnskeys: publishOnly, denial: opts.denial ?? { kind: 'nsec' as const } };
  if ((opts.threads ?? 1) > 1) {
    const pool = new SignPool(keys, (opts.threads ?? 2) - 1);
    try {
      return { zone: await SignedZone.signParallel(records, cfg, pool), generatedKeys };
    } finally {
      await pool.close();
    }
  }
  return { zone: SignedZone.sign(records, cfg), generatedKeys };
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

  diffsSince(serial: number): readonly JournalDiff[] | undefined {
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
   * served serial is max(served + 1, owner's serial) (SPEC §7): refresh() may have raised it.
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
