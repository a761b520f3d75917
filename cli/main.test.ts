// The top-level command line: help, unknown commands and options, the --help hint of usage errors.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

const BIN = join(import.meta.dirname, '..', 'bin', 'mpdns');

function mpdns(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, MPDNS_FROM_SOURCE: '1' }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

test('mpdns --help and mpdns help list each command with one line; help CMD is CMD --help', { timeout: 120_000 }, async () => {
  const [top, help, helpSign, signHelp] = await Promise.all([mpdns(['--help']), mpdns(['help']), mpdns(['help', 'sign']), mpdns(['sign', '--help'])]);
  assert.equal(top.code, 0);
  for (const name of ['serve', 'sign', 'query', 'ctl']) assert.match(top.stdout, new RegExp(`^  ${name} +\\S.*$`, 'm'), name);
  assert.deepEqual(help, top);
  assert.equal(helpSign.code, 0);
  assert.match(helpSign.stdout, /^usage: mpdns sign /);
  assert.deepEqual(helpSign, signHelp);
});

test('unknown options and commands, and usage errors of each command, are one line with a --help hint, exit 2', { timeout: 120_000 }, async () => {
  const cases = [
    [['--frob'], 'mpdns: unknown option "--frob" (try mpdns --help)'],
    [['frob'], 'mpdns: unknown command "frob" (try mpdns --help)'],
    [['help', 'frob'], 'mpdns: unknown command "frob" (try mpdns --help)'],
    [['sign', '--zone', 'z'], 'mpdns sign: --origin is required (try mpdns sign --help)'],
    [['sign', '--bogus'], 'mpdns sign: unknown option --bogus (try mpdns sign --help)'],
    [['sign', '--zone'], 'mpdns sign: --zone needs a value (try mpdns sign --help)'],
    [['serve', '--zone', 'z', 'extra'], 'mpdns serve: unexpected argument "extra" (try mpdns serve --help)'],
    [['serve', '--sign=x'], 'mpdns serve: --sign takes no value (try mpdns serve --help)'],
  ] as const;
  const runs = await Promise.all(cases.map(([args]) => mpdns(args)));
  runs.forEach((r, i) => {
    const [args, line] = cases[i] ?? [[], ''];
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.stderr, `${line}\n`, args.join(' '));
    assert.equal(r.stdout, '');
  });
});
