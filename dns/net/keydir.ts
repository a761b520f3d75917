// BIND key directories on disk: load every key of a zone (with its timing), write a key's
// `.key` and `.private` files atomically, and load-or-generate the keys a signer uses. The file
// formats themselves are dns/dnssec/bindkeys.ts (pure).
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
import { DnssecError, KeyError } from '../dnssec/errors.ts';
import { generateKey, KSK_FLAGS, ZSK_FLAGS, type SigningKey } from '../dnssec/keys.ts';
import { parseName, type Fqdn } from '../name.ts';

const KEY_FILE = /^K(.+)\+([0-9]{3})\+([0-9]{5})\.key$/;

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
    throw new KeyError('cannot read the key directory', dir, { cause: err });
  }
  const keys: { key: SigningKey; timing: KeyTiming }[] = [];
  for (const name of entries.sort()) {
    const m = KEY_FILE.exec(name);
    if (m === null) continue;
    let fileZone: Fqdn;
    try {
      fileZone = parseName(m[1] ?? '');
    } catch {
      continue;
    }
    if (fileZone !== zone) continue;
    const keyFile = join(dir, name);
    const privateFile = keyFile.replace(/\.key$/, '.private');
    let keyText: string;
    let privateText: string;
    try {
      keyText = await readFile(keyFile, 'utf8');
    } catch (err) {
      throw new KeyError('cannot read the key file', keyFile, { cause: err });
    }
    try {
      privateText = await readFile(privateFile, 'utf8');
    } catch (err) {
      throw new KeyError('cannot read the private key file', privateFile, { cause: err });
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

async function writeAtomic(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text, { mode });
  await rename(tmp, path);
}

/** Writes a key's `.key` and `.private` files into `dir`; returns the base path. */
export async function writeKeyFiles(dir: string, key: SigningKey): Promise<string> {
  const base = join(dir, keyFileBase(key.zone, key.algorithm, key.keyTag));
  await writeAtomic(`${base}.private`, formatPrivateFile(key), 0o600);
  await writeAtomic(`${base}.key`, formatKeyFile(key), 0o644);
  return base;
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
 * here: the caller writes them (writeKeyFiles) after signing succeeds.
 */
export async function zoneKeys(opts: ZoneKeyOptions): Promise<{ keys: SigningKey[]; publishOnly: Uint8Array[]; generated: boolean }> {
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
