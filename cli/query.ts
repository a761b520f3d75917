// mpdns query: a small dig that knows mpdns's types (HSYNC, HSYNCPARAM, CHUNK, JWK, DSYNC...)
// and prints answers in their presentation form.
import { parseUserName, type Fqdn } from '../dns/name.ts';
import type { RR } from '../dns/rr.ts';
import type { Message } from '../dns/message.ts';
import { parseTsigKey, type TsigKey } from '../dns/tsig.ts';
import { RRType, Rcode, parseType, typeToString } from '../dns/types.ts';
import { formatRecord } from '../dns/zonefile/index.ts';
import { parseHostPort, query, type Peer } from '../dns/net/index.ts';
import { flagValue, runCommand } from './args.ts';
import { complain, UsageError } from './errors.ts';

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

const FLAGS = {
  tcp: { type: 'boolean' },
  dnssec: { type: 'boolean' },
  json: { type: 'boolean' },
  tsig: { type: 'string' },
} as const;

export async function run(argv: string[]): Promise<number> {
  return runCommand({ name: 'query', usage: USAGE, options: FLAGS, positionals: true }, argv, ({ values, positionals }) => {
    const tsig = values.tsig === undefined ? undefined : flagValue('--tsig', values.tsig, parseTsigKey);
    const server = positionals.find((a) => a.startsWith('@'))?.slice(1);
    const rest = positionals.filter((a) => !a.startsWith('@'));
    if (server === undefined) throw new UsageError('no server: give @ADDR[:PORT]');
    if (rest.length === 0) throw new UsageError('no NAME to query');
    if (rest.length > 2) throw new UsageError(`one NAME and one TYPE, not "${rest.join(' ')}"`);
    let request;
    try {
      request = { peer: parseHostPort(server, 53), name: parseUserName(rest[0] ?? ''), type: rest[1] === undefined ? RRType.A : parseType(rest[1]) };
    } catch (err) {
      throw new UsageError((err as Error).message, { cause: err });
    }
    return ask(server, request, { tcp: values.tcp === true, dnssecOk: values.dnssec === true, json: values.json === true, tsig });
  });
}

async function ask(
  server: string,
  request: { readonly peer: Peer; readonly name: Fqdn; readonly type: number },
  opts: { readonly tcp: boolean; readonly dnssecOk: boolean; readonly json: boolean; readonly tsig: TsigKey | undefined },
): Promise<number> {
  let res;
  try {
    res = await query(request.peer, request.name, request.type, {
      tcp: opts.tcp,
      dnssecOk: opts.dnssecOk,
      ...(opts.tsig === undefined ? {} : { tsig: opts.tsig }),
    });
  } catch (err) {
    complain('query', `${server}: ${(err as Error).message}`);
    return 1;
  }
  const m = res.message;
  const rcode = rcodeNames.get(m.rcode) ?? String(m.rcode);
  if (opts.json) {
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
