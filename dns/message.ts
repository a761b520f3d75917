// DNS messages (RFC 1035 §4) ⇄ bytes. Our own codec rather than dns-packet's: we need opcode
// NOTIFY/UPDATE, 12-bit rcodes, TSIG position, hardened decoding (backward-only pointers,
// bounds on every read), RFC 2181 §9 truncation and fast compression for AXFR.
//
// RR.rdata is always the uncompressed wire form: decoding decompresses names inside RDATA of
// the RFC 3597 §4 types that may carry compressed names, encoding compresses only the
// well-known types (NS, MD, MF, CNAME, SOA, MB, MG, MR, PTR, MINFO, MX).
import { inputError, WireError } from './errors.ts';
import { decodeEdnsOptions, ednsOptionsLength, writeEdnsOptions, type Edns, type EdnsOptionData } from './edns.ts';
import { ROOT, type Fqdn } from './name.ts';
import { descriptorOf } from './rdata/descriptors.ts';
import { readNameAt, WireReader } from './rdata/wire.ts';
import type { RR } from './rr.ts';
import { CLASS_IN } from './rr.ts';
import { Opcode, RRType } from './types.ts';

export interface Question {
  /** Canonical (lower-cased) name: what lookups use. */
  readonly name: Fqdn;
  readonly type: number;
  readonly class: number;
  /**
   * The name's wire bytes exactly as received, kept by decodeMessage only when they differ from
   * `name` in case. The encoder writes them in the question section so a resolver that
   * randomises case (0x20, Unbound's use-caps-for-id) gets its question back byte-exact.
   */
  readonly wire?: Uint8Array;
}

/** The uncompressed wire bytes of the name at `off` when they hold an upper-case letter. */
function mixedCaseName(buf: Uint8Array, off: number): Uint8Array | undefined {
  let upper = false;
  let p = off;
  for (let len = buf[p] as number; len !== 0; len = buf[p] as number) {
    if (len > 63) return undefined; // a compression pointer: keep the canonical form
    for (let i = p + 1; i <= p + len; i++) {
      const c = buf[i] as number;
      if (c >= 0x41 && c <= 0x5a) upper = true;
    }
    p += len + 1;
  }
  return upper ? buf.slice(off, p + 1) : undefined;
}

export interface Message {
  readonly id: number;
  readonly qr: boolean;
  readonly opcode: number;
  readonly aa: boolean;
  readonly tc: boolean;
  readonly rd: boolean;
  readonly ra: boolean;
  readonly ad: boolean;
  readonly cd: boolean;
  /** Full 12-bit rcode: header bits plus the EDNS extended bits. */
  readonly rcode: number;
  readonly question: readonly Question[];
  readonly answer: readonly RR[];
  readonly authority: readonly RR[];
  /** Additional section without OPT and TSIG. */
  readonly additional: readonly RR[];
  readonly edns?: Edns;
  /** The TSIG RR (last in the additional section) and the byte offset where it starts. */
  readonly tsig?: { readonly rr: RR; readonly offset: number };
}

export interface DecodeOptions {
  /** Accept bytes after the last RR (default false: they are a WireError). */
  readonly allowTrailing?: boolean;
  /** Validate the RDATA of every RR of a known type against its layout (default false). */
  readonly validate?: boolean;
}

const HEADER = 12;

function u16(b: Uint8Array, o: number): number {
  return ((b[o] as number) << 8) | (b[o + 1] as number);
}

/**
 * Decodes a message. Throws WireError, and nothing else, on any malformed input: truncation,
 * forward or looping compression pointers, over-long labels or names, counts larger than the
 * data, OPT outside the additional section, more than one OPT or a non-root OPT owner, a TSIG
 * that is not the last RR, trailing bytes. Anything else thrown is a bug and passes through.
 */
export function decodeMessage(buf: Uint8Array, opts: DecodeOptions = {}): Message {
  try {
    return decode(buf, opts);
  } catch (err) {
    const e = inputError(err);
    if (e instanceof WireError) throw e;
    throw new WireError(`malformed message: ${e.message}`, 0, { cause: e });
  }
}

function decode(buf: Uint8Array, opts: DecodeOptions): Message {
  const len = buf.length;
  if (len < HEADER) throw new WireError('message shorter than the 12-octet header', len);
  const id = u16(buf, 0);
  const flags = u16(buf, 2);
  const qd = u16(buf, 4);
  const an = u16(buf, 6);
  const ns = u16(buf, 8);
  const ar = u16(buf, 10);
  if (HEADER + qd * 5 + (an + ns + ar) * 11 > len) throw new WireError('section counts exceed the message size', 4);
  let off = HEADER;
  const question: Question[] = [];
  for (let i = 0; i < qd; i++) {
    const { name, next } = readNameAt(buf, off, len, true, 'question name');
    if (next + 4 > len) throw new WireError('truncated question', next);
    const wire = mixedCaseName(buf, off);
    question.push(
      wire === undefined
        ? { name, type: u16(buf, next), class: u16(buf, next + 2) }
        : { name, type: u16(buf, next), class: u16(buf, next + 2), wire },
    );
    off = next + 4;
  }
  const answer: RR[] = [];
  const authority: RR[] = [];
  const additional: RR[] = [];
  let edns: Edns | undefined;
  let tsig: { rr: RR; offset: number } | undefined;
  const total = an + ns + ar;
  for (let i = 0; i < total; i++) {
    const start = off;
    const { name, next } = readNameAt(buf, off, len, true, 'owner name');
    if (next + 10 > len) throw new WireError('truncated RR header', next);
    const type = u16(buf, next);
    const klass = u16(buf, next + 2);
    const ttl = u16(buf, next + 4) * 0x10000 + u16(buf, next + 6);
    const rdlen = u16(buf, next + 8);
    const rdStart = next + 10;
    const rdEnd = rdStart + rdlen;
    if (rdEnd > len) throw new WireError('RDATA runs past the end of the message', rdStart);
    off = rdEnd;
    const inAdditional = i >= an + ns;
    if (type === RRType.OPT) {
      if (!inAdditional) throw new WireError('OPT outside the additional section', start);
      if (edns !== undefined) throw new WireError('more than one OPT RR', start);
      if (name !== ROOT) throw new WireError('OPT owner is not the root', start);
      edns = {
        udpSize: klass,
        extRcode: buf[next + 4] as number,
        version: buf[next + 5] as number,
        do: ((buf[next + 6] as number) & 0x80) !== 0,
        options: decodeEdnsOptions(buf.subarray(rdStart, rdEnd), rdStart),
      };
      continue;
    }
    const rdata = readRdata(buf, type, rdStart, rdEnd, opts.validate === true);
    const rr: RR = { name, type, class: klass, ttl, rdata };
    if (type === RRType.TSIG) {
      if (i !== total - 1 || !inAdditional) throw new WireError('TSIG is not the last RR', start);
      tsig = { rr, offset: start };
      continue;
    }
    if (i < an) answer.push(rr);
    else if (i < an + ns) authority.push(rr);
    else additional.push(rr);
  }
  if (off !== len && opts.allowTrailing !== true) throw new WireError('trailing octets after the last RR', off);
  const rcode = (flags & 0xf) | ((edns?.extRcode ?? 0) << 4);
  const msg: Message = {
    id,
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    ad: (flags & 0x0020) !== 0,
    cd: (flags & 0x0010) !== 0,
    rcode,
    question,
    answer,
    authority,
    additional,
    ...(edns !== undefined ? { edns } : {}),
    ...(tsig !== undefined ? { tsig } : {}),
  };
  return msg;
}

const rdScratch = new Uint8Array(65535);

/** Copies RDATA out of the message, expanding compressed names for the types that allow them. */
function readRdata(buf: Uint8Array, type: number, start: number, end: number, validate: boolean): Uint8Array {
  const desc = descriptorOf(type);
  if (desc === undefined || !desc.decompress) {
    const rdata = buf.slice(start, end);
    if (validate && desc !== undefined) {
      const r = new WireReader(rdata, 0, rdata.length);
      for (const f of desc.fields) {
        if (f.optional && r.remaining === 0) break;
        f.read(r);
      }
      if (r.remaining !== 0) throw new WireError('trailing octets in RDATA', start + r.off);
    }
    return rdata;
  }
  // Expanded into a scratch buffer (RDATA is at most 65535 octets), then copied out.
  const out = rdScratch;
  let o = 0;
  let p = start;
  for (const f of desc.fields) {
    const shape = f.shape;
    if (typeof shape === 'number') {
      if (p + shape > end) throw new WireError(`truncated ${f.name}`, p);
      if (o + shape > out.length) throw new WireError('RDATA too long after decompression', p);
      out.set(buf.subarray(p, p + shape), o);
      o += shape;
      p += shape;
    } else if (shape === 'name') {
      const r = copyName(buf, p, end, out, o);
      p = r.next;
      o = r.out;
    } else if (shape === 'cstr') {
      if (p >= end) throw new WireError(`truncated ${f.name}`, p);
      const n = 1 + (buf[p] as number);
      if (p + n > end) throw new WireError(`truncated ${f.name}`, p);
      if (o + n > out.length) throw new WireError('RDATA too long after decompression', p);
      out.set(buf.subarray(p, p + n), o);
      o += n;
      p += n;
    } else {
      const n = end - p;
      if (o + n > out.length) throw new WireError('RDATA too long after decompression', p);
      out.set(buf.subarray(p, end), o);
      o += n;
      p = end;
    }
  }
  if (p !== end) throw new WireError('trailing octets in RDATA', p);
  return out.slice(0, o);
}

/** Copies a possibly compressed name as uncompressed labels (case preserved). */
function copyName(buf: Uint8Array, off: number, end: number, out: Uint8Array, o0: number): { next: number; out: number } {
  let p = off;
  let o = o0;
  let next = -1;
  let limit = end;
  let wireLen = 1;
  for (;;) {
    if (p >= limit) throw new WireError('truncated name in RDATA', p);
    const l = buf[p] as number;
    if (l === 0) {
      if (next < 0) next = p + 1;
      if (o >= out.length) throw new WireError('RDATA too long after decompression', p);
      out[o++] = 0;
      return { next, out: o };
    }
    if ((l & 0xc0) === 0xc0) {
      if (p + 1 >= limit) throw new WireError('truncated pointer in RDATA', p);
      const target = ((l & 0x3f) << 8) | (buf[p + 1] as number);
      if (next < 0) next = p + 2;
      if (target >= p) throw new WireError('forward compression pointer in RDATA', p);
      limit = p;
      p = target;
      continue;
    }
    if ((l & 0xc0) !== 0) throw new WireError('bad label type in RDATA', p);
    if (p + 1 + l > limit) throw new WireError('truncated label in RDATA', p);
    wireLen += l + 1;
    if (wireLen > 255) throw new WireError('name in RDATA longer than 255 octets', p);
    if (o + l + 1 > out.length) throw new WireError('RDATA too long after decompression', p);
    out.set(buf.subarray(p, p + l + 1), o);
    o += l + 1;
    p += l + 1;
  }
}

// ------------------------------------------------------------------------------------------
// Encoding

export interface EncodeOptions {
  /** Truncate to this size (RFC 2181 §9: whole RRsets dropped from the end, TC set; OPT kept). */
  readonly maxSize?: number;
  /** Compress names (default true). */
  readonly compress?: boolean;
}

const MAX_MESSAGE = 65535;
let scratch = new Uint8Array(MAX_MESSAGE);

class Encoder {
  off = 0;
  readonly map: Map<string, number> | undefined;

  constructor(
    readonly buf: Uint8Array,
    readonly limit: number,
    compress: boolean,
  ) {
    this.map = compress ? new Map() : undefined;
  }

  room(n: number): boolean {
    return this.off + n <= this.limit;
  }

  u16(v: number): void {
    this.buf[this.off++] = (v >>> 8) & 0xff;
    this.buf[this.off++] = v & 0xff;
  }

  u32(v: number): void {
    this.buf[this.off++] = (v >>> 24) & 0xff;
    this.buf[this.off++] = (v >>> 16) & 0xff;
    this.buf[this.off++] = (v >>> 8) & 0xff;
    this.buf[this.off++] = v & 0xff;
  }

  /** Writes a name, compressed against earlier suffixes when compression is on. False if it does not fit. */
  name(n: Fqdn, compress: boolean): boolean {
    const buf = this.buf;
    const map = compress ? this.map : undefined;
    let pos = 0;
    const escaped = n.includes('\\');
    while (pos < n.length && n !== ROOT) {
      const key = pos === 0 ? n : n.slice(pos);
      if (map !== undefined) {
        const ptr = map.get(key);
        if (ptr !== undefined) {
          if (!this.room(2)) return false;
          buf[this.off++] = 0xc0 | (ptr >> 8);
          buf[this.off++] = ptr & 0xff;
          return true;
        }
        if (this.off < 0x3fff) map.set(key, this.off);
      }
      // Label text runs to the next unescaped dot.
      let end = pos;
      if (!escaped) {
        end = n.indexOf('.', pos);
        const l = end - pos;
        if (!this.room(l + 1)) return false;
        buf[this.off++] = l;
        for (let i = pos; i < end; i++) buf[this.off++] = n.charCodeAt(i);
      } else {
        const lenAt = this.off++;
        let l = 0;
        for (end = pos; n.charCodeAt(end) !== 0x2e; end++) {
          if (!this.room(1)) return false;
          let c = n.charCodeAt(end);
          if (c === 0x5c) {
            const d = n.charCodeAt(end + 1);
            if (d >= 0x30 && d <= 0x39) {
              c = Number(n.slice(end + 1, end + 4));
              end += 3;
            } else {
              c = d;
              end += 1;
            }
          }
          buf[this.off++] = c;
          l++;
        }
        buf[lenAt] = l;
      }
      pos = end + 1;
    }
    if (!this.room(1)) return false;
    buf[this.off++] = 0;
    return true;
  }

  /** Writes one RR; false (and the offset restored) when it does not fit. */
  rr(rr: RR, compress: boolean): boolean {
    const start = this.off;
    if (!this.name(rr.name, compress) || !this.room(10 + rr.rdata.length)) {
      this.off = start;
      return false;
    }
    this.u16(rr.type);
    this.u16(rr.class);
    this.u32(rr.ttl >>> 0);
    const lenAt = this.off;
    this.off += 2;
    const desc = compress ? descriptorOf(rr.type) : undefined;
    if (desc !== undefined && desc.compress) {
      if (!this.compressedRdata(rr, desc.fields)) {
        this.off = start;
        return false;
      }
    } else {
      this.buf.set(rr.rdata, this.off);
      this.off += rr.rdata.length;
    }
    const rdlen = this.off - lenAt - 2;
    this.buf[lenAt] = rdlen >> 8;
    this.buf[lenAt + 1] = rdlen & 0xff;
    return true;
  }

  private compressedRdata(rr: RR, fields: readonly { shape: number | string }[]): boolean {
    const rd = rr.rdata;
    let p = 0;
    for (const f of fields) {
      if (typeof f.shape === 'number') {
        if (p + f.shape > rd.length) throw new WireError(`RDATA of type ${rr.type} too short`, p);
        if (!this.room(f.shape)) return false;
        this.buf.set(rd.subarray(p, p + f.shape), this.off);
        this.off += f.shape;
        p += f.shape;
      } else {
        const { name, next } = readNameAt(rd, p, rd.length, false, 'RDATA name');
        if (!this.name(name, true)) return false;
        p = next;
      }
    }
    if (p !== rd.length) throw new WireError(`RDATA of type ${rr.type} has trailing octets`, p);
    return true;
  }
}

function sameRRset(a: RR, b: RR): boolean {
  return a.name === b.name && a.type === b.type && a.class === b.class;
}

/**
 * Encodes a message. With `maxSize`, RRsets that do not fit are dropped whole from the end
 * and TC is set when answer or authority data was dropped (RFC 2181 §9); the OPT RR is always
 * kept. Without `maxSize` the limit is 65535 octets and exceeding it is a WireError.
 */
export function encodeMessage(msg: Message, opts: EncodeOptions = {}): Uint8Array {
  const compress = opts.compress ?? true;
  const limit = Math.min(opts.maxSize ?? MAX_MESSAGE, MAX_MESSAGE);
  if (limit < HEADER) throw new WireError(`maxSize ${limit} is below the header size`, 0);
  if (scratch.length < MAX_MESSAGE) scratch = new Uint8Array(MAX_MESSAGE);
  // OPT space is reserved up front so truncation never drops it.
  const edns = msg.edns;
  const optLen = edns !== undefined ? 11 + ednsOptionsLength(edns.options) : 0;
  const tsigRR = msg.tsig?.rr;
  const body = new Encoder(scratch, limit - optLen, compress);
  body.off = HEADER;
  for (const q of msg.question) {
    const start = body.off;
    if (!body.name(q.name, compress) || !body.room(4)) throw new WireError('question does not fit in maxSize', body.off);
    // The name as received (0x20 case); same length means it was written whole, not compressed.
    if (q.wire !== undefined && body.off - start === q.wire.length) body.buf.set(q.wire, start);
    body.u16(q.type);
    body.u16(q.class);
  }
  const sections = [msg.answer, msg.authority, msg.additional];
  const counts = [0, 0, 0];
  let tc = msg.tc;
  let truncated = false;
  for (let s = 0; s < 3 && !truncated; s++) {
    const list = sections[s] as readonly RR[];
    let setStart = body.off;
    let setCount = 0;
    for (let i = 0; i < list.length; i++) {
      const rr = list[i] as RR;
      const prev = list[i - 1];
      if (prev === undefined || !sameRRset(prev, rr)) {
        setStart = body.off;
        setCount = counts[s] as number;
      }
      if (!body.rr(rr, compress)) {
        if (opts.maxSize === undefined) throw new WireError('message longer than 65535 octets', body.off);
        body.off = setStart;
        counts[s] = setCount;
        if (s < 2) tc = true;
        truncated = true;
        break;
      }
      counts[s] = (counts[s] as number) + 1;
    }
  }
  const e = new Encoder(scratch, MAX_MESSAGE, false);
  e.off = body.off;
  let arcount = counts[2] as number;
  if (edns !== undefined) {
    const b = e.buf;
    b[e.off++] = 0;
    e.u16(RRType.OPT);
    e.u16(edns.udpSize);
    const ext = (msg.rcode >> 4) & 0xff;
    b[e.off++] = ext;
    b[e.off++] = edns.version & 0xff;
    e.u16(edns.do ? 0x8000 : 0);
    e.u16(optLen - 11);
    e.off = writeEdnsOptions(b, e.off, edns.options);
    arcount++;
  }
  if (tsigRR !== undefined) {
    const tsigEnc = new Encoder(scratch, MAX_MESSAGE, false);
    tsigEnc.off = e.off;
    if (!tsigEnc.rr(tsigRR, false)) throw new WireError('TSIG does not fit', e.off);
    e.off = tsigEnc.off;
    arcount++;
  }
  const b = e.buf;
  b[0] = msg.id >> 8;
  b[1] = msg.id & 0xff;
  b[2] =
    (msg.qr ? 0x80 : 0) | ((msg.opcode & 0xf) << 3) | (msg.aa ? 0x04 : 0) | (tc ? 0x02 : 0) | (msg.rd ? 0x01 : 0);
  b[3] = (msg.ra ? 0x80 : 0) | (msg.ad ? 0x20 : 0) | (msg.cd ? 0x10 : 0) | (msg.rcode & 0xf);
  b[4] = msg.question.length >> 8;
  b[5] = msg.question.length & 0xff;
  b[6] = (counts[0] as number) >> 8;
  b[7] = (counts[0] as number) & 0xff;
  b[8] = (counts[1] as number) >> 8;
  b[9] = (counts[1] as number) & 0xff;
  b[10] = arcount >> 8;
  b[11] = arcount & 0xff;
  return b.slice(0, e.off);
}

// ------------------------------------------------------------------------------------------
// Helpers

export interface MakeQueryOptions {
  readonly id?: number;
  readonly opcode?: number;
  readonly rd?: boolean;
  readonly aa?: boolean;
  readonly class?: number;
  /** Records for the answer section (NOTIFY carries the SOA) and authority (IXFR carries ours). */
  readonly answer?: readonly RR[];
  readonly authority?: readonly RR[];
  /** EDNS UDP size; 0 sends no OPT. Default 1232. */
  readonly udpSize?: number;
  readonly dnssecOk?: boolean;
  /** EDNS options to send (needs udpSize > 0). */
  readonly ednsOptions?: readonly EdnsOptionData[];
}

/** A query message for (name, type). The id defaults to 0: set a random one for the network. */
export function makeQuery(name: Fqdn, type: number, opts: MakeQueryOptions = {}): Message {
  const udpSize = opts.udpSize ?? 1232;
  return {
    id: opts.id ?? 0,
    qr: false,
    opcode: opts.opcode ?? Opcode.QUERY,
    aa: opts.aa ?? false,
    tc: false,
    rd: opts.rd ?? false,
    ra: false,
    ad: false,
    cd: false,
    rcode: 0,
    question: [{ name, type, class: opts.class ?? CLASS_IN }],
    answer: [...(opts.answer ?? [])],
    authority: [...(opts.authority ?? [])],
    additional: [],
    ...(udpSize > 0 ? { edns: { udpSize, extRcode: 0, version: 0, do: opts.dnssecOk ?? false, options: [...(opts.ednsOptions ?? [])] } } : {}),
  };
}

/** A response skeleton for `query`: same id, opcode, RD, CD and question; OPT echoed (DO kept). */
export function makeResponse(query: Message, udpSize = 1232): Message {
  return responseTo(query, { rcode: 0, question: query.question }, udpSize);
}

/**
 * A response skeleton for `req` with `fields` set: same id, opcode, RD and CD, no question
 * unless given; OPT echoed (DO kept) with our UDP size.
 */
export function responseTo(req: Message, fields: Partial<Message> & { rcode: number }, udpSize = 1232): Message {
  return {
    id: req.id,
    qr: true,
    opcode: req.opcode,
    aa: false,
    tc: false,
    rd: req.rd,
    ra: false,
    ad: false,
    cd: req.cd,
    question: [],
    answer: [],
    authority: [],
    additional: [],
    ...(req.edns !== undefined ? { edns: { udpSize, extRcode: 0, version: 0, do: req.edns.do, options: [] } } : {}),
    ...fields,
  };
}
