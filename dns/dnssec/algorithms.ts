// DNSSEC algorithm numbers (IANA) and what this engine can do with each.
import { AlgorithmError } from './errors.ts';

export const Algorithm = {
  RSASHA256: 8,
  RSASHA512: 10,
  ECDSAP256SHA256: 13,
  ECDSAP384SHA384: 14,
  ED25519: 15,
} as const;
export type AlgorithmNumber = (typeof Algorithm)[keyof typeof Algorithm];

/** Algorithms this engine signs with (generate, import, sign). */
export const SIGNING_ALGORITHMS: readonly number[] = [13, 14, 15];
/** Algorithms this engine verifies RRSIGs of. */
export const VERIFY_ALGORITHMS: readonly number[] = [8, 10, 13, 14, 15];

const names = new Map<number, string>([
  [8, 'RSASHA256'],
  [10, 'RSASHA512'],
  [13, 'ECDSAP256SHA256'],
  [14, 'ECDSAP384SHA384'],
  [15, 'ED25519'],
]);

/** Mnemonic of an algorithm number (as BIND writes it in `Algorithm: 13 (ECDSAP256SHA256)`). */
export function algorithmName(alg: number): string {
  return names.get(alg) ?? `ALG${alg}`;
}

/**
 * Parses a user-given algorithm: a number, the IANA mnemonic, or the CLI short forms
 * `ed25519`, `ecdsap256`, `ecdsap384`. Throws AlgorithmError for anything it cannot sign with.
 */
export function parseSigningAlgorithm(text: string): number {
  const t = text.trim().toLowerCase();
  const short: Record<string, number> = {
    ed25519: 15,
    ecdsap256: 13,
    ecdsap256sha256: 13,
    ecdsap384: 14,
    ecdsap384sha384: 14,
    '13': 13,
    '14': 14,
    '15': 15,
  };
  const alg = short[t];
  if (alg === undefined) {
    throw new AlgorithmError(
      `unsupported signing algorithm "${text}" (use ed25519 or ecdsap256)`,
      text,
    );
  }
  return alg;
}
