// Zone files from disk into a validated Zone (dns/zonefile does the parsing; this adds the
// file system and the origin rule of `mpdns serve`).
import { readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { ParseError } from '../errors.ts';
import { parseUserName, ROOT, type Fqdn } from '../name.ts';
import { RRType } from '../types.ts';
import type { RR } from '../rr.ts';
import type { Zone } from '../zone.ts';
import { parseRecords, parseZone } from '../zonefile/index.ts';
import { errnoText } from './errors.ts';

/**
 * Reads a zone file into a validated Zone. Without an origin: the file's first $ORIGIN, else
 * the owner of its SOA record. Errors: ParseError `FILE:LINE:COLUMN: reason`.
 */
export async function loadZone(file: string, origin?: Fqdn, onWarning?: (message: string) => void): Promise<Zone> {
  const text = await readInputFile(file, 'the zone file');
  let o = origin;
  if (o === undefined) {
    const m = /^\$ORIGIN[ \t]+(\S+)/im.exec(text);
    if (m !== null) {
      const t = m[1] as string;
      o = parseUserName(t);
    } else {
      const soa = parseRecords(text, { origin: ROOT, file, readFile: readText }).find((r) => r.type === RRType.SOA);
      if (soa === undefined) throw new ParseError('no $ORIGIN and no SOA: give the origin as FILE:ORIGIN', file, 1, 1);
      o = soa.name;
    }
  }
  return parseZone(text, { origin: o, file, readFile: readText, ...(onWarning !== undefined ? { onWarning } : {}) });
}

/**
 * An $INCLUDE file's text. Regular files only: the parser reads includes synchronously, so a
 * FIFO would stop the whole server (a reload included) until someone writes to it, and a
 * device like /dev/zero would fill memory.
 */
function readText(path: string): string {
  if (!statSync(path).isFile()) throw new Error('not a regular file');
  return readFileSync(path, 'utf8');
}

/** Reads a zone file (dns/zonefile: $INCLUDE relative to it) into RRs, in file order. */
export async function readZoneRecords(file: string, origin: Fqdn): Promise<RR[]> {
  const text = await readInputFile(file, 'the zone file');
  return parseRecords(text, { origin, file, readFile: readText });
}

/**
 * The text of an input file. A file that cannot be read (missing, a directory, no permission)
 * is a ParseError `FILE: cannot read WHAT: CODE: reason` (no position: no line was read).
 */
export async function readInputFile(file: string, what: string): Promise<string> {
  try {
    // Regular files only: a FIFO would hold a reload forever, a device could fill memory.
    // (A directory goes on to readFile, which names it: EISDIR.)
    const st = await stat(file);
    if (!st.isFile() && !st.isDirectory()) throw new Error('not a regular file');
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new ParseError(`${file}: cannot read ${what}: ${errnoText(err)}`, undefined, undefined, undefined, { cause: err });
  }
}
