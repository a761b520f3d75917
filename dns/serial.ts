// RFC 1982 serial number arithmetic for 32-bit SOA serials.
import { DnsError } from './errors.ts';

const HALF = 0x80000000;
const MOD = 0x100000000;

function check(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v >= MOD) throw new DnsError(`${what} ${v} is not a 32-bit serial`);
}

/**
 * RFC 1982 §3.2 comparison: -1 when a < b, 0 when equal, 1 when a > b, and undefined when the
 * two are exactly 2^31 apart (the comparison is undefined there).
 */
export function serialCompare(a: number, b: number): -1 | 0 | 1 | undefined {
  check(a, 'serial');
  check(b, 'serial');
  if (a === b) return 0;
  const d = (b - a + MOD) % MOD;
  if (d === HALF) return undefined;
  return d < HALF ? -1 : 1;
}

/** True when a is greater than b in serial arithmetic (false for the undefined case). */
export function serialGt(a: number, b: number): boolean {
  return serialCompare(a, b) === 1;
}

/** RFC 1982 §3.1 addition: n must be in 0 .. 2^31-1. */
export function serialAdd(s: number, n: number): number {
  check(s, 'serial');
  if (!Number.isInteger(n) || n < 0 || n >= HALF) throw new DnsError(`serial increment ${n} out of range 0..2^31-1`);
  return (s + n) % MOD;
}

/** The larger of two serials in serial arithmetic; `a` when they are incomparable. */
export function serialMax(a: number, b: number): number {
  return serialCompare(b, a) === 1 ? b : a;
}
