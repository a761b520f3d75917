// Waiting for a DNS server the lab started to answer: the owner's primary and Unbound.
import type { Fqdn } from '../../dns/name.ts';
import { query } from '../../dns/net/client.ts';
import type { Peer } from '../../dns/net/transport.ts';
import { Rcode, RRType } from '../../dns/types.ts';

/**
 * Resolves once `server` answers an SOA query for `name` with NOERROR; throws when `failed()`
 * names a reason (the process died) or after `timeoutMs`.
 */
export async function waitForAnswer(server: Peer, name: Fqdn, opts: { rd?: boolean; timeoutMs: number; failed?: () => string | undefined }): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const failure = opts.failed?.();
    if (failure !== undefined) throw new Error(failure);
    const ok = await query(server, name, RRType.SOA, { rd: opts.rd ?? false, timeoutMs: 500, attempts: 1 }).then(
      (r) => r.message.rcode === Rcode.NOERROR,
      () => false, // not listening yet
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${server.address}:${server.port} did not answer within ${opts.timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
