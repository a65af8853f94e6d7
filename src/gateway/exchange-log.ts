/**
 * The exchange log: a bounded queue between the request path and the store. Exchanges are
 * appended in batches with an increasing sequence number as the checkpoint of the source
 * `gateway:<replica>`. When the store fails, or the queue is full, records go to a JSONL
 * spool on disk and are replayed once the store accepts writes again: none is lost.
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { ExchangeFeatures } from '../core/features.js';
import type { Store } from '../store/store.js';

export interface ExchangeLogOptions {
  /** Null runs without a store: records are counted and dropped on purpose (no persistence wanted). */
  store: Store | null;
  replicaId: string;
  spoolDir: string;
  /** @default 10000 */
  maxQueue?: number;
  /** @default 2000 */
  batchSize?: number;
  /** How long an exchange may wait in the queue when batches do not fill. @default 1000 */
  flushIntervalMs?: number;
  onError?: (e: Error) => void;
}

export class ExchangeLog {
  private queue: ExchangeFeatures[] = [];
  private seq = 0;
  private flushing: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;
  private readonly maxQueue: number;
  private readonly batchSize: number;
  private readonly spoolFile: string;
  stored = 0;
  spooled = 0;
  storeFailures = 0;

  constructor(private readonly opts: ExchangeLogOptions) {
    this.maxQueue = opts.maxQueue ?? 10_000;
    this.batchSize = opts.batchSize ?? 2000;
    mkdirSync(opts.spoolDir, { recursive: true });
    this.spoolFile = join(opts.spoolDir, `spool-${opts.replicaId}.jsonl`);
    this.timer = setInterval(() => void this.flush(), opts.flushIntervalMs ?? 1000);
    this.timer.unref();
  }

  get depth(): number {
    return this.queue.length;
  }

  /** Records waiting on disk for the store. */
  spoolPending(): number {
    return existsSync(this.spoolFile) || this.pendingSpoolFiles().length > 0 ? this.spooled : 0;
  }

  /** Never blocks and never throws: a full queue spills to the spool. */
  enqueue(row: ExchangeFeatures): void {
    if (this.queue.length >= this.maxQueue) {
      this.spool([row]);
      return;
    }
    this.queue.push(row);
    if (this.queue.length >= this.batchSize) void this.flush(false);
  }

  private spool(rows: readonly ExchangeFeatures[]): void {
    let text = '';
    for (const r of rows) text += JSON.stringify(r) + '\n';
    appendFileSync(this.spoolFile, text);
    this.spooled += rows.length;
  }

  private pendingSpoolFiles(): string[] {
    const prefix = `spool-${this.opts.replicaId}.`;
    return readdirSync(this.opts.spoolDir).filter((f) => f.startsWith(prefix) && f.endsWith('.replay')).sort();
  }

  private async append(rows: readonly ExchangeFeatures[]): Promise<void> {
    const store = this.opts.store!;
    this.seq += rows.length;
    const key = `gateway:${this.opts.replicaId}`;
    await store.append(rows, [], { source: { key, path: key }, line: this.seq, done: false });
    this.stored += rows.length;
  }

  /**
   * Writes what is queued, then replays the spool if the store is healthy. Only whole
   * batches are written unless `all`: a store transaction has a fixed cost (about 15 ms of
   * CPU in DuckDB, whatever its size), so writing each few exchanges as they come would
   * take more of the machine than proxying them.
   */
  flush(all = true): Promise<void> {
    // Asked for all while a write is on: what was queued meanwhile goes right after it.
    if (this.flushing) return all ? this.flushing.then(() => this.flush(true)) : this.flushing;
    this.flushing = this.doFlush(all).finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async doFlush(all: boolean): Promise<void> {
    if (this.opts.store === null) {
      this.stored += this.queue.length;
      this.queue = [];
      return;
    }
    // What was queued when asked; what comes in meanwhile waits for a whole batch or the timer.
    let owed = all ? this.queue.length : 0;
    while (this.queue.length >= this.batchSize || owed > 0) {
      const batch = this.queue.splice(0, this.batchSize);
      owed -= batch.length;
      try {
        await this.append(batch);
      } catch (e) {
        this.storeFailures++;
        this.opts.onError?.(e as Error);
        this.spool(batch);
        this.spool(this.queue.splice(0));
        return;
      }
    }
    await this.replaySpool();
  }

  private async replaySpool(): Promise<void> {
    if (existsSync(this.spoolFile)) {
      // Rename first so that new spilling goes to a fresh file while this one replays.
      renameSync(this.spoolFile, join(this.opts.spoolDir, `spool-${this.opts.replicaId}.${Date.now()}.replay`));
    }
    for (const f of this.pendingSpoolFiles()) {
      const path = join(this.opts.spoolDir, f);
      const rows = readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as ExchangeFeatures);
      try {
        for (let i = 0; i < rows.length; i += this.batchSize) await this.append(rows.slice(i, i + this.batchSize));
      } catch (e) {
        this.storeFailures++;
        this.opts.onError?.(e as Error);
        return; // The file stays; the store ignores ids it already has when it is replayed again.
      }
      this.spooled = Math.max(0, this.spooled - rows.length);
      unlinkSync(path);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
