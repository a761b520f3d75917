// bench:wire — the DNS wire layer against dns-packet in the same run: message encode and decode
// of AXFR-sized messages (records/s, ratio ours / dns-packet), plus tokenizer and RDATA parse
// rates on generated zone text. `--json` prints one JSON object on the last line.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';
import { decodeMessage, encodeMessage, makeQuery, makeResponse, type Message } from '../../dns/message.ts';
import { parseName, type Fqdn } from '../../dns/name.ts';
import { parseNameFast } from '../../dns/presentation/names.ts';
import { Tokenizer } from '../../dns/presentation/tokenizer.ts';
import { parseRdata } from '../../dns/rdata/index.ts';
import type { RR } from '../../dns/rr.ts';
import { typeFromString } from '../../dns/types.ts';
import { generateZone } from '../support/genzone.ts';
import { bestOf, numberArg, printJson, printTable, wantsJson } from '../support/bench.ts';

const json = wantsJson();
const RECORDS = numberArg('--records', 200_000);
const PER_MESSAGE = 400;
const origin = parseName('bench.example.');

// Zone text → tokens → RRs (a minimal zone reader: owner, TTL/class skipped, type, RDATA).
const zone = generateZone({ origin, records: RECORDS, seed: 7 });
const rrs: RR[] = [];
let tokens = 0;
const tokenizeMs = bestOf(3, () => {
  tokens = 0;
  for (const l of new Tokenizer(zone.text)) tokens += l.tokens.length;
});
const parseMs = bestOf(1, () => {
  let owner: Fqdn = origin;
  for (const l of new Tokenizer(zone.text)) {
    const t = l.tokens;
    if (t[0]?.text.startsWith('$') === true) continue;
    let i = 0;
    if (!l.indented) owner = parseNameFast(t[i++]?.text ?? '@', origin);
    let type: number | undefined;
    while (i < t.length && type === undefined) {
      const x = t[i++]?.text ?? '';
      const c = x.charCodeAt(0);
      if ((c >= 0x30 && c <= 0x39) || x === 'IN') continue;
      type = typeFromString(x);
    }
    if (type === undefined) continue;
    rrs.push({ name: owner, type, class: 1, ttl: 300, rdata: parseRdata(type, t, origin, i) });
  }
});

// Reference for the text path: named-checkzone on the same text. `-i local` skips the
// integrity checks that resolve out-of-zone names (they hang without network access).
const dir = mkdtempSync(join(tmpdir(), 'mpdns-bench-wire-'));
const file = join(dir, 'bench.zone');
writeFileSync(file, zone.text);
let namedMs = NaN;
try {
  const t0 = performance.now();
  const r = spawnSync('named-checkzone', ['-q', '-i', 'local', origin, file], { stdio: 'ignore', timeout: 120_000 });
  if (r.status === 0) namedMs = performance.now() - t0;
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// AXFR-like messages of PER_MESSAGE records each.
const base = makeResponse(makeQuery(origin, 252, { udpSize: 0 }));
const ours: Message[] = [];
for (let i = 0; i < rrs.length; i += PER_MESSAGE) ours.push({ ...base, aa: true, answer: rrs.slice(i, i + PER_MESSAGE) });

// The same messages for dns-packet, in its object shape (types it handles; TXT as buffers).
type DpAnswer = dnsPacket.Answer;
const toDp = (rr: RR): DpAnswer => {
  const type = rr.type === 1 ? 'A' : rr.type === 28 ? 'AAAA' : rr.type === 15 ? 'MX' : rr.type === 2 ? 'NS' : 'TXT';
  const r = (dnsPacket as unknown as { record(t: string): { decode(b: Buffer, o: number): unknown } }).record(type);
  const buf = Buffer.alloc(2 + rr.rdata.length);
  buf.writeUInt16BE(rr.rdata.length, 0);
  buf.set(rr.rdata, 2);
  return { name: rr.name.slice(0, -1), type, ttl: rr.ttl, class: 'IN', data: r.decode(buf, 0) } as DpAnswer;
};
const dpMsgs: dnsPacket.Packet[] = ours.map((m) => ({
  type: 'response',
  id: 0,
  flags: dnsPacket.AUTHORITATIVE_ANSWER,
  questions: [{ name: 'bench.example', type: 'AXFR', class: 'IN' }],
  answers: m.answer.filter((rr) => [1, 2, 15, 16, 28].includes(rr.type)).map(toDp),
}));
const dpCount = dpMsgs.reduce((n, m) => n + (m.answers?.length ?? 0), 0);

let ourBytes: Uint8Array[] = [];
const encOurs = bestOf(3, () => {
  ourBytes = ours.map((m) => encodeMessage(m));
});
let dpBytes: Buffer[] = [];
const encDp = bestOf(3, () => {
  dpBytes = dpMsgs.map((m) => dnsPacket.encode(m));
});
const decOurs = bestOf(3, () => {
  for (const b of ourBytes) decodeMessage(b);
});
const decDp = bestOf(3, () => {
  for (const b of dpBytes) dnsPacket.decode(b);
});

const rate = (n: number, ms: number): number => Math.round((n / ms) * 1000);
const ourSize = ourBytes.reduce((n, b) => n + b.length, 0);
const dpSize = dpBytes.reduce((n, b) => n + b.length, 0);
const result = {
  records: rrs.length,
  tokenizeMBps: Math.round(zone.text.length / 1e6 / (tokenizeMs / 1000)),
  tokensPerSec: rate(tokens, tokenizeMs),
  parseRecordsPerSec: rate(rrs.length, parseMs),
  namedCheckzoneRecordsPerSec: Number.isNaN(namedMs) ? null : rate(rrs.length, namedMs),
  parseRatio: Number.isNaN(namedMs) ? null : Number((parseMs / namedMs).toFixed(2)),
  encodeRecordsPerSec: rate(rrs.length, encOurs),
  dnsPacketEncodeRecordsPerSec: rate(dpCount, encDp),
  encodeRatio: Number((rate(rrs.length, encOurs) / rate(dpCount, encDp)).toFixed(2)),
  decodeRecordsPerSec: rate(rrs.length, decOurs),
  dnsPacketDecodeRecordsPerSec: rate(dpCount, decDp),
  decodeRatio: Number((rate(rrs.length, decOurs) / rate(dpCount, decDp)).toFixed(2)),
  bytesPerRecord: Number((ourSize / rrs.length).toFixed(1)),
  dnsPacketBytesPerRecord: Number((dpSize / dpCount).toFixed(1)),
};

const rows: [string, string, string, string][] = [
  ['figure', 'mpdns', 'reference', 'ratio'],
  ['message encode (records/s)', String(result.encodeRecordsPerSec), String(result.dnsPacketEncodeRecordsPerSec), String(result.encodeRatio)],
  ['message decode (records/s)', String(result.decodeRecordsPerSec), String(result.dnsPacketDecodeRecordsPerSec), String(result.decodeRatio)],
  ['wire bytes per record', String(result.bytesPerRecord), String(result.dnsPacketBytesPerRecord), (result.bytesPerRecord / result.dnsPacketBytesPerRecord).toFixed(2)],
  ['tokenize (MB/s)', String(result.tokenizeMBps), '-', '-'],
  [
    'tokenize + owner + RDATA (records/s)',
    String(result.parseRecordsPerSec),
    `${result.namedCheckzoneRecordsPerSec ?? 'n/a'}`,
    `${result.parseRatio ?? 'n/a'}`,
  ],
];
process.stdout.write(`bench:wire  ${rrs.length} records, ${PER_MESSAGE} per message\n`);
process.stdout.write('reference: dns-packet for messages; named-checkzone -i local for the text row (ratio = time ours / theirs)\n\n');
printTable(rows);
printJson(json, result);
