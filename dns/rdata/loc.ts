// LOC (RFC 1876): one custom field for the whole RDATA, since the presentation form
// (degrees minutes seconds, metres with optional size and precisions) maps onto several
// wire fields at once.
import { FieldError, inputError, WireError } from '../errors.ts';
import { custom, type Field } from './fields.ts';

export interface Loc {
  readonly version: number;
  /** Size and precisions in the RFC 1876 mantissa/exponent octet form. */
  readonly size: number;
  readonly horizPre: number;
  readonly vertPre: number;
  /** Thousandths of an arc second, offset by 2^31 (equator / prime meridian). */
  readonly latitude: number;
  readonly longitude: number;
  /** Centimetres above 100,000 m below the reference spheroid. */
  readonly altitude: number;
}

const EQUATOR = 0x80000000;
const ALT_BASE = 10000000;

/** Centimetres → RFC 1876 size octet (mantissa << 4 | exponent), truncating like BIND. */
function toPrecision(cm: number): number {
  let e = 0;
  while (e < 9 && cm >= 10 ** (e + 1)) e++;
  const m = Math.min(9, Math.floor(cm / 10 ** e));
  return (m << 4) | e;
}

function fromPrecision(b: number): number {
  const m = b >> 4;
  const e = b & 0xf;
  if (m > 9 || e > 9) throw new FieldError('bad LOC size/precision octet');
  return m * 10 ** e;
}

function metresToCm(text: string, what: string): number {
  const m = /^(-?)([0-9]{1,8})(?:\.([0-9]{1,2}))?m?$/.exec(text);
  if (m === null) throw new FieldError(`bad LOC ${what} "${text}"`);
  const cm = Number(m[2]) * 100 + Number((m[3] ?? '0').padEnd(2, '0'));
  return m[1] === '-' ? -cm : cm;
}

/** Altitudes always with centimetres; sizes and precisions in whole metres from 1 m up. */
function formatCm(cm: number, alwaysDecimals: boolean): string {
  const sign = cm < 0 ? '-' : '';
  const a = Math.abs(cm);
  const whole = Math.floor(a / 100);
  const frac = a % 100;
  return !alwaysDecimals && a >= 100 ? `${sign}${whole}m` : `${sign}${whole}.${String(frac).padStart(2, '0')}m`;
}

function parseCoord(tokens: string[], hemis: [string, string], maxDeg: number, what: string): number {
  const deg = Number(tokens.shift());
  let min = 0;
  let sec = 0;
  let t = tokens.shift();
  if (t !== undefined && /^[0-9]+$/.test(t)) {
    min = Number(t);
    t = tokens.shift();
    if (t !== undefined && /^[0-9]+(?:\.[0-9]{1,3})?$/.test(t)) {
      sec = Number(t);
      t = tokens.shift();
    }
  }
  if (!Number.isInteger(deg) || deg > maxDeg || min > 59 || sec >= 60) throw new FieldError(`bad LOC ${what}`);
  const h = (t ?? '').toUpperCase();
  if (h !== hemis[0] && h !== hemis[1]) throw new FieldError(`LOC ${what}: expected ${hemis.join(' or ')}`);
  const thousandths = Math.round(((deg * 60 + min) * 60 + sec) * 1000);
  if (thousandths > maxDeg * 3600000) throw new FieldError(`LOC ${what} out of range`);
  return h === hemis[0] ? EQUATOR + thousandths : EQUATOR - thousandths;
}

function formatCoord(v: number, hemis: [string, string]): string {
  let x = v - EQUATOR;
  const h = x < 0 ? hemis[1] : hemis[0];
  x = Math.abs(x);
  const ms = x % 1000;
  x = Math.floor(x / 1000);
  const s = x % 60;
  x = Math.floor(x / 60);
  const m = x % 60;
  const d = Math.floor(x / 60);
  return `${d} ${m} ${s}.${String(ms).padStart(3, '0')} ${h}`;
}

export function loc<N extends string>(name: N): Field<N, Loc> {
  return custom(name, {
    kind: 'loc',
    shape: 'other',
    read: (r) => {
      const at = r.off;
      const v: Loc = {
        version: r.u8('LOC version'),
        size: r.u8('LOC size'),
        horizPre: r.u8('LOC precision'),
        vertPre: r.u8('LOC precision'),
        latitude: r.u32('LOC latitude'),
        longitude: r.u32('LOC longitude'),
        altitude: r.u32('LOC altitude'),
      };
      if (v.version !== 0) throw new WireError(`LOC version ${v.version} unsupported`, at);
      try {
        for (const p of [v.size, v.horizPre, v.vertPre]) fromPrecision(p);
      } catch (err) {
        throw new WireError(inputError(err).message, at + 1, { cause: err });
      }
      if (Math.abs(v.latitude - EQUATOR) > 90 * 3600000 || Math.abs(v.longitude - EQUATOR) > 180 * 3600000) {
        throw new WireError('LOC coordinates out of range', at + 4);
      }
      return v;
    },
    write: (w, v) => {
      w.u8(v.version);
      w.u8(v.size);
      w.u8(v.horizPre);
      w.u8(v.vertPre);
      w.u32(v.latitude);
      w.u32(v.longitude);
      w.u32(v.altitude);
    },
    parse: (c) => {
      const texts = c.rest('LOC data').map((t) => t.text);
      const latitude = parseCoord(texts, ['N', 'S'], 90, 'latitude');
      const longitude = parseCoord(texts, ['E', 'W'], 180, 'longitude');
      const alt = texts.shift();
      if (alt === undefined) throw new FieldError('LOC: missing altitude');
      const altitude = ALT_BASE + metresToCm(alt, 'altitude');
      if (altitude < 0 || altitude > 0xffffffff) throw new FieldError('LOC altitude out of range');
      const pre = (t: string | undefined, def: number, what: string): number => {
        if (t === undefined) return toPrecision(def);
        const cm = metresToCm(t, what);
        if (cm < 0) throw new FieldError(`LOC ${what} negative`);
        return toPrecision(cm);
      };
      const size = pre(texts.shift(), 100, 'size');
      const horizPre = pre(texts.shift(), 1000000, 'horizontal precision');
      const vertPre = pre(texts.shift(), 1000, 'vertical precision');
      if (texts.length > 0) throw new FieldError('LOC: trailing data');
      return { version: 0, size, horizPre, vertPre, latitude, longitude, altitude };
    },
    format: (v) =>
      [
        formatCoord(v.latitude, ['N', 'S']),
        formatCoord(v.longitude, ['E', 'W']),
        formatCm(v.altitude - ALT_BASE, true),
        formatCm(fromPrecision(v.size), false),
        formatCm(fromPrecision(v.horizPre), false),
        formatCm(fromPrecision(v.vertPre), false),
      ].join(' '),
    accepts: (v: unknown): v is Loc => typeof v === 'object' && v !== null && 'latitude' in v && 'altitude' in v,
  });
}
