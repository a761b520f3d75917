// The two durable queues between a provider's agent and its gateway, whichever processes they
// run in:
//   `gateway`      the agent's outbound messages (one work item per message to one peer); the
//                  gateway sends each until a peer's confirm verifies or the item expires.
//   `agent-inbox`  what the gateway hands back: messages it accepted from peers, and the
//                  outcome of every outbound item (confirmed, or given up with the last reason).
// Items are msgpack maps (broker/codec.ts); a malformed one is poison and dead-lettered.
import { decode, encode } from '../../broker/codec.ts';
import { BadWorkError } from '../errors.ts';
import type { Fqdn } from '../../dns/name.ts';
import type { Message } from '../../protocol/messages.ts';
import type { Accepted } from './receive.ts';

export const GATEWAY_QUEUE = 'gateway';
export const AGENT_INBOX = 'agent-inbox';

/** One message for one peer. */
export interface Outbound {
  readonly peer: Fqdn;
  readonly message: Message;
  /** Kept across retries (TDNS-style: a retry is re-signed under the same id). */
  readonly distributionId: string;
  /** Give up after this time, ms since the epoch. */
  readonly expiresAt: number;
  /** Returned verbatim in the outcome, for the agent to route it. */
  readonly ref: Readonly<Record<string, string>>;
}

/** The outcome of one outbound item. */
export interface Sent {
  readonly peer: Fqdn;
  readonly type: Message['type'];
  readonly distributionId: string;
  readonly ok: boolean;
  /** Why the last attempt failed (empty when ok). */
  readonly reason: string;
  readonly attempts: number;
  readonly ref: Readonly<Record<string, string>>;
  readonly at: number;
}

export type InboxItem = { readonly kind: 'received'; readonly accepted: Accepted } | { readonly kind: 'sent'; readonly sent: Sent };

export function encodeOutbound(o: Outbound): Uint8Array {
  return encode(o);
}

export function decodeOutbound(bytes: Uint8Array): Outbound {
  const o = decode(bytes) as Partial<Outbound> | null;
  if (o === null || typeof o !== 'object' || typeof o.peer !== 'string' || typeof o.message !== 'object' || typeof o.distributionId !== 'string' || typeof o.expiresAt !== 'number') {
    throw new BadWorkError('outbound item lacks peer, message, distributionId or expiresAt');
  }
  return { ...o, ref: o.ref ?? {} } as Outbound;
}

export function encodeInbox(i: InboxItem): Uint8Array {
  return encode(i);
}

export function decodeInbox(bytes: Uint8Array): InboxItem {
  const i = decode(bytes) as { kind?: unknown; accepted?: unknown; sent?: unknown } | null;
  if (i?.kind === 'received' && typeof i.accepted === 'object' && i.accepted !== null) return i as InboxItem;
  if (i?.kind === 'sent' && typeof i.sent === 'object' && i.sent !== null) return i as InboxItem;
  throw new BadWorkError('inbox item is neither received nor sent');
}

/** Delay before the next attempt of an outbound item: 25 ms doubling per attempt, at most 5 s. */
export function retryDelayMs(attempt: number): number {
  return Math.min(5000, 25 * 2 ** Math.max(0, attempt - 1));
}
