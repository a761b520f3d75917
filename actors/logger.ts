// The one root pino logger of a process: JSON lines to stdout, level from MPDNS_LOG_LEVEL.
// Everything else logs through `logger.child({ component, zone })` of this root.
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

const LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

let root: Logger | undefined;

/** The level named by MPDNS_LOG_LEVEL, or `info` when it is unset or not a pino level. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): LevelWithSilent {
  const v = (env['MPDNS_LOG_LEVEL'] ?? '').trim().toLowerCase();
  return LEVELS.find((l) => l === v) ?? 'info';
}

/** The process's root logger, created on first use (synchronous writes to fd 1, so nothing is lost on exit). */
export function rootLogger(): Logger {
  root ??= pino({ level: logLevelFromEnv(), base: { pid: process.pid } }, pino.destination({ dest: 1, sync: true }));
  return root;
}

/** Fields every child logger carries: the component (`actor-host`, `agent`, ...) and, per zone, the zone. */
export interface LogFields {
  readonly component: string;
  readonly zone?: string;
  readonly [field: string]: string | number | undefined;
}

/** A child of the root logger with `component` (and `zone`) on every line. */
export function componentLogger(fields: LogFields): Logger {
  return rootLogger().child(fields);
}
