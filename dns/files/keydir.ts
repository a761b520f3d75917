// BIND key directories on disk: load every key of a zone (with its timing), write a key's
// `.key` and `.private` files atomically (the `.private` one never readable by others), and
// load-or-generate the keys a signer uses. The file formats are dns/dnssec/bindkeys.ts (pure).
import { mkdir, readdir, readFile, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { algorithmName, parseSigningAlgorithm } from '../dnssec/algorithms.ts';
import {
  formatKeyFile,
  formatPrivateFile,
  keyFileBase,
  keyFromBindFiles,
  keyRoleAt,
  parsePrivateFile,
  type KeyTiming,
} from '../dnssec/bindkeys.ts';
import { KeyError } from '../dnssec/errors.ts';
import { generateKey, KSK_FLAGS, ZSK_FLAGS, type SigningKey } from '../dnssec/keys.ts';
import { parseName, type Fqdn } from '../name.ts';
import { writeFileAtomic } from './atomic.ts';
import { errnoText, OutputError } from './errors.ts';

const KEY_FILE = /^K(.+)\+([0-9]{3})\+([0-9]{5})\.(key|private)$/;

/** Whether a key file name is of `zone` (names that do not parse are of no zone). */
function isOfZone(name: string, zone: Fqdn): boolean {
  try {
    return parseName(name) === zone;
  } catch {
    return false;
  }
}

/** Loads every `K<zone>+*.key` with its `.private` from `dir`; files of other zones are skipped. */
export async function loadKeyDir(dir: string, zone: Fqdn): Promise<SigningKey[]> {
  return (await loadKeyDirTimed(dir, zone)).map((k) => k.key);
}

/** loadKeyDir with each key's BIND timing metadata (see keyRoleAt). */
export async function loadKeyDirTimed(dir: string, zone: Fqdn): Promise<{ key: SigningKey; timing: KeyTiming }[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    throw new KeyError(`cannot read the key directory: ${errnoText(err)}`, dir, { cause: err });
  }
  const names = new Set(entries);
  const keys: { key: SigningKey; timing: KeyTiming }[] = [];
  for (const name of entries.sort()) {
    const m = KEY_FILE.exec(name);
    if (m === null || !isOfZone(m[1] ?? '', zone)) continue;
    if (m[4] === 'private') {
      // A private key without its public half would leave the zone signed with fewer keys.
      const keyName = name.replace(/\.private$/, '.key');
      if (!names.has(keyName)) throw new KeyError(`no ${keyName} next to it: the key cannot be used`, join(dir, name));
      continue;
    }
    const keyFile = join(dir, name);
    const privateFile = keyFile.replace(/\.key$/, '.private');
    let keyText: string;
    let privateText: string;
    try {
      keyText = await readFile(keyFile, 'utf8');
    } catch (err) {
      throw new KeyError(`cannot read the key file: ${errnoText(err)}`, keyFile, { cause: err });
    }
    try {
      privateText = await readFile(privateFile, 'utf8');
    } catch (err) {
      throw new KeyError(`cannot read the private key file: ${errnoText(err)}`, privateFile, { cause: err });
    }
    const key = keyFromBindFiles(keyText, privateText, { keyFile, privateFile, zone });
    if (key.keyTag !== Number(m[3]) || key.algorithm !== Number(m[2])) {
      throw new KeyError(
        `file name says algorithm ${Number(m[2])} tag ${Number(m[3])}, the key is algorithm ${key.algorithm} tag ${key.keyTag}`,
        keyFile,
      );
    }
    const { created, publish, activate, inactive, delete: del } = parsePrivateFile(privateText, privateFile);
    const timing: KeyTiming = {};
    if (created !== undefined) timing.created = created;
    if (publish !== undefined) timing.publish = publish;
    if (activate !== undefined) timing.activate = activate;
    if (inactive !== undefined) timing.inactive = inactive;
    if (del !== undefined) timing.delete = del;
    keys.push({ key, timing });
  }
  return keys;
}

/** One key file, atomically (dns/files/atomic.ts), created with `mode` from the start. */
async function writeKeyFile(path: string, text: string, mode: number): Promise<void> {
  try {
    await writeFileAtomic(path, text, { mode });
  } catch (err) {
    throw new KeyError(err instanceof OutputError ? err.detail : `cannot write: ${errnoText(err)}`, path, { cause: err });
  }
}

/** Key files written by writeKeyFiles: their base paths, and undo() to remove them again. */
export interface WrittenKeys {
  readonly bases: readonly string[];
  /** Removes the files written (and the key directory when writeKeyFiles created it). */
  undo(): Promise<void>;
}

/**
 * Writes the keys' `.key` and `.private` files into `dir`, creating it when it does not exist
 * (a key directory appears only once it holds keys). All or nothing: when one write fails, the
 * files already written, and a directory created here, are removed before the KeyError is thrown.
 */
export async function writeKeyFiles(dir: string, keys: readonly SigningKey[]): Promise<WrittenKeys> {
  let made: string | undefined;
  try {
    made = await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new KeyError(`cannot create the key directory: ${errnoText(err)}`, dir, { cause: err });
  }
  const bases: string[] = [];
  const undo = async (): Promise<void> => {
    await Promise.all(bases.flatMap((b) => [rm(`${b}.key`, { force: true }), rm(`${b}.private`, { force: true })]));
    if (made === undefined) return;
    // The directories created here, deepest first; one that holds anything else stays.
    const top = resolve(made);
    for (let d = resolve(dir); ; d = dirname(d)) {
      try {
        await rmdir(d);
      } catch {
        return;
      }
      if (d === top || d === dirname(d)) return;
    }
  };
  try {
    for (const key of keys) {
      const base = join(dir, keyFileBase(key.zone, key.algorithm, key.keyTag));
      bases.push(base);
      await writeKeyFile(`${base}.private`, formatPrivateFile(key), 0o600);
      await writeKeyFile(`${base}.key`, formatKeyFile(key), 0o644);
    }
  } catch (err) {
    await undo();
    throw err;
  }
  return { bases, undo };
}

/** Which keys a signer needs: the zone, its key directory, and what to generate when it is empty. */
export interface ZoneKeyOptions {
  readonly origin: Fqdn;
  readonly keyDir: string;
  /** Algorithm of generated keys; loaded keys must use it too. Default ed25519. */
  readonly algorithm?: string;
  /** Generate one combined signing key instead of a KSK and a ZSK. */
  readonly csk: boolean;
}

/**
 * Loads or generates the zone's keys. By their BIND timing, active keys sign and keys that are
 * published but not (or no longer) active are only published. Generated keys are not written
 * here: the caller writes them (writeKeyFiles) after signing succeeds. A key directory that
 * does not exist holds no keys yet; one that is not a directory is a KeyError.
 */
export async function zoneKeys(opts: ZoneKeyOptions): Promise<{ keys: SigningKey[]; publishOnly: Uint8Array[]; generated: boolean }> {
  const wanted = opts.algorithm === undefined ? undefined : parseSigningAlgorithm(opts.algorithm);
  const loaded = (await keyDirExists(opts.keyDir)) ? await loadKeyDirTimed(opts.keyDir, opts.origin) : [];
  if (loaded.length > 0) {
    const now = Math.floor(Date.now() / 1000);
    const keys = loaded.filter((k) => keyRoleAt(k.timing, now) === 'sign').map((k) => k.key);
    const publishOnly = loaded.filter((k) => keyRoleAt(k.timing, now) === 'publish').map((k) => k.key.dnskey);
    const first = keys[0];
    if (first === undefined) {
      throw new KeyError(`no active key for ${opts.origin} (by the keys' Activate/Inactive/Delete times)`, opts.keyDir);
    }
    // One algorithm per signer: every algorithm in the DNSKEY RRset signs every RRset (RFC 4035 §2.2).
    const other = keys.find((k) => k.algorithm !== first.algorithm);
    if (other !== undefined) {
      throw new KeyError(
        `active keys of two algorithms for ${opts.origin}: ${first.keyTag} (${algorithmName(first.algorithm)}) and ` +
          `${other.keyTag} (${algorithmName(other.algorithm)}); a signer uses one algorithm`,
        opts.keyDir,
      );
    }
    if (wanted !== undefined && first.algorithm !== wanted) {
      throw new KeyError(
        `key ${first.keyTag} for ${opts.origin} is ${algorithmName(first.algorithm)}, --algorithm asks for ${algorithmName(wanted)}`,
        opts.keyDir,
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

/** False when the key directory does not exist (no keys yet); a KeyError when it is not a directory. */
async function keyDirExists(dir: string): Promise<boolean> {
  try {
    if ((await stat(dir)).isDirectory()) return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new KeyError(`cannot read the key directory: ${errnoText(err)}`, dir, { cause: err });
  }
  throw new KeyError('not a directory', `--key-dir ${dir}`);
}
