// KV keys of persisted machines: `<zone>.<machine-id>`, each part escaped so that keys stay inside
// the broker's key alphabet ([A-Za-z0-9_=/.-]) and the one `.` separates zone from machine id.
// Zone: the broker's subject token of the zone (`keyToken`: lower case, trailing dot dropped,
// label dots become `_`, other bytes outside [a-z0-9-] `=XX`; root `=`). Machine id: bytes outside
// [a-z0-9-] become `=XX`. So `example.com.` + `peer-alpha` is `example_com.peer-alpha`, and all
// machines of a zone share the prefix `example_com.`.
import { keyToken } from '../broker/subjects.ts';

const PLAIN = /^[a-z0-9-]$/;
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

function escapePart(s: string): string {
  let out = '';
  if (/^[a-z0-9-]*$/.test(s)) return s;
  for (const byte of utf8.encode(s)) {
    const ch = String.fromCharCode(byte);
    out += PLAIN.test(ch) ? ch : `=${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

function unescapePart(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (s[i] === '=' && i + 2 < s.length && /^[0-9a-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(c);
  }
  return utf8Decoder.decode(new Uint8Array(bytes));
}

/** The zone as the host keys it: lower case, absolute (one trailing dot). */
export function canonicalZone(zone: string): string {
  const z = zone.toLowerCase();
  return z.endsWith('.') ? z : `${z}.`;
}

/** The escaped zone part of a key; every machine of `zone` has a key starting with this plus `.`. */
export function zoneKeyPart(zone: string): string {
  return keyToken(canonicalZone(zone));
}

/** The KV key prefix of every machine of `zone`. */
export function zoneKeyPrefix(zone: string): string {
  return `${zoneKeyPart(zone)}.`;
}

/** The KV key of one machine of one zone. */
export function machineKey(zone: string, machineId: string): string {
  if (machineId === '') throw new RangeError('empty machine id');
  return `${zoneKeyPart(zone)}.${escapePart(machineId)}`;
}

/** Zone (absolute, lower case) and machine id of a key made by machineKey, or undefined. */
export function parseMachineKey(key: string): { zone: string; machineId: string } | undefined {
  const dot = key.indexOf('.');
  if (dot <= 0 || dot === key.length - 1 || key.indexOf('.', dot + 1) !== -1) return undefined;
  const zonePart = key.slice(0, dot);
  const zone = zonePart === '=' ? '.' : `${zonePart.split('_').map(unescapePart).join('.')}.`;
  return { zone, machineId: unescapePart(key.slice(dot + 1)) };
}
