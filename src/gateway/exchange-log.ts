/**
 * The exchange log: a bounded queue between the request path and the store. Exchanges are
 * appended in batches with an increasing position as the checkpoint of the source
 * `gateway:<replica>`. When the store fails, or the queue is full, records go to a JSONL
 * spool on disk (fsynced) and are replayed once the store accepts writes again.
 *
 * Nothing here throws into the caller or the event loop: a spool that cannot be written
 * (full disk) keeps the records in memory up to `maxQueue` and counts those beyond it as
 * dropped; a spool line cut off by a crash is set aside, not replayed.
 */
import { closeSync, existsSync, fsyncSync, ftruncateSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { ExchangeFeatures } from '../core/features.js';
import type { Store } from '../store/store.js';
import { setAsideLines } from './wal.js';

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
  /** Told of exchanges now held by the store or the fsynced spool (the write-ahead log lets them go). */
  onDurable?: (ids: string[]) => void;
  /**
   * The checkpoint line stored with each batch; by default a count of rows stored, continued
   * from the checkpoint the store already holds.
   */
  position?: () => number;
}

export class ExchangeLog {
  private queue: ExchangeFeatures[] = [];
  private seq = 0;
  private flushing: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;
  private readonly maxQueue: number;
  private readonly batchSize: number;
  private readonly spoolFile: string;
  private lastLine = 0;
  private startLine: Promise<void> | null = null;
  stored = 0;
  spooled = 0;
  storeFailures = 0;
  /** Spool writes that failed (full disk); the records stay queued in memory meanwhile. */
  spoolFailures = 0;
  /** False from a failed spool write until one works again. */
  spoolWritable = true;
  /** Records that neither the store, the spool nor the queue could take: not logged. */
  dropped = 0;
  /** Spool lines that could not be read back (cut off by a crash), set aside. */
  setAside = 0;

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
      if (!this.spool([row])) this.drop(1);
      return;
    }
    this.queue.push(row);
    if (this.queue.length >= this.batchSize) void this.flush(false);
  }

  private drop(n: number): void {
    this.dropped += n;
    this.opts.onError?.(new Error(`Cannot log ${n} exchange(s): the store and the spool both fail and the queue is full`));
  }

  /** Appends and fsyncs; false (and nothing half-written left behind) when the disk refuses. */
  private spool(rows: readonly ExchangeFeatures[]): boolean {
    if (rows.length === 0) return true;
    let text = '';
    for (const r of rows) text += JSON.stringify(r) + '\n';
    let fd: number | null = null;
    let size = 0;
    try {
      fd = openSync(this.spoolFile, 'a');
      size = fstatSync(fd).size;
      writeSync(fd, text);
      fsyncSync(fd);
    } catch (e) {
      if (fd !== null) {
        try {
          ftruncateSync(fd, size);
        } catch {
          // Replay sets a cut-off line aside in any case.
        }
      }
      this.spoolFailures++;
      if (this.spoolWritable) this.opts.onError?.(new Error(`Cannot write the spool "${this.spoolFile}": ${(e as Error).message}`));
      this.spoolWritable = false;
      return false;
    } finally {
      if (fd !== null) closeSync(fd);
    }
    this.spoolWritable = true;
    this.spooled += rows.length;
    this.opts.onDurable?.(rows.map((r) => r.id));
    return true;
  }

  /** Rows the spool refused go back to the head of the queue, as many as it may hold. */
  private keep(rows: ExchangeFeatures[]): void {
    const room = Math.max(0, this.maxQueue - this.queue.length);
    if (rows.length > room) this.drop(rows.length - room);
    this.queue = rows.slice(0, room).concat(this.queue);
  }

  private pendingSpoolFiles(): string[] {
    const prefix = `spool-${this.opts.replicaId}.`;
    return readdirSync(this.opts.spoolDir).filter((f) => f.startsWith(prefix) && f.endsWith('.replay')).sort();
  }

  private async append(rows: readonly ExchangeFeatures[]): Promise<void> {
    const store = this.opts.store!;
    const key = `gateway:${this.opts.replicaId}`;
    // The position goes on from the checkpoint a previous run left, never back to 0.
    this.startLine ??= store.checkpoint({ key, path: key }).then((cp) => {
      this.seq = Math.max(this.seq, cp?.line ?? 0);
      this.lastLine = this.seq;
    });
    try {
      await this.startLine;
    } catch (e) {
      this.startLine = null;
      throw e;
    }
    const line = Math.max(this.lastLine, this.opts.position ? this.opts.position() : this.seq + rows.length);
    await store.append(rows, [], { source: { key, path: key }, line, done: false });
    this.seq += rows.length;
    this.lastLine = line;
    this.stored += rows.length;
    // The store takes writes: a spool that failed is not needed until it fails again.
    this.spoolWritable = true;
    this.opts.onDurable?.(rows.map((r) => r.id));
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
    // Flushes run from timers with nobody to catch them: a throw here would kill the process.
    try {
      await this.flushOnce(all);
    } catch (e) {
      this.opts.onError?.(e as Error);
    }
  }

  private async flushOnce(all: boolean): Promise<void> {
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
        if (!this.spool(batch)) return this.keep(batch);
        const rest = this.queue.splice(0);
        if (!this.spool(rest)) this.keep(rest);
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
      const rows: ExchangeFeatures[] = [];
      const bad: string[] = [];
      for (const l of readFileSync(path, 'utf8').split('\n')) {
        if (l.length === 0) continue;
        try {
          rows.push(JSON.parse(l) as ExchangeFeatures);
        } catch {
          bad.push(l);
        }
      }
      if (bad.length > 0) {
        // A line cut off by a crash mid-write: kept for a human, never replayed.
        this.setAside += bad.length;
        setAsideLines(join(this.opts.spoolDir, `spool-${this.opts.replicaId}.bad`), bad);
        this.opts.onError?.(new Error(`Cannot read ${bad.length} line(s) of the spool "${path}": set aside`));
      }
      try {
        for (let i = 0; i < rows.length; i += this.batchSize) await this.append(rows.slice(i, i + this.batchSize));
      } catch (e) {
        this.storeFailures++;
        this.opts.onError?.(e as Error);
        return; // The file stays; the store ignores ids it already has when it is replayed again.
      }
      this.spooled = Math.max(0, this.spooled - rows.length - bad.length);
      unlinkSync(path);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    // The last batch's checkpoint was taken before its own rows were settled: bring it up to
    // date, so that a clean stop leaves nothing for the next start to look at again.
    const store = this.opts.store;
    if (store !== null && this.opts.position && this.opts.position() > this.lastLine) {
      const key = `gateway:${this.opts.replicaId}`;
      const line = this.opts.position();
      await store.append([], [], { source: { key, path: key }, line, done: false }).then(
        () => (this.lastLine = line),
        (e: unknown) => this.opts.onError?.(e as Error),
      );
    }
  }
}
