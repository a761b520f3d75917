// The server's reply to a JetStream publish, read without nats.js's JetStream client (used with
// reply-inbox.ts on the hot path). `{ stream, seq, duplicate? }` or `{ error: ApiError }`.
import { JetStreamApiError, type ApiError } from '@nats-io/jetstream';
import type { Msg } from '@nats-io/transport-node';
import { BrokerError } from './errors.ts';

/** JetStream's header names (ADR-8 / nats.js `PubHeaders`). */
export const MSG_ID_HEADER = 'Nats-Msg-Id';
export const EXPECTED_LAST_SUBJECT_SEQ_HEADER = 'Nats-Expected-Last-Subject-Sequence';

export interface PubAck {
  readonly seq: number;
  readonly duplicate: boolean;
}

/** The stored sequence of a publish; throws JetStreamApiError (as nats.js does) for `error`. */
export function pubAckOf(msg: Msg): PubAck {
  let r: unknown;
  try {
    r = msg.json();
  } catch (err) {
    throw new BrokerError('unreadable JetStream publish acknowledgement', { cause: err });
  }
  if (typeof r !== 'object' || r === null) throw new BrokerError('unreadable JetStream publish acknowledgement');
  const { error, seq, duplicate, stream } = r as { error?: ApiError; seq?: unknown; duplicate?: unknown; stream?: unknown };
  if (error !== undefined) throw new JetStreamApiError(error);
  if (typeof seq !== 'number' || typeof stream !== 'string' || stream === '') {
    throw new BrokerError('invalid JetStream publish acknowledgement');
  }
  return { seq, duplicate: duplicate === true };
}
