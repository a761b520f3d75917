// Child of bench:dns: loads one zone file with our loader and prints {loadMs, rrs} as JSON.
import { loadZone } from '../../dns/files/load.ts';
import type { Fqdn } from '../../dns/name.ts';

const [file, origin] = process.argv.slice(2) as [string, string];
const start = performance.now();
const zone = await loadZone(file, origin as Fqdn);
const loadMs = performance.now() - start;
process.stdout.write(JSON.stringify({ loadMs, rrs: zone.size }) + '\n');
