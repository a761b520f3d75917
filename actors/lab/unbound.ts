// A validating Unbound for the lab and for tests: listens on a free loopback port, reaches each
// zone of a signed world through a stub-zone, and validates from the world's trust anchor.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Peer } from '../../dns/net/transport.ts';
import { ROOT, type Fqdn } from '../../dns/name.ts';
import { waitForAnswer } from './answering.ts';
import { freePort } from './ports.ts';

export interface Resolver {
  readonly address: Peer;
  /** Everything Unbound wrote so far (for diagnostics). */
  output(): string;
  stop(): Promise<void>;
}

export class ResolverStartError extends Error {
  override name = 'ResolverStartError';
}

/**
 * Starts `unbound -d` with the given stubs; validating from `trustAnchorFile`, or a plain
 * (non-validating) recursive resolver when it is undefined. Resolves once it answers.
 */
export async function startUnbound(dir: string, stubs: ReadonlyMap<Fqdn, Peer>, trustAnchorFile: string | undefined, timeoutMs = 20_000): Promise<Resolver> {
  const port = await freePort();
  const conf = join(dir, `unbound-${port}.conf`);
  const lines = [
    'server:',
    '  interface: 127.0.0.1',
    `  port: ${port}`,
    '  do-not-query-localhost: no',
    '  username: ""',
    '  chroot: ""',
    `  directory: "${dir}"`,
    `  pidfile: "${join(dir, `unbound-${port}.pid`)}"`,
    '  use-syslog: no',
    '  logfile: ""',
    '  verbosity: 1',
    '  do-ip6: no',
    '  qname-minimisation: no',
    '  aggressive-nsec: no',
    '  harden-referral-path: no',
    '  target-fetch-policy: "0 0 0 0 0"',
    ...(trustAnchorFile === undefined ? ['  module-config: "iterator"'] : ['  module-config: "validator iterator"', `  trust-anchor-file: "${trustAnchorFile}"`]),
    '  access-control: 127.0.0.0/8 allow',
    // Short cache lifetimes: the lab edits zones and expects the change to be seen.
    '  cache-max-ttl: 5',
    '  cache-max-negative-ttl: 1',
  ];
  // Unbound answers some TLDs itself (RFC 6761: test., invalid., …): turn that off for the
  // world's zones, so that `test.` can be a lab TLD like any other.
  for (const zone of stubs.keys()) if (zone !== ROOT) lines.push(`  local-zone: "${zone}" nodefault`);
  for (const [zone, peer] of stubs) lines.push('stub-zone:', `  name: "${zone}"`, `  stub-addr: ${peer.address}@${peer.port}`);
  await writeFile(conf, `${lines.join('\n')}\n`);
  // A small shell guard runs Unbound and stops it when it is told to (TERM) or when this process
  // is gone (a SIGKILLed lab must not leave a resolver behind).
  const guard = [
    'unbound -d -c "$1" & u=$!',
    "trap 'kill $u 2>/dev/null; wait $u; exit 0' TERM INT",
    'while kill -0 "$2" 2>/dev/null && kill -0 $u 2>/dev/null; do sleep 0.5; done',
    'kill $u 2>/dev/null; wait $u',
  ].join('\n');
  const proc = spawn('/bin/sh', ['-c', guard, 'mpdns-unbound', conf, String(process.pid)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let spawnError: Error | undefined;
  proc.once('error', (e) => (spawnError = e));
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
  };
  const address = { address: '127.0.0.1', port };
  try {
    await waitForAnswer(address, ROOT, {
      rd: true,
      timeoutMs,
      failed: () => (spawnError !== undefined || proc.exitCode !== null ? `unbound did not start: ${spawnError?.message ?? `exit ${proc.exitCode ?? ''}`}` : undefined),
    });
  } catch (e) {
    await stop();
    throw new ResolverStartError(`${e instanceof Error ? e.message : String(e)} ${out.slice(-400)}`, { cause: e });
  }
  return { address, output: () => out, stop };
}
