/**
 * Feature workers: the scan's per-exchange work (parse, validate, features: most of the
 * ingest's CPU) spread over worker threads, while the scan's own thread reads the input
 * and writes the store. Batches go out round robin and come back by sequence number.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { FeaturizeAnswer, FeaturizeRequest, Featurized } from './featurize.js';

const WORKER_URL = new URL('./feature-worker.js', import.meta.url);

/**
 * One worker per core. The scan's own thread only reads lines and hands the store one
 * encoded string a row (idle about 60% of the ingest, profiled on 2 cores), so it no longer
 * keeps a core to itself: the workers, which parse and compute features, bound the ingest.
 */
export function defaultFeatureWorkers(): number {
  return Math.max(1, availableParallelism());
}

export class FeaturePool {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<number, { resolve: (out: Featurized) => void; reject: (e: Error) => void }>();
  private seq = 0;
  private failure: Error | null = null;
  private closing = false;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`Cannot start ${size} feature workers: give a whole number of at least 1`);
    for (let i = 0; i < size; i++) {
      const w = new Worker(WORKER_URL);
      w.on('message', (a: FeaturizeAnswer) => {
        const p = this.waiting.get(a.seq);
        this.waiting.delete(a.seq);
        p?.resolve(a.out);
      });
      w.on('error', (e) => this.fail(new Error(`A feature worker failed: ${e.message}`)));
      w.on('exit', (code) => {
        if (!this.closing) this.fail(new Error(`A feature worker exited with code ${code}`));
      });
      this.workers.push(w);
    }
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const p of this.waiting.values()) p.reject(e);
    this.waiting.clear();
  }

  /** `transfer`: buffers of the request handed over to the worker (unusable here after). */
  run(req: Omit<FeaturizeRequest, 'seq'>, transfer: ArrayBuffer[] = []): Promise<Featurized> {
    if (this.failure) return Promise.reject(this.failure);
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.waiting.set(seq, { resolve, reject });
      this.workers[seq % this.workers.length]!.postMessage({ ...req, seq } satisfies FeaturizeRequest, transfer);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
