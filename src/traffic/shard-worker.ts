/**
 * A worker thread of shard-writers.ts: runs its shards and posts their lines, serialised,
 * window by window of event time, never more than `ahead` windows before the merge.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ShardBatch, WorkerInput, WorkerMessage } from './shard-writers.js';
import { loadPrompts, runShard, type KeyedExchange } from './simulate.js';
import { SCENARIOS } from './scenario.js';

const input = workerData as WorkerInput;
const port = parentPort!;
let credit = input.ahead;
let wake: (() => void) | null = null;
port.on('message', (m: { credit: number }) => {
  credit = Math.max(credit, m.credit);
  wake?.();
  wake = null;
});

function post(m: WorkerMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(m, transfer);
}

/** Serialises one shard's exchanges whose key is before `end`: whole lines in one buffer. */
function batchOf(shard: number, s: { head: IteratorResult<KeyedExchange>; items: Iterator<KeyedExchange> }, end: number): ShardBatch {
  let bytes = Buffer.allocUnsafe(1 << 20);
  let used = 0;
  const ends: number[] = [];
  const keys: number[] = [];
  while (!s.head.done && s.head.value.key < end) {
    const line = JSON.stringify(s.head.value.ex);
    const worst = line.length * 3 + 1;
    if (used + worst > bytes.length) {
      const bigger = Buffer.allocUnsafe(Math.max(bytes.length * 2, used + worst));
      bytes.copy(bigger, 0, 0, used);
      bytes = bigger;
    }
    used += bytes.write(line, used);
    bytes[used++] = 0x0a;
    ends.push(used);
    keys.push(s.head.value.key);
    s.head = s.items.next();
  }
  // A copy of its own, so the transfer moves these bytes and nothing else of the pool.
  return { shard, bytes: new Uint8Array(bytes.subarray(0, used)), ends: Uint32Array.from(ends), keys: Float64Array.from(keys) };
}

async function main(): Promise<void> {
  const prompts = await loadPrompts(input.o);
  const runs = input.shards.map((shard) => {
    const run = runShard(input.o, prompts, shard, input.total);
    return { shard, run, items: run.items, head: run.items.next() };
  });
  const start = Date.parse(SCENARIOS[input.o.scenario]!.start);
  for (let w = 0; ; w++) {
    while (w >= credit) await new Promise<void>((r) => (wake = r));
    const end = start + (w + 1) * input.windowMs;
    const batches = runs.map((r) => batchOf(r.shard, r, end));
    post({ type: 'window', w, batches }, batches.flatMap((b) => [b.bytes.buffer as ArrayBuffer, b.ends.buffer as ArrayBuffer, b.keys.buffer as ArrayBuffer]));
    if (runs.every((r) => r.head.done)) break;
  }
  post({ type: 'done', parts: runs.map((r) => ({ shard: r.shard, truth: r.run.truth, constructed: r.run.constructed })) });
}

main().catch((e: unknown) => post({ type: 'failed', message: e instanceof Error ? e.message : String(e) }));
