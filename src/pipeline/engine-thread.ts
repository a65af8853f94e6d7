/**
 * The detection engine on a thread of its own during the scan. Profiled on 2 cores, the
 * scan's thread was the bound (busy 92%) with the engine fed along taking half of it, while
 * the feature workers waited three quarters of the time: the engine and the store shared one
 * thread. Here the scan's thread only reads, hands out blocks and writes the store; the rows,
 * as the columns the feature workers made (copied: typed arrays as blocks, text as strings,
 * less the text columns the engine never reads: UNREAD_BY_ENGINE),
 * go in input order to this thread, which makes them the engine's row objects (no JSON),
 * feeds the engine and, at the end, builds the report and hands it back as plain data.
 *
 * Backpressure: the rows handed over and not yet fed are bounded (`maxBytesInFlight`); past
 * the bound `offer` returns a promise that resolves once the engine has caught up below it,
 * and the scan's thread awaits it. So the engine never falls unboundedly behind the store.
 */
import { Worker } from 'node:worker_threads';
import type { ScanReport } from '../core/report.js';
import { sizeOf, withoutUnread, type ExchangeColumns } from '../store/column-batch.js';
import type { EarlyEngine, EarlyOutcome, EngineSetup } from './early-engine.js';

const WORKER_URL = new URL('./engine-worker.js', import.meta.url);

/** The scan's thread to the engine's. */
export type ToEngine = { kind: 'rows'; seq: number; rows: ExchangeColumns } | { kind: 'finish'; stored: number; input: ScanReport['input'] };

/** The engine's thread to the scan's: a batch fed (and whether the engine still wants rows), or the outcome. */
export type FromEngine = { kind: 'fed'; seq: number; active: boolean } | { kind: 'done'; outcome: EarlyOutcome };

export interface EngineThreadOptions {
  /**
   * Bytes of rows handed over and not yet fed to the engine, at most (ExchangeColumns.sizes:
   * their text's characters and 8 bytes a number). Past it the scan waits for the engine.
   * @default 32 MiB
   */
  maxBytesInFlight?: number;
  /** Limits of the thread's heap (worker_threads `resourceLimits`); past them the thread fails and so does the scan. */
  resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number };
}

const DEFAULT_MAX_BYTES_IN_FLIGHT = 32 * 2 ** 20;

/**
 * The engine's young generation, in MiB (three semi-spaces' worth, as V8 sizes it). The engine
 * allocates short-lived objects at a high rate over a heap of long-lived account state; with
 * V8's default (16 MiB semi-spaces) many survive a scavenge only because it came too soon, are
 * promoted, and the old generation's collections then walk the whole state more often. With
 * 64 MiB semi-spaces the engine took 16% less CPU on the first 1.5M lines of `hydra-28m`.
 */
const ENGINE_YOUNG_GENERATION_MB = 192;

export class EngineThread implements EarlyEngine {
  readonly where = 'thread' as const;
  private readonly worker: Worker;
  private readonly maxInFlight: number;
  /** Bytes of each batch handed over and not yet fed, by sequence number. */
  private readonly unfed = new Map<number, number>();
  private inFlight = 0;
  private seq = 0;
  private active = true;
  private failure: Error | null = null;
  private closed = false;
  private exited: Promise<void>;
  /** The scan waiting for room, or for the outcome. */
  private room: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private outcome: { resolve: (o: EarlyOutcome) => void; reject: (e: Error) => void } | null = null;
  private ended = false;
  /** The most bytes ever in flight: the bound holds if this stays within it plus one batch. */
  peakBytesInFlight = 0;
  /** The largest batch handed over, in bytes. */
  largestBatchBytes = 0;

  constructor(setup: EngineSetup, opts: EngineThreadOptions = {}) {
    this.maxInFlight = opts.maxBytesInFlight ?? DEFAULT_MAX_BYTES_IN_FLIGHT;
    if (!(this.maxInFlight >= 1)) throw new RangeError(`Cannot hold ${this.maxInFlight} bytes of rows for the engine: give 1 or more`);
    const resourceLimits = { maxYoungGenerationSizeMb: ENGINE_YOUNG_GENERATION_MB, ...opts.resourceLimits };
    this.worker = new Worker(WORKER_URL, { workerData: setup, resourceLimits });
    this.worker.on('message', (m: FromEngine) => this.receive(m));
    this.worker.on('error', (e) => this.fail(new Error(`The detection engine's thread failed: ${e.message.split('\n')[0]}`)));
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', (code) => {
        this.ended = true;
        if (!this.closed) this.fail(new Error(`The detection engine's thread exited with code ${code}`));
        resolve();
      }),
    );
  }

  /** Batches of rows handed over so far. */
  get batchesHanded(): number {
    return this.seq;
  }

  /** Whether the thread is still alive (false once closed or dead). */
  get running(): boolean {
    return !this.ended;
  }

  offer(rows: ExchangeColumns): void | Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.active || rows.length === 0) return;
    const bytes = sizeOf(rows);
    const seq = ++this.seq;
    this.unfed.set(seq, bytes);
    this.inFlight += bytes;
    if (bytes > this.largestBatchBytes) this.largestBatchBytes = bytes;
    if (this.inFlight > this.peakBytesInFlight) this.peakBytesInFlight = this.inFlight;
    // Without the columns the engine never reads: less to clone here and to decode there.
    this.worker.postMessage({ kind: 'rows', seq, rows: withoutUnread(rows) } satisfies ToEngine);
    if (this.inFlight <= this.maxInFlight) return;
    return new Promise((resolve, reject) => (this.room = { resolve, reject }));
  }

  finish(stored: number, input: ScanReport['input']): Promise<EarlyOutcome> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.outcome = { resolve, reject };
      this.worker.postMessage({ kind: 'finish', stored, input } satisfies ToEngine);
    });
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      await this.worker.terminate();
    }
    await this.exited;
  }

  private receive(m: FromEngine): void {
    if (m.kind === 'done') {
      const o = this.outcome;
      this.outcome = null;
      o?.resolve(m.outcome);
      return;
    }
    this.inFlight -= this.unfed.get(m.seq) ?? 0;
    this.unfed.delete(m.seq);
    // Once the engine gave up (out-of-order input), rows are no longer sent: the store will be replayed.
    if (!m.active) this.active = false;
    if (this.room && (this.inFlight <= this.maxInFlight || !this.active)) {
      const r = this.room;
      this.room = null;
      r.resolve();
    }
  }

  private fail(e: Error): void {
    this.failure ??= e;
    const waiting = [this.room, this.outcome];
    this.room = null;
    this.outcome = null;
    for (const w of waiting) w?.reject(this.failure);
  }
}
