/**
 * Writes a sharded scenario with worker threads: each worker runs some shards (see
 * runShard) and sends their lines, already serialised, one window of event time at a time;
 * this thread merges the windows by (time, shard), the order prepareSimulation merges in,
 * and appends the bytes. Which worker runs a shard changes nothing in the output.
 */
import { Worker } from 'node:worker_threads';
import type { Truth } from './actors.js';
import type { LineWriter } from './line-writer.js';
import type { Constructed, SimulateOptions } from './simulate.js';
import { SCENARIOS } from './scenario.js';

/** One shard's lines of one window: bytes of whole lines, where each ends, and each one's time key. */
export interface ShardBatch {
  shard: number;
  bytes: Uint8Array;
  ends: Uint32Array;
  keys: Float64Array;
}

export type WorkerMessage =
  | { type: 'window'; w: number; batches: ShardBatch[] }
  | { type: 'done'; parts: { shard: number; truth: Truth; constructed: Constructed }[] }
  | { type: 'failed'; message: string };

export interface WorkerInput {
  o: SimulateOptions;
  shards: number[];
  total: number;
  windowMs: number;
  ahead: number;
}

/** Windows a worker may run ahead of the merge: bounds the lines held in memory. */
const AHEAD = 3;
/** Event time per window: short enough to hold little, long enough that a message carries many lines. */
const WINDOW_MS = 15 * 60_000;

/** A worker's messages in order, awaited one at a time; its failure rejects the next wait. */
class Inbox {
  private readonly queue: WorkerMessage[] = [];
  private waiter: { resolve: (m: WorkerMessage) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  constructor(readonly worker: Worker) {
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'failed') return this.fail(new Error(m.message));
      if (this.waiter) {
        this.waiter.resolve(m);
        this.waiter = null;
      } else this.queue.push(m);
    });
    worker.on('error', (e) => this.fail(e));
    worker.on('exit', (code) => {
      if (code !== 0) this.fail(new Error(`A simulation worker stopped with exit code ${code}`));
    });
  }
  private fail(e: Error): void {
    this.failure ??= e;
    if (this.waiter) {
      this.waiter.reject(e);
      this.waiter = null;
    }
  }
  next(): Promise<WorkerMessage> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }
}

export async function writeShardsInWorkers(o: SimulateOptions, total: number, workers: number, out: LineWriter): Promise<{ exchanges: number; parts: { truth: Truth; constructed: Constructed }[] }> {
  if (!SCENARIOS[o.scenario]) throw new Error(`Unknown scenario "${o.scenario}"`);
  const inboxes = Array.from({ length: workers }, (_, w) => {
    const shards = Array.from({ length: total }, (_, s) => s).filter((s) => s % workers === w);
    const workerData: WorkerInput = { o, shards, total, windowMs: WINDOW_MS, ahead: AHEAD };
    return new Inbox(new Worker(new URL('./shard-worker.js', import.meta.url), { workerData }));
  });
  const parts: { shard: number; truth: Truth; constructed: Constructed }[] = [];
  let exchanges = 0;
  try {
    let active = inboxes;
    for (let w = 0; active.length > 0; w++) {
      const batches: ShardBatch[] = [];
      const still: Inbox[] = [];
      for (const inbox of active) {
        const m = await inbox.next();
        if (m.type === 'done') {
          parts.push(...m.parts);
          continue;
        }
        if (m.type !== 'window' || m.w !== w) throw new Error(`A simulation worker sent window ${m.type === 'window' ? m.w : m.type} where ${w} was due`);
        batches.push(...m.batches);
        still.push(inbox);
        inbox.worker.postMessage({ credit: w + 1 + AHEAD });
      }
      active = still;
      exchanges += await mergeWindow(batches, out);
    }
  } finally {
    await Promise.all(inboxes.map((i) => i.worker.terminate()));
  }
  parts.sort((a, b) => a.shard - b.shard);
  return { exchanges, parts };
}

/** Appends one window's lines by (time, shard), as mergeShards orders exchanges. */
async function mergeWindow(batches: ShardBatch[], out: LineWriter): Promise<number> {
  batches.sort((a, b) => a.shard - b.shard);
  const at = batches.map(() => 0);
  let n = 0;
  for (;;) {
    let m = -1;
    for (let i = 0; i < batches.length; i++) {
      const b = batches[i]!;
      if (at[i]! < b.keys.length && (m < 0 || b.keys[at[i]!]! < batches[m]!.keys[at[m]!]!)) m = i;
    }
    if (m < 0) return n;
    const b = batches[m]!;
    const i = at[m]!;
    const wait = out.bytes(b.bytes.subarray(i === 0 ? 0 : b.ends[i - 1]!, b.ends[i]!));
    if (wait) await wait;
    at[m] = i + 1;
    n++;
  }
}
