// The inter-provider messages: one discriminated union on `type`, with a JSON codec that writes
// the prototype's (TDNS, Go) shapes and reads them back leniently: keys are matched without
// regard to case (Go's encoding/json does the same), and the aliases TDNS's receivers accept
// (`type`, `sender_id`, `timestamp`, `zone`) are read too. Times are epoch milliseconds here,
// RFC 3339 on the wire (the confirm's `timestamp` is Unix seconds, as TDNS writes it).
import { parseUserName, type Fqdn } from '../dns/name.ts';
import { DnsError } from '../dns/errors.ts';
import { parseIpv4, parseIpv6 } from '../dns/rdata/text.ts';
import { MessageError } from './errors.ts';

/** Largest message body accepted (bytes of JSON); larger payloads are refused before parsing. */
export const MAX_MESSAGE_BYTES = 1 << 20;
/** Largest number of entries in any one list (operations, records, zones, inventory). */
export const MAX_LIST = 10_000;
/** Longest string field (an RR in text form included). */
export const MAX_STRING = 65_535;

export type MessageType = 'hello' | 'beat' | 'sync' | 'update' | 'rfi' | 'confirm' | 'keystate';

export interface Hello {
  readonly type: 'hello';
  readonly sender: Fqdn;
  readonly recipient: Fqdn;
  /** The zone whose HSYNC made the sender say hello (one per message). */
  readonly zone: Fqdn;
  readonly time: number;
  /**
   * Where the sender's combiner serves its zones for transfer (TDNS's hello `addresses` and
   * `port`): a provider whose HSYNC upstream is the sender transfers from there.
   */
  readonly addresses?: readonly string[];
  readonly port?: number;
}

export interface Beat {
  readonly type: 'beat';
  readonly sender: Fqdn;
  readonly recipient: Fqdn;
  /** The sender's beat interval, seconds. */
  readonly interval: number;
  /** The zones the two providers share. */
  readonly zones: readonly Fqdn[];
  readonly time: number;
}

export type OperationKind = 'add' | 'delete' | 'replace';

export interface RROperation {
  readonly operation: OperationKind;
  /** RR type mnemonic, e.g. NS, DNSKEY. */
  readonly rrtype: string;
  /** RRs in presentation form (class IN). */
  readonly records: readonly string[];
}

/** sync (agent to agent) and update (agent to combiner): one zone's contribution changes. */
export interface ZoneData {
  readonly type: 'sync' | 'update';
  /** The provider whose contribution this is (may differ from the transport sender on relay). */
  readonly originator: Fqdn;
  readonly recipient: Fqdn;
  readonly zone: Fqdn;
  readonly operations: readonly RROperation[];
  /** Legacy form: RRs by owner name, used by the receiver only when `operations` is empty. */
  readonly records: Readonly<Record<string, readonly string[]>>;
  readonly nonce: string;
  readonly time: number;
}

/** Request for information: ask a peer to resend what it holds (e.g. its contributions). */
export interface Rfi {
  readonly type: 'rfi';
  readonly originator: Fqdn;
  readonly recipient: Fqdn;
  readonly zone: Fqdn;
  readonly rfiType: string;
  readonly rfiSubtype: string;
  readonly nonce: string;
  readonly time: number;
}

export interface KeyInventoryEntry {
  readonly keyTag: number;
  readonly algorithm: number;
  readonly flags: number;
  /** created, published, standby, active, retired, foreign. */
  readonly state: string;
  /** The whole DNSKEY RR in presentation form. */
  readonly keyrr: string;
}

export interface Keystate {
  readonly type: 'keystate';
  readonly sender: Fqdn;
  readonly recipient: Fqdn;
  readonly zone: Fqdn;
  readonly keyTag: number;
  readonly algorithm: number;
  /** propagated, rejected, removed, published, retired, inventory. */
  readonly signal: string;
  readonly message: string;
  readonly inventory: readonly KeyInventoryEntry[];
  readonly time: number;
}

/** Inline answers: ok, pending. Final per-RR results: the upper-case statuses. */
export type ConfirmStatus = 'ok' | 'pending' | 'error' | 'SUCCESS' | 'PARTIAL' | 'FAILED' | 'REJECTED' | 'PENDING' | 'IGNORED';
const CONFIRM_STATUSES: readonly ConfirmStatus[] = ['ok', 'pending', 'error', 'SUCCESS', 'PARTIAL', 'FAILED', 'REJECTED', 'PENDING', 'IGNORED'];

export interface RejectedItem {
  readonly record: string;
  readonly reason: string;
}

export interface Confirm {
  readonly type: 'confirm';
  /** The responder. */
  readonly sender: Fqdn;
  readonly zone: Fqdn | undefined;
  /** The distribution id of the message confirmed. */
  readonly distributionId: string;
  readonly nonce: string;
  readonly status: ConfirmStatus;
  readonly message: string;
  readonly applied: readonly string[];
  readonly removed: readonly string[];
  readonly ignored: readonly string[];
  readonly rejected: readonly RejectedItem[];
  /** The lists were cut (the counts stay exact). */
  readonly truncated: boolean;
  readonly appliedCount: number;
  readonly removedCount: number;
  readonly ignoredCount: number;
  readonly rejectedCount: number;
  /** Epoch ms (whole seconds on the wire). */
  readonly time: number;
}

export type Message = Hello | Beat | ZoneData | Rfi | Keystate | Confirm;

// ---- encode ----

const rfc3339 = (ms: number): string => new Date(ms).toISOString();

/** The message as TDNS writes it (Go field names, snake_case where TDNS tags them). */
export function messageToJson(m: Message): Record<string, unknown> {
  switch (m.type) {
    case 'hello':
      return {
        MessageType: 'hello',
        MyIdentity: m.sender,
        YourIdentity: m.recipient,
        Zone: m.zone,
        Time: rfc3339(m.time),
        ...(m.addresses !== undefined && m.addresses.length > 0 ? { addresses: m.addresses } : {}),
        ...(m.port !== undefined ? { port: m.port } : {}),
      };
    case 'beat':
      return { MessageType: 'beat', MyIdentity: m.sender, YourIdentity: m.recipient, MyBeatInterval: m.interval, Zones: m.zones, Time: rfc3339(m.time) };
    case 'sync':
    case 'update': {
      const out: Record<string, unknown> = { MessageType: m.type, OriginatorID: m.originator, YourIdentity: m.recipient, Zone: m.zone };
      if (Object.keys(m.records).length > 0) out['records'] = m.records;
      if (m.operations.length > 0) out['operations'] = m.operations.map((o) => ({ operation: o.operation, rrtype: o.rrtype, records: o.records }));
      out['Time'] = rfc3339(m.time);
      out['RfiType'] = '';
      if (m.nonce !== '') out['nonce'] = m.nonce;
      return out;
    }
    case 'rfi': {
      const out: Record<string, unknown> = { MessageType: 'rfi', OriginatorID: m.originator, YourIdentity: m.recipient, Zone: m.zone, Time: rfc3339(m.time), RfiType: m.rfiType };
      if (m.rfiSubtype !== '') out['rfi_subtype'] = m.rfiSubtype;
      if (m.nonce !== '') out['nonce'] = m.nonce;
      return out;
    }
    case 'keystate':
      return {
        MessageType: 'keystate',
        MyIdentity: m.sender,
        YourIdentity: m.recipient,
        Zone: m.zone,
        KeyTag: m.keyTag,
        Algorithm: m.algorithm,
        Signal: m.signal,
        Message: m.message,
        KeyInventory: m.inventory.map((k) => ({ key_tag: k.keyTag, algorithm: k.algorithm, flags: k.flags, state: k.state, keyrr: k.keyrr })),
        Time: rfc3339(m.time),
      };
    case 'confirm':
      return {
        type: 'confirm',
        sender_id: m.sender,
        zone: m.zone ?? '',
        distribution_id: m.distributionId,
        nonce: m.nonce,
        status: m.status,
        message: m.message,
        applied_count: m.appliedCount,
        removed_count: m.removedCount,
        rejected_count: m.rejectedCount,
        ignored_count: m.ignoredCount,
        applied_records: m.applied,
        removed_records: m.removed,
        ignored_records: m.ignored,
        rejected_items: m.rejected.map((r) => ({ record: r.record, reason: r.reason })),
        truncated: m.truncated,
        timestamp: Math.floor(m.time / 1000),
      };
    default: {
      const never: never = m;
      return never;
    }
  }
}

/** UTF-8 JSON bytes of a message. */
export function encodeMessage(m: Message): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(messageToJson(m)));
}

// ---- decode ----

/** A JSON object read with case-insensitive keys; every accessor names the field it rejects. */
class Fields {
  readonly #byKey = new Map<string, [string, unknown]>();

  constructor(obj: Record<string, unknown>) {
    for (const [k, v] of Object.entries(obj)) {
      const lower = k.toLowerCase();
      if (this.#byKey.has(lower)) throw new MessageError(`key given twice (as "${this.#byKey.get(lower)?.[0] ?? ''}" and "${k}")`, k);
      this.#byKey.set(lower, [k, v]);
    }
  }

  /** The first of `names` present (case-insensitive), with the name as written. */
  find(names: readonly string[]): [string, unknown] | undefined {
    for (const n of names) {
      const hit = this.#byKey.get(n.toLowerCase());
      if (hit !== undefined && hit[1] !== null) return hit;
    }
    return undefined;
  }

  string(names: readonly string[], fallback?: string): string {
    const hit = this.find(names);
    if (hit === undefined) {
      if (fallback !== undefined) return fallback;
      throw new MessageError('missing', names[0]);
    }
    return checkString(hit[1], hit[0]);
  }

  name(names: readonly string[]): Fqdn {
    const text = this.string(names);
    return nameOf(text, names[0] ?? '');
  }

  int(names: readonly string[], max: number, fallback?: number): number {
    const hit = this.find(names);
    if (hit === undefined) {
      if (fallback !== undefined) return fallback;
      throw new MessageError('missing', names[0]);
    }
    const v = hit[1];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw new MessageError(`not an integer from 0 to ${max}`, hit[0]);
    return v;
  }

  bool(names: readonly string[]): boolean {
    const hit = this.find(names);
    if (hit === undefined) return false;
    if (typeof hit[1] !== 'boolean') throw new MessageError('not a boolean', hit[0]);
    return hit[1];
  }

  list(names: readonly string[]): [string, readonly unknown[]] {
    const hit = this.find(names);
    if (hit === undefined) return [names[0] ?? '', []];
    if (!Array.isArray(hit[1])) throw new MessageError('not a list', hit[0]);
    if (hit[1].length > MAX_LIST) throw new MessageError(`more than ${MAX_LIST} entries`, hit[0]);
    return [hit[0], hit[1] as readonly unknown[]];
  }

  strings(names: readonly string[]): string[] {
    const [key, items] = this.list(names);
    return items.map((v, i) => checkString(v, `${key}[${i}]`));
  }

  /** RFC 3339 time (Go's time.Time) as epoch ms. */
  time(names: readonly string[]): number {
    const hit = this.find(names);
    if (hit === undefined) throw new MessageError('missing', names[0]);
    return rfc3339Ms(hit[1], hit[0]);
  }
}

/** An IPv4 or IPv6 literal. */
function isAddress(text: string): boolean {
  try {
    if (text.includes(':')) parseIpv6(text);
    else parseIpv4(text);
    return true;
  } catch (e) {
    if (e instanceof DnsError) return false;
    throw e;
  }
}

function checkString(v: unknown, field: string): string {
  if (typeof v !== 'string') throw new MessageError('not a string', field);
  if (v.length > MAX_STRING) throw new MessageError(`longer than ${MAX_STRING} characters`, field);
  return v;
}

function nameOf(text: string, field: string): Fqdn {
  try {
    return parseUserName(text);
  } catch (e) {
    if (e instanceof DnsError) throw new MessageError(`not a domain name (${e.message})`, field, { cause: e });
    throw e;
  }
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

function rfc3339Ms(v: unknown, field: string): number {
  if (typeof v !== 'string' || !RFC3339.test(v)) throw new MessageError('not an RFC 3339 time', field);
  const ms = Date.parse(v.replace(/(\.\d{3})\d+/, '$1'));
  if (Number.isNaN(ms)) throw new MessageError('not an RFC 3339 time', field);
  return ms;
}

function objectOf(v: unknown, field: string): Fields {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new MessageError('not an object', field);
  return new Fields(v as Record<string, unknown>);
}

const OPERATIONS: readonly OperationKind[] = ['add', 'delete', 'replace'];

function operationsOf(f: Fields): RROperation[] {
  const [key, items] = f.list(['operations']);
  return items.map((item, i) => {
    const o = objectOf(item, `${key}[${i}]`);
    const op = o.string(['operation']).toLowerCase();
    if (!(OPERATIONS as readonly string[]).includes(op)) throw new MessageError(`operation "${op}" is not add, delete or replace`, `${key}[${i}].operation`);
    const rrtype = o.string(['rrtype']).toUpperCase();
    if (!/^[A-Z0-9-]{1,20}$/.test(rrtype)) throw new MessageError('not an RR type mnemonic', `${key}[${i}].rrtype`);
    return { operation: op as OperationKind, rrtype, records: o.strings(['records']) };
  });
}

function recordsOf(f: Fields): Record<string, string[]> {
  const hit = f.find(['records']);
  if (hit === undefined) return {};
  const obj = hit[1];
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new MessageError('not an object of owner → RR lists', hit[0]);
  const entries = Object.entries(obj as Record<string, unknown>);
  if (entries.length > MAX_LIST) throw new MessageError(`more than ${MAX_LIST} owners`, hit[0]);
  // Object.fromEntries defines own properties, so an owner named __proto__ stays data.
  return Object.fromEntries(
    entries.map(([owner, list]) => {
      if (!Array.isArray(list)) throw new MessageError('not a list', `${hit[0]}.${owner}`);
      if (list.length > MAX_LIST) throw new MessageError(`more than ${MAX_LIST} entries`, `${hit[0]}.${owner}`);
      return [owner, list.map((v, i) => checkString(v, `${hit[0]}.${owner}[${i}]`))];
    }),
  );
}

function confirmStatus(text: string): ConfirmStatus {
  const upper = text.toUpperCase();
  const hit = CONFIRM_STATUSES.find((s) => s.toUpperCase() === upper);
  if (hit === undefined) throw new MessageError(`unknown confirm status "${text}"`, 'status');
  // Inline answers are lower case, final results upper case; "pending" is both: keep the case given.
  return hit === 'PENDING' && text === 'pending' ? 'pending' : hit;
}

function decodeConfirm(f: Fields): Confirm {
  const [key, items] = f.list(['rejected_items']);
  const rejected = items.map((item, i) => {
    const o = objectOf(item, `${key}[${i}]`);
    return { record: o.string(['record']), reason: o.string(['reason'], '') };
  });
  const zone = f.string(['zone'], '');
  const applied = f.strings(['applied_records']);
  const removed = f.strings(['removed_records']);
  const ignored = f.strings(['ignored_records']);
  const stamp = f.find(['timestamp']);
  let time = 0;
  if (stamp !== undefined) {
    if (typeof stamp[1] === 'number' && Number.isInteger(stamp[1]) && stamp[1] >= 0) time = stamp[1] * 1000;
    else time = rfc3339Ms(stamp[1], stamp[0]);
  }
  return {
    type: 'confirm',
    sender: f.name(['sender_id', 'MyIdentity']),
    zone: zone === '' ? undefined : nameOf(zone, 'zone'),
    distributionId: f.string(['distribution_id']),
    nonce: f.string(['nonce'], ''),
    status: confirmStatus(f.string(['status'])),
    message: f.string(['message', 'msg'], ''),
    applied,
    removed,
    ignored,
    rejected,
    truncated: f.bool(['truncated']),
    appliedCount: f.int(['applied_count'], 0xffffffff, applied.length),
    removedCount: f.int(['removed_count'], 0xffffffff, removed.length),
    ignoredCount: f.int(['ignored_count'], 0xffffffff, ignored.length),
    rejectedCount: f.int(['rejected_count'], 0xffffffff, rejected.length),
    time,
  };
}

function decodeFields(f: Fields): Message {
  const type = f.string(['MessageType', 'type']).toLowerCase();
  const time = (): number => f.time(['Time', 'timestamp']);
  switch (type) {
    case 'hello': {
      const addresses = f.strings(['addresses']);
      for (const [i, a] of addresses.entries()) if (!isAddress(a)) throw new MessageError('not an IP address', `addresses[${i}]`);
      // Go writes the zero value when unset: port 0 means none.
      const port = f.find(['port']) === undefined ? undefined : f.int(['port'], 65535) || undefined;
      return { type, sender: f.name(['MyIdentity', 'sender_id']), recipient: f.name(['YourIdentity']), zone: f.name(['Zone']), time: time(), ...(addresses.length > 0 ? { addresses } : {}), ...(port !== undefined ? { port } : {}) };
    }
    case 'beat':
      return {
        type,
        sender: f.name(['MyIdentity', 'sender_id']),
        recipient: f.name(['YourIdentity']),
        interval: f.int(['MyBeatInterval'], 0xffffffff, 0),
        zones: f.strings(['Zones']).map((z, i) => nameOf(z, `Zones[${i}]`)),
        time: time(),
      };
    case 'sync':
    case 'update':
      return {
        type,
        originator: f.name(['OriginatorID', 'sender_id', 'MyIdentity']),
        recipient: f.name(['YourIdentity']),
        zone: f.name(['Zone']),
        operations: operationsOf(f),
        records: recordsOf(f),
        nonce: f.string(['nonce'], ''),
        time: time(),
      };
    case 'rfi':
      return {
        type,
        originator: f.name(['OriginatorID', 'sender_id', 'MyIdentity']),
        recipient: f.name(['YourIdentity']),
        zone: f.name(['Zone']),
        rfiType: f.string(['RfiType']),
        rfiSubtype: f.string(['rfi_subtype'], ''),
        nonce: f.string(['nonce'], ''),
        time: time(),
      };
    case 'keystate': {
      const [key, items] = f.list(['KeyInventory']);
      return {
        type,
        sender: f.name(['MyIdentity', 'sender_id']),
        recipient: f.name(['YourIdentity']),
        zone: f.name(['Zone']),
        keyTag: f.int(['KeyTag'], 0xffff, 0),
        algorithm: f.int(['Algorithm'], 0xff, 0),
        signal: f.string(['Signal']),
        message: f.string(['Message'], ''),
        inventory: items.map((item, i) => {
          const o = objectOf(item, `${key}[${i}]`);
          return { keyTag: o.int(['key_tag'], 0xffff), algorithm: o.int(['algorithm'], 0xff), flags: o.int(['flags'], 0xffff), state: o.string(['state']), keyrr: o.string(['keyrr']) };
        }),
        time: time(),
      };
    }
    case 'confirm':
      return decodeConfirm(f);
    default:
      throw new MessageError(`unsupported message type "${type}"`, 'MessageType');
  }
}

/** Decodes a message body (UTF-8 JSON); throws MessageError naming the field at fault. */
export function decodeMessage(bytes: Uint8Array): Message {
  if (bytes.length > MAX_MESSAGE_BYTES) throw new MessageError(`message of ${bytes.length} bytes exceeds the limit of ${MAX_MESSAGE_BYTES}`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new MessageError(`not UTF-8 JSON (${e instanceof Error ? e.message : String(e)})`, undefined, { cause: e });
  }
  return decodeFields(objectOf(json, 'message'));
}
