// mpdns serve: an authoritative primary for zone files and a secondary of other servers' zones,
// with AXFR/IXFR, NOTIFY and TSIG.
import { KeyError } from '../dns/dnssec/errors.ts';
import { ParseError } from '../dns/errors.ts';
import { parseUserName, type Fqdn } from '../dns/name.ts';
import { parseTsigKey, type TsigKey } from '../dns/tsig.ts';
import type { Zone } from '../dns/zone.ts';
import { componentLogger } from '../actors/logger.ts';
import { loadZone } from '../dns/files/index.ts';
import { flagValue, runCommand, threadsFlag, type Parsed } from './args.ts';
import { complain, UsageError } from './errors.ts';
import type { ZoneSource } from '../dns/zone-source.ts';
import {
  addressBytes,
  DnsServer,
  InlineSignedZone,
  Notifier,
  parseCidr,
  parseHostPort,
  PrimaryZone,
  Secondary,
  SecondaryZone,
  type LoadOutcome,
  type Peer,
} from '../dns/net/index.ts';


const USAGE = `usage: mpdns serve [--zone FILE[:ORIGIN]] ... [--secondary ZONE@ADDR[:PORT]] ... --listen ADDR:PORT [options]

Serves zone files as an authoritative primary, and other servers' zones as their secondary, over
UDP and TCP, with AXFR, IXFR (from an in-memory journal of the last changes), NOTIFY and TSIG.

  --zone FILE[:ORIGIN]     a zone file to serve (repeatable). Without ORIGIN the origin is the
                           file's first $ORIGIN, else the owner of its SOA record.
  --secondary ZONE@ADDR[:PORT]
                           serve ZONE as a secondary of the primary at ADDR (port 53 by default;
                           repeatable): SOA checks at the zone's refresh interval, IXFR with AXFR
                           fallback, an immediate check on NOTIFY from ADDR (NOTIFY for the zone
                           from elsewhere is ignored). SERVFAIL until the first transfer and after
                           the SOA expire time without contact. Each new serial is journalled for
                           IXFR out and sent to the --notify targets, as for a reloaded --zone.
  --secondary-tsig NAME    sign the SOA queries and transfers to every --secondary primary with
                           the --tsig key NAME
  --listen ADDR:PORT       address and port for UDP and TCP (e.g. 127.0.0.1:5353, [::1]:53)
  --notify ADDR:PORT       send NOTIFY to this secondary on every serial change (repeatable)
  --allow-transfer CIDR    allow AXFR/IXFR without TSIG from these addresses (repeatable);
                           by default transfers need a TSIG key (--tsig) and are refused
  --tsig NAME:ALG:SECRET   TSIG key (hmac-sha256, hmac-sha1, hmac-sha512; base64 secret):
                           accepted on transfers and NOTIFY, used to sign NOTIFY out (repeatable)
  --journal N              keep the last N changes per zone for IXFR (default 100)
  --sign                   sign every zone inline (DNSSEC) with the keys in --key-dir (a KSK and
                           a ZSK are generated there when a zone has none); RRSIGs and NSEC/NSEC3
                           proofs are served to queries with DO; a reload re-signs what changed
  --key-dir DIR            BIND-style K<zone>+<alg>+<tag>.key/.private files for --sign
  --nsec3                  with --sign: NSEC3 (iterations 0, no salt) instead of NSEC
  --threads N              with --sign: threads for the first signing of each zone, this one
                           included (default 1); re-signing after a reload is incremental
  --help                   this text

Signals: SIGHUP re-reads every zone file; a changed zone with a higher serial is journalled
and NOTIFY is sent; a file that fails to parse is logged and the old zone stays served.
Secondary zones are not touched by SIGHUP. --sign signs --zone zones only.
SIGTERM/SIGINT stop the server. Logs are pino JSON lines on stdout, at the level named by
$MPDNS_LOG_LEVEL (fatal, error, warn, info, debug, trace, silent; default info).
`;

interface ZoneArg {
  readonly file: string;
  readonly origin?: Fqdn;
}

/** --secondary ZONE@ADDR[:PORT]. */
interface SecondaryArg {
  readonly zone: Fqdn;
  readonly primary: Peer;
}

export interface ServeArgs {
  readonly zones: ZoneArg[];
  readonly secondaries: SecondaryArg[];
  /** --secondary-tsig: the key that signs our queries to the primaries. */
  readonly secondaryTsig?: TsigKey;
  readonly listen: Peer;
  readonly notify: Peer[];
  readonly allowTransfer: string[];
  readonly keys: TsigKey[];
  readonly journal: number;
  /** --sign: inline DNSSEC signing with the keys in keyDir. */
  readonly sign?: { readonly keyDir: string; readonly nsec3: boolean; readonly threads: number };
}

/** The most changes per zone kept for IXFR (--journal). */
const MAX_JOURNAL = 1_000_000;

const FLAGS = {
  zone: { type: 'string', multiple: true },
  secondary: { type: 'string', multiple: true },
  'secondary-tsig': { type: 'string' },
  listen: { type: 'string' },
  notify: { type: 'string', multiple: true },
  'allow-transfer': { type: 'string', multiple: true },
  tsig: { type: 'string', multiple: true },
  journal: { type: 'string' },
  sign: { type: 'boolean' },
  'key-dir': { type: 'string' },
  nsec3: { type: 'boolean' },
  threads: { type: 'string' },
} as const;

const SPEC = { name: 'serve', usage: USAGE, options: FLAGS };

function splitZoneArg(text: string): ZoneArg {
  // FILE[:ORIGIN]: the origin is after the last colon when it looks like a domain name.
  const i = text.lastIndexOf(':');
  if (i > 0 && i < text.length - 1 && !text.slice(i + 1).includes('/')) {
    const originText = text.slice(i + 1);
    try {
      return { file: text.slice(0, i), origin: parseUserName(originText) };
    } catch {
      throw new UsageError(`--zone ${text}: bad origin "${originText}"`);
    }
  }
  return { file: text };
}

function splitSecondaryArg(text: string): SecondaryArg {
  const at = text.indexOf('@');
  if (at < 0) throw new UsageError(`--secondary ${text}: expected ZONE@ADDR[:PORT]`);
  const zoneText = text.slice(0, at);
  if (zoneText === '') throw new UsageError(`--secondary ${text}: no zone before "@" (expected ZONE@ADDR[:PORT])`);
  let zone: Fqdn;
  try {
    zone = parseUserName(zoneText);
  } catch {
    throw new UsageError(`--secondary ${text}: bad zone name "${zoneText}"`);
  }
  return { zone, primary: flagValue(`--secondary ${text}`, text.slice(at + 1), (v) => parseHostPort(v, 53)) };
}

function journalFlag(v: string): number {
  if (!/^[0-9]+$/.test(v)) throw new UsageError(`--journal: "${v}" is not a number`);
  const n = Number(v);
  if (n > MAX_JOURNAL) throw new UsageError(`--journal ${v}: at most ${MAX_JOURNAL}`);
  return n;
}

/** The command line's flags as ServeArgs; throws UsageError with one clear message. */
function serveArgs(values: Parsed<typeof FLAGS>['values']): ServeArgs {
  const zones = (values.zone ?? []).map(splitZoneArg);
  const secondaries = (values.secondary ?? []).map(splitSecondaryArg);
  const listen = values.listen === undefined ? undefined : flagValue('--listen', values.listen, (v) => parseHostPort(v));
  const notify = (values.notify ?? []).map((v) => flagValue('--notify', v, (t) => parseHostPort(t, 53)));
  const allowTransfer = (values['allow-transfer'] ?? []).map((v) => flagValue('--allow-transfer', v, (t) => (parseCidr(t), t)));
  const keys = (values.tsig ?? []).map((v) => flagValue('--tsig', v, parseTsigKey));
  const journal = values.journal === undefined ? 100 : journalFlag(values.journal);
  const threads = values.threads === undefined ? undefined : threadsFlag(values.threads);
  const sign = values.sign === true;
  const keyDir = values['key-dir'];
  const nsec3 = values.nsec3 === true;
  if (zones.length === 0 && secondaries.length === 0) {
    throw new UsageError('at least one --zone FILE[:ORIGIN] or --secondary ZONE@ADDR[:PORT] is required');
  }
  const twice = secondaries.find((s, i) => secondaries.findIndex((t) => t.zone === s.zone) !== i);
  if (twice !== undefined) throw new UsageError(`--secondary: zone ${twice.zone} given twice`);
  const tsigName = values['secondary-tsig'];
  let secondaryTsig: TsigKey | undefined;
  if (tsigName !== undefined) {
    if (secondaries.length === 0) throw new UsageError('--secondary-tsig needs --secondary');
    const name = flagValue('--secondary-tsig', tsigName, (v) => parseUserName(v));
    secondaryTsig = keys.find((k) => k.name === name);
    if (secondaryTsig === undefined) throw new UsageError(`--secondary-tsig ${tsigName}: no --tsig key of that name`);
  }
  if (listen === undefined) throw new UsageError('--listen ADDR:PORT is required');
  if (sign && keyDir === undefined) throw new UsageError('--sign needs --key-dir DIR');
  if (!sign && (keyDir !== undefined || nsec3 || threads !== undefined)) throw new UsageError('--key-dir, --nsec3 and --threads need --sign');
  return {
    zones,
    secondaries,
    ...(secondaryTsig !== undefined ? { secondaryTsig } : {}),
    listen,
    notify,
    allowTransfer,
    keys,
    journal,
    ...(sign && keyDir !== undefined ? { sign: { keyDir, nsec3, threads: threads ?? 1 } } : {}),
  };
}

/** An error about a zone, for people: named by its zone file unless it names its own file. */
function errorText(file: string, err: unknown): string {
  // ParseError: FILE:LINE:COL (or FILE when it could not be read); KeyError: the key file or directory.
  if (err instanceof ParseError || (err instanceof KeyError && err.file !== undefined)) return err.message;
  return `${file}: ${err instanceof Error ? err.message : String(err)}`;
}

/** The same address, IPv4-mapped IPv6 (::ffff:a.b.c.d) and IPv4 alike. */
function sameAddress(a: string, b: string): boolean {
  const x = addressBytes(a);
  const y = addressBytes(b);
  return x !== undefined && y !== undefined && x.family === y.family && Buffer.from(x.bytes).equals(y.bytes);
}

export async function run(argv: string[]): Promise<number> {
  return runCommand(SPEC, argv, ({ values }) => serve(serveArgs(values)));
}

async function serve(args: ServeArgs): Promise<number> {
  const log = componentLogger({ component: 'serve' });
  const primaries: { arg: ZoneArg; zone: PrimaryZone | InlineSignedZone }[] = [];
  for (const z of args.zones) {
    try {
      const loaded = await loadZone(z.file, z.origin, (w) => log.warn({ file: z.file }, w));
      const twice = primaries.find((p) => p.zone.origin === loaded.origin);
      if (twice !== undefined) {
        complain('serve', `${z.file}: zone ${loaded.origin} is already served from ${twice.arg.file}`);
        return 1;
      }
      if (args.secondaries.some((s) => s.zone === loaded.origin)) {
        complain('serve', `${z.file}: zone ${loaded.origin} is also given as --secondary`);
        return 1;
      }
      let zone: PrimaryZone | InlineSignedZone;
      if (args.sign === undefined) zone = new PrimaryZone(loaded, { maxEntries: args.journal });
      else {
        const signed = await InlineSignedZone.create(loaded, args.sign.keyDir, {
          denial: args.sign.nsec3 ? { kind: 'nsec3', iterations: 0, salt: new Uint8Array(0), optOut: false } : { kind: 'nsec' },
          journal: args.journal,
          threads: args.sign.threads,
        });
        if (signed.generatedKeys.length > 0) log.info({ zone: loaded.origin, keys: signed.generatedKeys }, 'generated DNSSEC keys');
        zone = signed.zone;
      }
      primaries.push({ arg: z, zone });
    } catch (err) {
      complain('serve', errorText(z.file, err));
      return 1;
    }
  }
  const secondaries = args.secondaries.map((s) => {
    const secondary = new Secondary({
      zone: s.zone,
      primary: s.primary,
      ...(args.secondaryTsig !== undefined ? { tsig: args.secondaryTsig } : {}),
      logger: log.child({ primary: `${s.primary.address}:${s.primary.port}` }),
    });
    return { arg: s, zone: new SecondaryZone(secondary, { maxEntries: args.journal }) };
  });
  const server = new DnsServer({
    address: args.listen.address,
    port: args.listen.port,
    allowTransfer: args.allowTransfer,
    keys: args.keys,
    logger: log,
    ...(secondaries.length > 0
      ? {
          allowNotify: secondaries.map((s) => s.arg.primary.address),
          onNotify: (zone: Fqdn, serial: number | undefined, from: Peer) => {
            const s = secondaries.find((x) => x.arg.zone === zone);
            if (s === undefined || !sameAddress(from.address, s.arg.primary.address)) {
              log.warn({ zone, remote: from }, 'NOTIFY ignored: not a secondary zone of that primary');
              return;
            }
            log.debug({ zone, serial, remote: from }, 'NOTIFY');
            s.zone.secondary.notify(serial);
          },
        }
      : {}),
  });
  for (const p of primaries) server.setZone(p.zone);
  for (const s of secondaries) server.setZone(s.zone);
  let bound: { address: string; port: number };
  try {
    bound = await server.start();
  } catch (err) {
    complain('serve', err instanceof Error ? err.message : String(err));
    return 1;
  }
  const firstKey = args.keys[0];
  const notifier = new Notifier({
    targets: args.notify,
    ...(firstKey !== undefined ? { tsig: firstKey } : {}),
    logger: log,
  });
  log.info(
    {
      listen: `${bound.address}:${bound.port}`,
      zones: primaries.map((p) => ({ zone: p.zone.origin, serial: p.zone.serial })),
      secondaries: secondaries.map((s) => ({ zone: s.arg.zone, primary: `${s.arg.primary.address}:${s.arg.primary.port}` })),
    },
    'serving',
  );
  const notifyAll = (p: ZoneSource): void => {
    if (args.notify.length === 0) return;
    void notifier.notify(p.origin, p.soa());
  };
  for (const p of primaries) notifyAll(p.zone);
  for (const s of secondaries) {
    const sec = s.zone.secondary;
    sec.on('change', (c) => {
      let outcome: LoadOutcome;
      try {
        outcome = s.zone.load();
      } catch (err) {
        log.error({ zone: c.zone, serial: c.serial, err: err instanceof Error ? err.message : String(err) }, 'transferred zone rejected, old zone kept');
        return;
      }
      log.info({ zone: c.zone, kind: c.kind, fromSerial: c.fromSerial, serial: c.serial, outcome: outcome.result }, 'transferred');
      if (outcome.result === 'loaded' || outcome.result === 'updated') notifyAll(s.zone);
    });
    sec.on('expired', (zone) => log.warn({ zone }, 'zone expired: no contact with the primary, answering SERVFAIL'));
    // The Secondary logs its own failures; anything else is logged here, not thrown.
    sec.on('error', (err) => log.error({ zone: s.arg.zone, err }, 'secondary failed'));
    sec.start();
  }

  const reloadAll = async (): Promise<void> => {
    for (const p of primaries) {
      let next: Zone;
      try {
        next = await loadZone(p.arg.file, p.zone.origin, (w) => log.warn({ zone: p.zone.origin, file: p.arg.file }, w));
      } catch (err) {
        log.error({ zone: p.zone.origin, file: p.arg.file, err: errorText(p.arg.file, err) }, 'reload failed, old zone kept');
        continue;
      }
      const outcome = p.zone.update(next);
      if (outcome.result === 'serial-not-increased') {
        log.warn({ zone: p.zone.origin, ...outcome }, 'zone changed but its serial did not grow: old zone kept');
      } else {
        log.info({ zone: p.zone.origin, ...outcome }, 'reloaded');
      }
      if (outcome.result === 'updated') notifyAll(p.zone);
    }
  };
  // One reload at a time; a SIGHUP during a reload runs another one after it.
  let reloading: Promise<void> | undefined;
  let again = false;
  const reload = (): void => {
    if (reloading !== undefined) {
      again = true;
      return;
    }
    // reloadAll logs what it expects; anything else is logged here, not left unhandled.
    reloading = reloadAll()
      .catch((err: unknown) => log.error({ err }, 'reload failed'))
      .finally(() => {
        reloading = undefined;
        if (again) {
          again = false;
          reload();
        }
      });
  };
  process.on('SIGHUP', reload);
  // --sign: renew signatures close to expiry every hour (the served serial goes up when any were).
  const refresher = setInterval(() => {
    for (const p of primaries) {
      if (!(p.zone instanceof InlineSignedZone)) continue;
      try {
        const signatures = p.zone.refresh();
        if (signatures === 0) continue;
        log.info({ zone: p.zone.origin, serial: p.zone.serial, signatures }, 'signatures refreshed');
        notifyAll(p.zone);
      } catch (err) {
        // The zone keeps its current signatures; the next hour tries again.
        log.error({ err, zone: p.zone.origin }, 'signature refresh failed');
      }
    }
  }, 3_600_000);
  refresher.unref();
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  process.off('SIGHUP', reload);
  clearInterval(refresher);
  for (const s of secondaries) s.zone.secondary.stop();
  notifier.close();
  await server.stop();
  log.info({}, 'stopped');
  return 0;
}
