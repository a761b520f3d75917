// Parallel signing with worker_threads: signature inputs in, signatures out. Each worker gets
// the private keys once (Ed25519 as PKCS#8 DER, ECDSA as the raw scalar) and then signs batches
// as the main thread does (node:crypto; ECDSA through dns/dnssec/ecdsa.ts).
import { Worker } from 'node:worker_threads';
import { createEcdsaSigner } from '../dnssec/ecdsa.ts';
import { privateKeyRaw, type SigningKey } from '../dnssec/keys.ts';

// The worker is plain JavaScript evaluated from a string, so it runs under any loader. The
// ECDSA signer is dns/dnssec/ecdsa.ts's own function, sent as source text (it is written to be
// self-contained; __name is the helper that esbuild, and so tsx, wraps named functions in).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const crypto = require('node:crypto');
const __name = (f) => f;
const createEcdsaSigner = ${createEcdsaSigner.toString()};
const done = new Int32Array(workerData.done);
const keys = workerData.keys.map((k) => k.algorithm === 15
  ? ((key) => (data) => crypto.sign(null, data, key))(crypto.createPrivateKey({ key: Buffer.from(k.der), format: 'der', type: 'pkcs8' }))
  : createEcdsaSigner(crypto, k.algorithm, new Uint8Array(k.scalar)));
parentPort.on('message', (m) => {
  const data = new Uint8Array(m.data);
  const sigs = [];
  let total = 0;
  for (let i = 0; i < m.keyIdx.length; i++) {
    const s = keys[m.keyIdx[i]](data.subarray(m.offsets[i], m.offsets[i + 1]));
    sigs.push(s);
    total += s.length;
  }
  const out = new Uint8Array(total);
  const ends = new Uint32Array(sigs.length);
  let o = 0;
  for (let i = 0; i < sigs.length; i++) { out.set(sigs[i], o); o += sigs[i].length; ends[i] = o; }
  Atomics.add(done, 0, sigs.length);
  parentPort.postMessage({ id: m.id, sigs: out.buffer, ends: ends.buffer }, [out.buffer, ends.buffer]);
});
`;

interface Reply {
  id: number;
  sigs: ArrayBuffer;
  ends: ArrayBuffer;
}

interface Pending {
  readonly resolve: (sigs: Uint8Array[]) => void;
  readonly reject: (err: Error) => void;
}

/** A fixed set of signing workers for one set of keys. Call close() when done. */
export class SignPool {
  private readonly workers: Worker[];
  private readonly keyIndex = new Map<SigningKey, number>();
  private readonly pending = new Map<number, Pending>();
  private readonly owner = new Map<number, Worker>();
  private nextId = 1;
  private nextWorker = 0;
  /** Inputs signed by the workers so far, counted by the workers themselves (shared memory). */
  private readonly done = new Int32Array(new SharedArrayBuffer(4));
  private submitted = 0;

  constructor(keys: readonly SigningKey[], threads: number) {
    const payload = keys.map((k, i) => {
      this.keyIndex.set(k, i);
      return k.algorithm === 15
        ? { algorithm: k.algorithm, der: k.privateKey.export({ format: 'der', type: 'pkcs8' }) }
        : { algorithm: k.algorithm, scalar: privateKeyRaw(k.algorithm, k.privateKey) };
    });
    this.workers = Array.from({ length: Math.max(1, threads) }, () => {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { keys: payload, done: this.done.buffer } });
      w.on('message', (m: Reply) => this.onReply(m));
      w.on('error', (err: Error) => {
        for (const [id, p] of this.pending) {
          if (this.owner.get(id) !== w) continue;
          this.pending.delete(id);
          this.owner.delete(id);
          p.reject(err);
        }
      });
      return w;
    });
  }

  /** Number of worker threads. */
  get size(): number {
    return this.workers.length;
  }

  /**
   * Inputs handed to the workers and not yet signed. Read from shared memory, so it is current
   * even while the calling thread is busy and cannot receive the workers' replies.
   */
  backlog(): number {
    return this.submitted - Atomics.load(this.done, 0);
  }

  /** Inputs the workers have signed so far. */
  get signed(): number {
    return Atomics.load(this.done, 0);
  }

  private onReply(m: Reply): void {
    const p = this.pending.get(m.id);
    if (p === undefined) return;
    this.pending.delete(m.id);
    this.owner.delete(m.id);
    const sigs = new Uint8Array(m.sigs);
    const ends = new Uint32Array(m.ends);
    const out: Uint8Array[] = [];
    let start = 0;
    for (const end of ends) {
      out.push(sigs.subarray(start, end));
      start = end;
    }
    p.resolve(out);
  }

  /** Signs every input with its key, spread over the workers; the result is in input order. */
  async sign(inputs: readonly { key: SigningKey; input: Uint8Array }[], batchSize = 2048): Promise<Uint8Array[]> {
    const parts: Promise<Uint8Array[]>[] = [];
    for (let i = 0; i < inputs.length; i += batchSize) parts.push(this.signBatch(inputs.slice(i, i + batchSize)));
    return (await Promise.all(parts)).flat();
  }

  /** Signs one batch on the next worker (round robin); the result is in input order. */
  signBatch(batch: readonly { key: SigningKey; input: Uint8Array }[]): Promise<Uint8Array[]> {
    if (batch.length === 0) return Promise.resolve([]);
    const w = this.workers[this.nextWorker++ % this.workers.length] as Worker;
    let total = 0;
    for (const b of batch) total += b.input.length;
    const data = new Uint8Array(total);
    const offsets = new Uint32Array(batch.length + 1);
    const keyIdx = new Uint16Array(batch.length);
    let o = 0;
    batch.forEach((b, i) => {
      data.set(b.input, o);
      offsets[i] = o;
      o += b.input.length;
      keyIdx[i] = this.keyIndex.get(b.key) ?? 0;
    });
    offsets[batch.length] = o;
    this.submitted += batch.length;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.owner.set(id, w);
      w.postMessage({ id, data: data.buffer, offsets, keyIdx }, [data.buffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    for (const p of this.pending.values()) p.reject(new Error('sign pool closed'));
    this.pending.clear();
  }
}
