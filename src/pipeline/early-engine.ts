/**
 * The detection engine fed along the ingest, wherever it runs: on the scan's own thread
 * (`EarlyEngineHere`) or on a thread of its own (engine-thread.ts, which runs an
 * `EarlyEngineHere` inside). The scan sees one interface: batches of rows in input order in,
 * the report's engine part (or why the store must be replayed) out, as plain data.
 */
import type { ScanReport } from '../core/report.js';
import { DetectionEngine } from '../detect/engine.js';
import type { DetectorParams } from '../detect/params.js';
import { knownIndicators } from '../intel/known.js';
import { buildReport } from '../report/build.js';
import { rowsOfColumns, type ExchangeColumns } from '../store/column-batch.js';
import type { IntelIndicatorRecord } from '../store/store.js';
import { EarlyDetect, type EarlyDetectMiss, type EarlyDetectOptions } from './early-detect.js';

/** The report built from the engine fed along the ingest, or why the store must be replayed. */
export type EarlyOutcome =
  | {
      ok: true;
      /** Built by `buildReport`, before the analysts' decisions are laid beside it. */
      report: ScanReport;
      /** What the engine held on its heap at the end (after a forced collection); null when not asked or not measurable. */
      engineHeapBytes: number | null;
      /** CPU seconds the engine's thread spent, when asked (`measureHeap`) and it ran on its own thread on Linux. */
      engineThreadCpuSeconds: number | null;
    }
  | { ok: false; miss: EarlyDetectMiss };

export interface EarlyEngine {
  /** Where the engine runs: on the scan's thread or on its own. */
  readonly where: 'here' | 'thread';
  /**
   * A batch of rows in input order, as the feature workers laid them out. A promise, when
   * returned, resolves once the engine may be given more.
   */
  offer(rows: ExchangeColumns): void | Promise<void>;
  /** After the ingest: `stored` rows are in the store; `input` is the report's input part. */
  finish(stored: number, input: ScanReport['input']): Promise<EarlyOutcome>;
  /** Lets go of the engine (ends its thread); safe to call more than once. */
  close(): Promise<void>;
}

/** What an engine is made of, as plain data (it crosses to the engine's thread). */
export interface EngineSetup {
  params?: Partial<DetectorParams>;
  /** Indicators imported from other providers' bundles (distillwatch intel import), as the store holds them. */
  intel: readonly IntelIndicatorRecord[];
  hold?: EarlyDetectOptions;
  /** Measure the engine's heap at the end (forces collections: benchmarks only). */
  measureHeap?: boolean;
}

/** A fresh engine with the store's imported indicators. */
export function newDetectionEngine(params: Partial<DetectorParams> | undefined, intel: readonly IntelIndicatorRecord[]): DetectionEngine {
  const known = knownIndicators(intel);
  return new DetectionEngine({ ...(params ? { params } : {}), ...(known.size > 0 ? { knownIndicators: known } : {}) });
}

const gc = (globalThis as { gc?: () => void }).gc;

/** Live heap after a forced collection, or null when collections cannot be forced (node without --expose-gc). */
export function liveHeapBytes(): number | null {
  if (gc === undefined) return null;
  gc();
  return process.memoryUsage().heapUsed;
}

/** The engine on this thread. */
export class EarlyEngineHere implements EarlyEngine {
  readonly where = 'here' as const;
  private readonly early: EarlyDetect;
  private readonly heapBefore: number | null;

  constructor(setup: EngineSetup) {
    this.heapBefore = setup.measureHeap ? liveHeapBytes() : null;
    this.early = new EarlyDetect(newDetectionEngine(setup.params, setup.intel), setup.hold);
  }

  /** Still feeding the engine (false once it gave up: the store will be replayed). */
  get active(): boolean {
    return this.early.active;
  }

  offer(rows: ExchangeColumns): void {
    if (!this.early.active) return;
    // Objects, not a view over the columns: the engine keeps rows (held for reordering, in its state).
    const objects = rowsOfColumns(rows);
    for (let i = 0; i < objects.length && this.early.active; i++) this.early.offer(objects[i]!);
  }

  finish(stored: number, input: ScanReport['input']): Promise<EarlyOutcome> {
    return Promise.resolve(this.finishNow(stored, input));
  }

  finishNow(stored: number, input: ScanReport['input']): EarlyOutcome {
    const r = this.early.finish(stored);
    if (!r.ok) return r;
    const report = buildReport(r.engine, input);
    // Measured while the engine is still held: what it holds is the heap beyond the one before it was made.
    const after = this.heapBefore === null ? null : liveHeapBytes();
    // Used after the measurement, so that nothing lets the engine go before it.
    if (r.engine.params === undefined) throw new Error('the engine lost its parameters');
    return { ok: true, report, engineHeapBytes: after === null || this.heapBefore === null ? null : after - this.heapBefore, engineThreadCpuSeconds: null };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
