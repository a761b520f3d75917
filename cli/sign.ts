// mpdns sign: signs a zone file with the keys in a key directory (generating a KSK+ZSK, or a
// CSK, when it holds none for the zone), and writes the signed zone and the DS set atomically.
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  algorithmName,
  decodeDnskey,
  DnssecError,
  keyTag,
  parseKeyFile,
  parseSigningAlgorithm,
  publicKeyObject,
  SignedZone,
  type Denial,
  type SigningKey,
} from '../dns/dnssec/index.ts';
import { DnsError } from '../dns/errors.ts';
import { AtomicFile, errnoText, OutputError, readInputFile, readZoneRecords, writeKeyFiles, zoneKeys, type WrittenKeys } from '../dns/files/index.ts';
// The light files of dns/net this needs, not its index: `mpdns sign` should not load the
// server and socket code at start-up (about 100 ms of tsx compiling and module loading).
import { SignPool } from '../dns/net/sign-pool.ts';
import { parseUserName, type Fqdn } from '../dns/name.ts';
import { RRType } from '../dns/types.ts';
import { CLASS_IN, type RR } from '../dns/rr.ts';
import { formatRecord, formatZone } from '../dns/zonefile/index.ts';
import { flagValue, runCommand, threadsFlag, type Parsed } from './args.ts';
import { complain, UsageError } from './errors.ts';

const USAGE = `usage: mpdns sign --zone FILE --origin NAME --key-dir DIR [options]

  --zone FILE              unsigned zone file
  --origin NAME            zone apex
  --key-dir DIR            BIND-style K<zone>+<alg>+<tag>.key/.private files; keys are
                           generated here when it holds none for the zone
  --algorithm ALG          ed25519 (default), ecdsap256 or ecdsap384, for generated keys
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

function fail(message: string): never {
  throw new UsageError(message);
}

const FLAGS = {
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
} as const;

export function run(argv: string[]): Promise<number> {
  return runCommand({ name: 'sign', usage: USAGE, options: FLAGS }, argv, ({ values }) => sign(values));
}

async function sign(values: Parsed<typeof FLAGS>['values']): Promise<number> {
  try {
    const zone = values.zone ?? fail('--zone is required');
    const originText = values.origin ?? fail('--origin is required');
    const keyDir = values['key-dir'] ?? fail('--key-dir is required');
    const origin = flagValue('--origin', originText, parseUserName);
    const threads = values.threads === undefined ? 1 : threadsFlag(values.threads);
    if (values.algorithm !== undefined) {
      try {
        parseSigningAlgorithm(values.algorithm);
      } catch {
        fail(`--algorithm must be ed25519, ecdsap256 or ecdsap384 (or 15, 13, 14), not "${values.algorithm}"`);
      }
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
    const dsOut = values['ds-out'] ?? join(dirname(out), `dsset-${origin}`);
    const result = await signCommand({
      zone,
      origin,
      keyDir,
      ...(values.algorithm !== undefined ? { algorithm: values.algorithm } : {}),
      csk: values.csk,
      denial,
      ...(values['foreign-dnskeys'] !== undefined ? { foreignDnskeys: values['foreign-dnskeys'] } : {}),
      out,
      dsOut,
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
    if (err instanceof DnsError || err instanceof OutputError) {
      complain('sign', err.message);
      return 1;
    }
    const e = err as NodeJS.ErrnoException;
    if (typeof e.code === 'string' && typeof e.path === 'string') {
      complain('sign', `${e.path}: ${errnoText(e)}`);
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

/** Other signers' DNSKEYs (one RR per line); each must be for the zone and of our algorithm. */
async function readForeign(file: string, origin: Fqdn, algorithm: number): Promise<Uint8Array[]> {
  const text = await readInputFile(file, 'the foreign DNSKEY file');
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
    try {
      publicKeyObject(algorithm, decodeDnskey(dnskey).publicKey);
    } catch (err) {
      throw new DnssecError(`${where}: foreign DNSKEY ${keyTag(dnskey)}: ${(err as Error).message}`, { cause: err });
    }
    out.push(dnskey);
  });
  return out;
}

/**
 * Refuses outputs that would overwrite an input or each other (`--out` may be `--zone`: the
 * signed zone replaces it only once complete), and outputs that are directories: found only at
 * commit time, the zone would be written and the DS set not.
 */
async function checkOutputs(opts: SignCommandOptions): Promise<void> {
  const outputs: [string, string][] = [
    ['--out', opts.out],
    ['--ds-out', opts.dsOut],
  ];
  const inputs: [string, string][] = [
    ['--zone', opts.zone],
    ...(opts.foreignDnskeys !== undefined ? [['--foreign-dnskeys', opts.foreignDnskeys] as [string, string]] : []),
  ];
  if (resolve(opts.dsOut) === resolve(opts.out)) fail('--ds-out and --out name the same file');
  for (const [option, path] of outputs) {
    for (const [input, inputPath] of inputs) {
      if (resolve(path) === resolve(inputPath) && !(option === '--out' && input === '--zone')) {
        fail(`${option} and ${input} name the same file`);
      }
    }
    const st = await stat(path).catch(() => undefined);
    if (st?.isDirectory() === true) fail(`${option} ${path}: is a directory`);
  }
}

/** The work of `mpdns sign`, callable from tests and benchmarks. */
export async function signCommand(opts: SignCommandOptions): Promise<SignCommandResult> {
  await checkOutputs(opts);
  const t0 = performance.now();
  const { keys, publishOnly, generated } = await zoneKeys(opts);
  const foreign = [
    ...publishOnly,
    ...(opts.foreignDnskeys === undefined ? [] : await readForeign(opts.foreignDnskeys, opts.origin, (keys[0] as SigningKey).algorithm)),
  ];
  // The workers start (a V8 isolate each, keys imported) while this thread reads the zone.
  // This thread signs too (signParallel), so N threads are N - 1 workers.
  const pool = opts.threads > 1 ? new SignPool(keys, opts.threads - 1) : undefined;
  const files: AtomicFile[] = [];
  let signed: SignedZone;
  let records: RR[];
  let t1: number;
  let t2: number;
  try {
    // Both outputs are created before the work: one that cannot be fails the run at once.
    const out = new AtomicFile(opts.out, { label: '--out' });
    files.push(out);
    const ds = new AtomicFile(opts.dsOut, { label: '--ds-out' });
    files.push(ds);
    records = await readZoneRecords(opts.zone, opts.origin);
    t1 = performance.now();
    const cfg = {
      origin: opts.origin,
      keys,
      foreignDnskeys: foreign,
      denial: opts.denial,
      policy: { inceptionOffset: -3600, validity: Math.round(opts.validityDays * 86400), jitter: Math.round(opts.validityDays * 86400 * 0.1), seed: 0x6d70646e },
    };
    const write = (rrs: Iterable<RR>): void => {
      for (const chunk of formatZone(rrs)) out.write(chunk);
    };
    try {
      // With workers, names are written as soon as they are signed, while the rest is signing.
      signed = pool !== undefined ? await SignedZone.signParallel(records, cfg, pool, undefined, { onReady: write }) : SignedZone.sign(records, cfg);
    } catch (err) {
      if (err instanceof DnsError) throw new DnssecError(`${opts.zone}: ${err.message}`, { cause: err });
      throw err;
    }
    t2 = performance.now();
    if (pool === undefined) write(signed.records());
    for (const rdata of signed.dsSet(2)) ds.write(`${formatRecord({ name: opts.origin, type: RRType.DS, class: CLASS_IN, ttl: 3600, rdata })}\n`);
  } catch (err) {
    await Promise.all(files.map((f) => f.abort()));
    throw err;
  } finally {
    await pool?.close();
  }
  let written: WrittenKeys | undefined;
  let committed = 0;
  try {
    if (generated) written = await writeKeyFiles(opts.keyDir, keys);
    for (const f of files) {
      await f.commit();
      committed++;
    }
  } catch (err) {
    await Promise.all(files.map((f) => f.abort()));
    // Keys that sign no committed output are not left behind.
    if (committed === 0) await written?.undo();
    throw err;
  }
  const generatedKeys = [...(written?.bases ?? [])];
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
