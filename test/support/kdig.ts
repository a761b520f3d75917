// kdig as the outside judge of what a lab provider's nameserver serves.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { LabJson } from '../../actors/lab/lab.ts';

const exec = promisify(execFile);
export const KDIG = '/usr/bin/kdig';

/** `kdig +short NAME TYPE` at the nameserver of provider `label`: the answer lines, sorted. */
export async function digAt(json: LabJson | undefined, label: string, name: string, type: string): Promise<string[]> {
  const ns = json?.providers.find((p) => p.label === label)?.nameserver ?? '';
  const [address, port] = ns.split(':');
  const { stdout } = await exec(KDIG, [`@${address ?? ''}`, '-p', port ?? '', '+short', '+time=1', '+retry=0', name, type]);
  return stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .sort();
}
