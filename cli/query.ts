// mpdns query: a small dig that knows mpdns's types (HSYNC, HSYNCPARAM, CHUNK, JWK, DSYNC...)
// and prints answers in their presentation form.
import { parseUserName } from '../dns/name.ts';
import type { RR } from '../dns/rr.ts';
import type { Message } from '../dns/message.ts';
import { parseTsigKey, type TsigKey } from '../dns/tsig.ts';
import { RRType, Rcode, parseType, typeToString } from '../dns/types.ts';
import { formatRecord } from '../dns/zonefile/index.ts';
import { parseHostPort, query } from '../dns/net/index.ts';

const USAGE = `usage: mpdns query @ADDR[:PORT] NAME [TYPE] [--tcp] [--dnssec] [--tsig NAME:ALG:SECRET] [--json]

Sends one query and prints the response sections in presentation form. TYPE is a mnemonic
(A, NS, HSYNC, HSYNCPARAM, DSYNC, ...) or TYPEnnn; the default is A and the default port 53.
Exit code 0 for NOERROR and NXDOMAIN answers, 1 for other response codes, 2 for bad arguments.
`;

const rcodeNames = new Map<number, string>(Object.entries(Rcode).map(([k, v]) => [v, k]));

function section(title: string, rrs: readonly RR[]): string {
  if (rrs.length === 0) return '';
  return `;; ${title}\n${rrs.map((rr) => formatRecord(rr)).join('\n')}\n`;
}

function flagsOf(m: Message): string {
  const names = ['qr', 'aa', 'tc', 'rd', 'ra', 'ad', 'cd'] as const;
  return names.filter((f) => m[f]).join(' ');
}

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  let server: string | undefined;
  const positional: string[] = [];
  let tsig: TsigKey | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a.startsWith('@')) server = a.slice(1);
    else if (a === '--tsig') {
      try {
        tsig = parseTsigKey(argv[++i] ?? '');
      } catch (err) {
        process.stderr.write(`mpdns query: --tsig: ${(err as Error).message}\n`);
        return 2;
      }
    }
    else if (a.startsWith('--')) {
      if (!['--tcp', '--dnssec', '--json'].includes(a)) {
        process.stderr.write(`mpdns query: unknown option ${a}\n${USAGE}`);
        return 2;
      }
    } else positional.push(a);
  }
  const missing =
    server === undefined ? 'no server: give @ADDR[:PORT]' :
    positional.length === 0 ? 'no NAME to query' :
    positional.length > 2 ? `one NAME and one TYPE, not "${positional.join(' ')}"` : undefined;
  if (missing !== undefined || server === undefined) {
    process.stderr.write(`mpdns query: ${missing ?? ''}\n${USAGE}`);
    return 2;
  }
  let request;
  try {
    const peer = parseHostPort(server, 53);
    const name = parseUserName(positional[0] ?? '');
    const type = positional[1] === undefined ? RRType.A : parseType(positional[1]);
    request = { peer, name, type };
  } catch (err) {
    process.stderr.write(`mpdns query: ${(err as Error).message}\n`);
    return 2;
  }
  let res;
  try {
    res = await query(request.peer, request.name, request.type, {
      tcp: argv.includes('--tcp'),
      dnssecOk: argv.includes('--dnssec'),
      ...(tsig === undefined ? {} : { tsig }),
    });
  } catch (err) {
    process.stderr.write(`mpdns query: ${server}: ${(err as Error).message}\n`);
    return 1;
  }
  const m = res.message;
  const rcode = rcodeNames.get(m.rcode) ?? String(m.rcode);
  if (argv.includes('--json')) {
    const view = (rrs: readonly RR[]): string[] => rrs.map((rr) => formatRecord(rr));
    const out = {
      rcode,
      flags: flagsOf(m).split(' ').filter(Boolean),
      transport: res.transport,
      answer: view(m.answer),
      authority: view(m.authority),
      additional: view(m.additional),
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } else {
    process.stdout.write(
      `;; ${rcode}, flags: ${flagsOf(m)}; ${request.name} ${typeToString(request.type)} over ${res.transport}\n` +
        section('ANSWER', m.answer) +
        section('AUTHORITY', m.authority) +
        section('ADDITIONAL', m.additional),
    );
  }
  return m.rcode === Rcode.NOERROR || m.rcode === Rcode.NXDOMAIN ? 0 : 1;
}
