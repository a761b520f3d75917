// Subject, stream and bucket names of one provider namespace, and the shard token of a key.
//
//   work subject   <ns>.work.<queue>.<shard>.<key-token>   stream <ns>_work_<queue> (WorkQueue)
//   dead letters   <ns>.dlq.<queue>                         stream <ns>_dlq (Limits)
//   request/reply  <ns>.rpc.<service>                      service = <role> or <role>.<method>
//   KV bucket      <ns>_<bucket>                            subjects $KV.<ns>_<bucket>.<key>
//   durable        <queue>_s<shard> (one per shard) or <queue>_all (whole queue)
//
// Several providers share one server by using different namespaces.
import { InvalidNameError } from './errors.ts';

const NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;

export const DEFAULT_NAMESPACE = 'mpdns';

/** Validates a namespace, queue, bucket or service name: `[a-z0-9][a-z0-9-]{0,31}`. */
export function checkName(kind: string, name: string): string {
  if (!NAME.test(name)) throw new InvalidNameError(`invalid ${kind} name`, name);
  return name;
}

const SERVICE = /^[a-z0-9][a-z0-9-]{0,31}(\.[a-z0-9][a-z0-9-]{0,31})?$/;

/** Validates a request/reply service name: `<role>` or `<role>.<method>` (deploy/nats grants by role). */
export function checkService(service: string): string {
  if (!SERVICE.test(service)) throw new InvalidNameError('invalid service name', service);
  return service;
}

/** FNV-1a 32-bit over the UTF-8 bytes of `s`. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(s)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Lower-cased, without one trailing dot: `Example.COM.` and `example.com` are the same key. */
export function normalizeKey(key: string): string {
  const k = key.toLowerCase();
  return k.endsWith('.') && k.length > 1 ? k.slice(0, -1) : k;
}

/** The shard of `key` among `shardCount`: FNV-1a 32 of the normalized key, modulo the count. */
export function shardOf(key: string, shardCount: number): number {
  if (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > 1024) {
    throw new InvalidNameError('shard count must be an integer in 1..1024', String(shardCount));
  }
  return fnv1a32(normalizeKey(key)) % shardCount;
}

/**
 * A subject token for `key` (injective): `[a-z0-9-]` kept, `.` becomes `_`, every other byte
 * `=HH`. The root `.` is `=`.
 */
export function keyToken(key: string): string {
  const k = normalizeKey(key);
  if (k === '.' || k === '') return '=';
  let out = '';
  for (const b of new TextEncoder().encode(k)) {
    const c = String.fromCharCode(b);
    if (/[a-z0-9-]/.test(c)) out += c;
    else if (c === '.') out += '_';
    else out += `=${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** Names of one provider namespace. */
export class Subjects {
  readonly namespace: string;

  constructor(namespace: string = DEFAULT_NAMESPACE) {
    this.namespace = checkName('namespace', namespace);
  }

  /** The work subject of `key` in `queue`, sharded over `shardCount` (1 = unsharded). */
  work(queue: string, key: string, shardCount = 1): string {
    return `${this.namespace}.work.${checkName('queue', queue)}.${shardOf(key, shardCount)}.${keyToken(key)}`;
  }

  /** Filter of a whole queue, or of one shard of it. */
  workFilter(queue: string, shard?: number): string {
    const q = `${this.namespace}.work.${checkName('queue', queue)}`;
    return shard === undefined ? `${q}.>` : `${q}.${shard}.>`;
  }

  /** The queue a work subject of this namespace belongs to; throws for any other subject. */
  queueOf(subject: string): string {
    const parts = subject.split('.');
    const queue = parts[2];
    if (parts.length !== 5 || parts[0] !== this.namespace || parts[1] !== 'work' || queue === undefined) {
      throw new InvalidNameError(`not a work subject of namespace ${this.namespace}`, subject);
    }
    return checkName('queue', queue);
  }

  /** Shard number carried by a work subject. */
  shardOfSubject(subject: string): number {
    this.queueOf(subject);
    return Number(subject.split('.')[3]);
  }

  stream(queue: string): string {
    return `${this.namespace}_work_${checkName('queue', queue)}`;
  }

  durable(queue: string, shard?: number): string {
    return shard === undefined ? `${checkName('queue', queue)}_all` : `${queue}_s${shard}`;
  }

  deadLetterSubject(queue: string): string {
    return `${this.namespace}.dlq.${checkName('queue', queue)}`;
  }

  deadLetterStream(): string {
    return `${this.namespace}_dlq`;
  }

  rpc(service: string): string {
    return `${this.namespace}.rpc.${checkService(service)}`;
  }

  bucket(name: string): string {
    return `${this.namespace}_${checkName('bucket', name)}`;
  }
}

const KEY = /^[A-Za-z0-9_=/-]+(\.[A-Za-z0-9_=/-]+)*$/;

/** Validates a KV key (NATS KV rules, same in the embedded broker). */
export function checkKey(key: string): string {
  if (!KEY.test(key) || key.length > 1024) throw new InvalidNameError('invalid KV key', key);
  return key;
}

/** NATS subject matching with `*` (one token) and `>` (one or more trailing tokens). */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    const t = f[i];
    if (t === '>') return s.length > i;
    if (i >= s.length) return false;
    if (t !== '*' && t !== s[i]) return false;
  }
  return f.length === s.length;
}
