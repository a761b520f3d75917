// Child of bench:zonefile: loads one zone file with dns/zonefile and prints {loadMs, rrs} as JSON.
import { readFileSync } from 'node:fs';
import { parseName } from '../../dns/name.ts';
import { loadZoneFile } from '../../dns/zonefile/parse.ts';

const [file, origin] = process.argv.slice(2) as [string, string];
const start = performance.now();
const zone = loadZoneFile(file, parseName(origin), (p) => readFileSync(p, 'utf8'));
const loadMs = performance.now() - start;
process.stdout.write(JSON.stringify({ loadMs, rrs: zone.size }) + '\n');
