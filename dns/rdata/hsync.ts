// The reader's view of an HSYNC RR (docs/design.md): labels compared with one trailing dot stripped
// (TDNS writes `alpha.`), trailing fields that TDNS may omit reported as undefined.
import type { Fqdn } from '../name.ts';
import { decodeRdata } from './codec.ts';

export interface HsyncView {
  /** 'ON' (1), 'OFF' (0), or the raw number for any other value. */
  readonly state: 'ON' | 'OFF' | number;
  readonly label: string | undefined;
  readonly identity: Fqdn | undefined;
  /** undefined when absent; '.' means "no upstream". */
  readonly upstream: string | undefined;
}

/** Strips one trailing dot from a provider label. */
export function normalizeLabel(label: string): string {
  return label.length > 1 && label.endsWith('.') ? label.slice(0, -1) : label;
}

/** Decodes HSYNC RDATA into the reader's view; throws WireError on bad bytes. */
export function hsyncView(rdata: Uint8Array): HsyncView {
  const r = decodeRdata('HSYNC', rdata);
  return {
    state: r.state === 1 ? 'ON' : r.state === 0 ? 'OFF' : r.state,
    label: r.label === undefined ? undefined : normalizeLabel(r.label),
    identity: r.identity,
    upstream: r.upstream === undefined ? undefined : normalizeLabel(r.upstream),
  };
}
