// Parallel signing with worker_threads. Two modes, chosen by the keys' algorithm:
//
// - ECDSA (13, 14): the workers make one-time nonces (k⁻¹, r: dns/dnssec/ecdsa.ts), which do
//   not depend on the data or the key, into a ring in shared memory, from the moment the pool
//   starts (while the zone is still being read). The calling thread signs everything itself
//   and only finishes each signature (a hash and a few BigInt operations), taking nonces from
//   the rings (`nonces`), and makes its own when the rings are empty.
// - Ed25519: the nonce depends on the message, so the workers sign whole batches of signature
//   inputs (`signBatch`), with the private key sent once as PKCS#8 DER.
import { Worker } from 'node:worker_threads';
import { ECDSA_CURVES, makeNonces, type EcdsaCurve, type Nonce, type NonceSource } from '../dnssec/ecdsa.ts';
import type { SigningKey } from '../dnssec/keys.ts';

/** Nonces per ring (each worker has one); a worker refills in chunks of NONCE_CHUNK. */
const RING = 32768;
const NONCE_CHUNK = 256;
/** Ring control words (Int32): nonces produced, nonces consumed, stop flag. */
const PRODUCED = 0;
const CONSUMED = 1;
const STOP = 2;
const CTRL_BYTES = 16;

// The worker is plain JavaScript evaluated from a string, so it runs under any loader.
// makeNonces is dns/dnssec/ecdsa.ts's own function, sent as source text (it is written to be
// self-contained; __name is the helper that esbuild, and so tsx, wraps named functions in).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const crypto = require('node:crypto');
const __name = (f) => f;
const makeNonces = ${makeNonces.toString()};
const ring = workerData.ring;
if (ring !== undefined) {
  // Fill the nonce ring until told to stop; wait while it is full.
  const ctrl = new Int32Array(ring.buffer, 0, 4);
  const data = Buffer.from(ring.buffer, ${CTRL_BYTES});
  const size = ring.curve.size;
  let produced = 0;
  while (Atomics.load(ctrl, ${STOP}) === 0) {
    const consumed = Atomics.load(ctrl, ${CONSUMED});
    if (produced - consumed > ring.capacity - ${NONCE_CHUNK}) {
      Atomics.wait(ctrl, ${CONSUMED}, consumed, 1000);
      continue;
    }
    const { kInv, rHex } = makeNonces(crypto, ring.curve, ${NONCE_CHUNK});
    for (let i = 0; i < ${NONCE_CHUNK}; i++) {
      const o = ((produced + i) % ring.capacity) * size * 2;
      data.write(kInv[i].toString(16).padStart(size * 2, '0'), o, 'hex');
      data.write(rHex[i], o + size, 'hex');
    }
    produced += ${NONCE_CHUNK};
    Atomics.store(ctrl, ${PRODUCED}, produced);
  }
} else {
  const done = new Int32Array(workerData.done);
  const keys = workerData.keys.map((der) => crypto.createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' }));
  parentPort.on('message', (m) => {
    const data = new Uint8Array(m.data);
    const sigs = [];
    let total = 0;
    for (let i = 0; i < m.keyIdx.length; i++) {
      const s = crypto.sign(null, data.subarray(m.offsets[i], m.offsets[i + 1]), keys[m.keyIdx[i]]);
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
}
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

/** This thread's end of one worker's nonce ring. */
interface Ring {
  readonly ctrl: Int32Array;
  readonly data: Buffer;
  consumed: number;
}

/** A fixed set of signing workers for one set of keys. Call close() when done. */
export class SignPool {
  private readonly workers: Worker[];
  private readonly keyIndex = new Map<SigningKey, number>();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private nextWorker = 0;
  /** Inputs signed by the workers so far, counted by the workers themselves (shared memory). */
  private readonly done = new Int32Array(new SharedArrayBuffer(4));
  private submitted = 0;
  private readonly rings: Ring[] = [];
  private nextRing = 0;
  private readonly curve: EcdsaCurve | undefined;
  /** Nonces taken from the workers so far. */
  noncesTaken = 0;
  /** The keys' algorithm: with ECDSA the rings hold nonces for its curve only. */
  readonly algorithm: number;
  private failed: Error | undefined;
  private closing = false;
  /**
   * With ECDSA keys: the next nonce a worker has made (undefined when none is ready); without,
   * undefined. Each nonce is handed out once and its slot zeroed.
   */
  readonly nonces: NonceSource | undefined;

  constructor(keys: readonly SigningKey[], threads: number) {
    const count = Math.max(1, threads);
    this.algorithm = keys[0]?.algorithm ?? 0;
    this.curve = ECDSA_CURVES[this.algorithm];
    const curve = this.curve;
    this.nonces = curve !== undefined ? (): Nonce | undefined => this.takeNonce() : undefined;
    if (curve !== undefined) {
      this.workers = Array.from({ length: count }, () => {
        const buffer = new SharedArrayBuffer(CTRL_BYTES + RING * curve.size * 2);
        this.rings.push({ ctrl: new Int32Array(buffer, 0, 4), data: Buffer.from(buffer, CTRL_BYTES), consumed: 0 });
        return this.start({ ring: { buffer, curve, capacity: RING } });
      });
      return;
    }
    const ders = keys.map((k, i) => {
      this.keyIndex.set(k, i);
      return k.privateKey.export({ format: 'der', type: 'pkcs8' });
    });
    this.workers = Array.from({ length: count }, () => this.start({ keys: ders, done: this.done.buffer }));
  }

  private start(workerData: unknown): Worker {
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData });
    w.on('message', (m: Reply) => this.onReply(m));
    // A worker that dies fails the pool: every batch still pending (on any worker) and every
    // later one is rejected, so nobody waits for a signature that will never come.
    w.on('error', (err: Error) => this.fail(err));
    w.on('exit', (code) => {
      if (!this.closing && this.curve === undefined) this.fail(new Error(`sign pool worker exited (code ${code})`));
    });
    return w;
  }

  private fail(err: Error): void {
    this.failed ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  /** Number of worker threads. */
  get size(): number {
    return this.workers.length;
  }

  /** Nonces the workers have made and nobody has taken yet. */
  noncesReady(): number {
    let ready = 0;
    for (const ring of this.rings) ready += Atomics.load(ring.ctrl, PRODUCED) - ring.consumed;
    return ready;
  }

  private takeNonce(): Nonce | undefined {
    const curve = this.curve;
    if (curve === undefined) return undefined;
    const size = curve.size;
    for (let t = 0; t < this.rings.length; t++) {
      const ring = this.rings[this.nextRing++ % this.rings.length] as Ring;
      if (ring.consumed >= Atomics.load(ring.ctrl, PRODUCED)) continue;
      const o = (ring.consumed % RING) * size * 2;
      const kInv = BigInt('0x' + ring.data.toString('hex', o, o + size));
      const rHex = ring.data.toString('hex', o + size, o + size * 2);
      ring.data.fill(0, o, o + size * 2);
      ring.consumed++;
      this.noncesTaken++;
      if (ring.consumed % NONCE_CHUNK === 0) {
        Atomics.store(ring.ctrl, CONSUMED, ring.consumed);
        Atomics.notify(ring.ctrl, CONSUMED);
      }
      return { kInv, r: BigInt('0x' + rHex), rHex };
    }
    return undefined;
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

  /** Signs one batch on the next worker (round robin); the result is in input order. Not for ECDSA pools. */
  signBatch(batch: readonly { key: SigningKey; input: Uint8Array }[]): Promise<Uint8Array[]> {
    if (this.curve !== undefined) return Promise.reject(new Error('an ECDSA sign pool makes nonces; sign with them in this thread'));
    if (this.failed !== undefined) return Promise.reject(this.failed);
    if (batch.length === 0) return Promise.resolve([]);
    for (const b of batch) {
      if (!this.keyIndex.has(b.key)) return Promise.reject(new Error(`key ${b.key.keyTag} is not one of this sign pool's keys`));
    }
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
      keyIdx[i] = this.keyIndex.get(b.key) as number;
    });
    offsets[batch.length] = o;
    this.submitted += batch.length;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.postMessage({ id, data: data.buffer, offsets, keyIdx }, [data.buffer]);
    });
  }

  /**
   * Tells the workers to stop making nonces (after the chunk they are on), so they do not
   * compete with this thread for the CPU once it has made its last signature.
   */
  stopNonces(): void {
    for (const ring of this.rings) {
      Atomics.store(ring.ctrl, STOP, 1);
      Atomics.notify(ring.ctrl, CONSUMED);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    this.stopNonces();
    await Promise.all(this.workers.map((w) => w.terminate()));
    for (const ring of this.rings) ring.data.fill(0);
    for (const p of this.pending.values()) p.reject(new Error('sign pool closed'));
    this.pending.clear();
  }
}
