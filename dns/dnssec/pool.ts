// Parallel signing with worker_threads: signature inputs in, signatures out. Each worker gets
// the private keys once (PKCS#8 DER) and then signs batches; the hot path stays in node:crypto.
import { Worker } from 'node:worker_threads';
import type { SigningKey } from './keys.ts';

// The worker is plain JavaScript evaluated from a string, so it runs under any loader.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const crypto = require('node:crypto');
const keys = workerData.keys.map((k) => ({
  alg: k.algorithm,
  key: crypto.createPrivateKey({ key: Buffer.from(k.der), format: 'der', type: 'pkcs8' }),
}));
parentPort.on('message', (m) => {
  const data = new Uint8Array(m.data);
  const sigs = [];
  let total = 0;
  for (let i = 0; i < m.keyIdx.length; i++) {
    const k = keys[m.keyIdx[i]];
    const input = data.subarray(m.offsets[i], m.offsets[i + 1]);
    const s = k.alg === 15 ? crypto.sign(null, input, k.key)
      : crypto.sign(k.alg === 14 ? 'sha384' : 'sha256', input, { key: k.key, dsaEncoding: 'ieee-p1363' });
    sigs.push(s);
    total += s.length;
  }
  const out = new Uint8Array(total);
  const ends = new Uint32Array(sigs.length);
  let o = 0;
  for (let i = 0; i < sigs.length; i++) { out.set(sigs[i], o); o += sigs[i].length; ends[i] = o; }
  parentPort.postMessage({ id: m.id, sigs: out.buffer, ends: ends.buffer }, [out.buffer, ends.buffer]);
});
`;

interface Reply {
  id: number;
  sigs: ArrayBuffer;
  ends: ArrayBuffer;
}

/** A fixed set of signing workers for one set of keys. Call close() when done. */
export class SignPool {
  private readonly workers: Worker[];
  private readonly keyIndex = new Map<SigningKey, number>();
  private nextId = 1;

  constructor(keys: readonly SigningKey[], threads: number) {
    const payload = keys.map((k, i) => {
      this.keyIndex.set(k, i);
      return { algorithm: k.algorithm, der: k.privateKey.export({ format: 'der', type: 'pkcs8' }) };
    });
    this.workers = Array.from(
      { length: Math.max(1, threads) },
      () => new Worker(WORKER_SOURCE, { eval: true, workerData: { keys: payload } }),
    );
  }

  /** Signs every input with its key; the result is in input order. */
  async sign(inputs: readonly { key: SigningKey; input: Uint8Array }[]): Promise<Uint8Array[]> {
    const n = this.workers.length;
    const per = Math.ceil(inputs.length / n);
    const parts = await Promise.all(
      this.workers.map((w, wi) => this.run(w, inputs.slice(wi * per, Math.min(inputs.length, (wi + 1) * per)))),
    );
    return parts.flat();
  }

  private run(w: Worker, batch: readonly { key: SigningKey; input: Uint8Array }[]): Promise<Uint8Array[]> {
    if (batch.length === 0) return Promise.resolve([]);
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
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const onMessage = (m: Reply): void => {
        if (m.id !== id) return;
        w.off('message', onMessage);
        w.off('error', onError);
        const sigs = new Uint8Array(m.sigs);
        const ends = new Uint32Array(m.ends);
        const out: Uint8Array[] = [];
        let start = 0;
        for (const end of ends) {
          out.push(sigs.subarray(start, end));
          start = end;
        }
        resolve(out);
      };
      const onError = (err: Error): void => {
        w.off('message', onMessage);
        reject(err);
      };
      w.on('message', onMessage);
      w.once('error', onError);
      w.postMessage({ id, data: data.buffer, offsets, keyIdx }, [data.buffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
