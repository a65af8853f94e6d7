/**
 * The scan: ingest every input into the store (streaming, idempotent, resumable) and run the
 * detection engine over the exchanges in event-time order, then write the report.
 *
 * Logs are not always sorted (merged from many servers, files given in any order) while the
 * engine must see time in order to say honestly when it would have flagged an account. When
 * the input is in time order give or take minutes (the usual case), the engine is fed along
 * the ingest on a thread of its own (engine-thread.ts) while this thread reads and writes the
 * store and the feature workers compute (early-detect.ts); otherwise, or when the store held
 * rows before, the store does the sort, out of core, and is replayed after the ingest through
 * an engine on a thread of its own as well. Both give the same report.
 */
import type { TraceAssemblerOptions } from '../ingest/otel-trace.js';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { InputSource, ScanReport } from '../core/report.js';
import { columnsOfRows, sliceColumns } from '../store/column-batch.js';
import type { DetectorParams } from '../detect/params.js';
import type { FormatOption } from '../ingest/detect.js';
import { sourceKey } from '../ingest/source.js';
import { withDecisions } from '../report/decisions.js';
import { writeRollup } from '../investigate/rollup.js';
import type { FeatureOptions } from '../signals/features.js';
import { describeMiss, type EarlyDetectMiss } from './early-detect.js';
import { EarlyEngineHere, type EarlyEngine, type EarlyOutcome } from './early-engine.js';
import { EngineThread, type EngineThreadOptions } from './engine-thread.js';
import { defaultFeatureWorkers, FeaturePool } from './feature-pool.js';
import { ingestBatches } from './ingest-batches.js';
import type { BadRecord, BatchWriter, SourceKey, Store, StoreCounts } from '../store/store.js';
import type { OpenStoreOptions } from '../store/open.js';

export interface ScanProgress {
  phase: 'ingest' | 'detect';
  file?: string;
  /** Records read in this run (ingest) or exchanges replayed (detect). */
  done: number;
  bad: number;
  duplicates: number;
  /** Exchanges in the store, known in the detect phase. */
  total?: number;
}

export interface ScanOptions {
  inputs: readonly string[];
  store: Store;
  format?: FormatOption;
  /** How OpenTelemetry input is assembled (the account attribute, the trace window). */
  otel?: TraceAssemblerOptions;
  params?: Partial<DetectorParams>;
  features?: FeatureOptions;
  /** Bad records are also appended here as JSONL, for a human to look at. */
  quarantinePath?: string;
  /** Rows committed together (with their checkpoint). @default the store's `batchRows` */
  batchSize?: number;
  /**
   * For a store that holds a batch's rows until its commit (`BatchWriter.holdsRows`), a batch
   * goes to it once its rows reach about this many bytes, even short of `batchSize` rows: the
   * scan's thread holds at most two batches (one being filled, one being written), so this,
   * not the rows' size, bounds what it holds. A store that takes each part as it comes holds
   * none here.
   * @default 8 MiB
   */
  batchBytes?: number;
  onProgress?: (p: ScanProgress) => void;
  /**
   * Worker threads that read, validate and compute features while this thread reads the
   * input and writes the store; 0 does it all here.
   * @default one per core
   */
  featureWorkers?: number;
  /** Stop after ingest (for loading data without detection). */
  ingestOnly?: boolean;
  /**
   * Failpoint for crash tests: the process kills itself (SIGKILL, no clean-up) after this
   * many committed batches. Set from the DISTILLWATCH_FAILPOINT_KILL_AFTER_BATCHES variable.
   */
  killAfterBatches?: number;
  /**
   * The detection engine fed along the ingest (startEarlyDetect): sees every row read, in
   * input order, handed the same columns the store is (a copy of them on its own thread).
   */
  early?: EarlyEngine | null;
}

export interface IngestSummary {
  read: number;
  inserted: number;
  duplicates: number;
  bad: number;
  resumed: { file: string; fromLine: number }[];
  skipped: string[];
  /** Each input of this run: its key in the store, and what was read from it this time. */
  inputs: { file: string; source: SourceKey; read: number; bad: number; firstBad?: string }[];
}

/**
 * DuckDB's threads for a scan's store: one, the thread that calls it. With a second, DuckDB's
 * own worker takes the appends' and commits' tasks while the calling thread (libuv's) waits for
 * them by polling its task queue; on 2 cores already busy reading, computing features and
 * detecting, the scan of `bench:scan`'s file took 3.6-4.5 s less CPU of about 90 (4-5%), 1-1.3 s
 * less wall time and 40-65 MB less memory with one (two runs each, alternated). The queries
 * after the ingest then run on one thread: on hydra-28m's store (49M exchanges) the rollup took
 * 44-47 s against 28-34 s with two, a quarter of a minute more on a scan of three quarters of
 * an hour whose ingest the one thread shortens by about 5% of its CPU.
 */
export const SCAN_DUCKDB_THREADS = 1;

/** How a scan opens its store: on `SCAN_DUCKDB_THREADS`, with DuckDB's memory budget when one is given. */
export function scanStoreOptions(duckdbMemory?: string): OpenStoreOptions & { readOnly?: false } {
  return { duckdbThreads: SCAN_DUCKDB_THREADS, ...(duckdbMemory ? { duckdbMemory } : {}) };
}

const DEFAULT_BATCH_BYTES = 8 * 2 ** 20;
/** Parts of a batch waiting for the store to take them before reading goes on (a few feature workers' answers). */
const MAX_PARTS_WAITING = 4;

/** Ingests inputs into the store. Each batch is committed with its checkpoint, so a killed run resumes. */
export async function ingest(opts: ScanOptions): Promise<IngestSummary> {
  const batchSize = opts.batchSize ?? opts.store.batchRows;
  const batchBytes = opts.batchBytes ?? DEFAULT_BATCH_BYTES;
  if (!(batchBytes >= 1)) throw new RangeError(`Cannot fill batches of ${batchBytes} bytes: give 1 or more`);
  const summary: IngestSummary = { read: 0, inserted: 0, duplicates: 0, bad: 0, resumed: [], skipped: [], inputs: [] };
  let quarantine: WriteStream | null = null;
  let batches = 0;
  let inFlight: Promise<void> | null = null;
  /** The batch being filled, if any: dropped if the scan fails before committing it. */
  let open: (() => BatchWriter) | null = null;
  const workers = opts.featureWorkers ?? defaultFeatureWorkers();
  const pool = workers > 0 ? new FeaturePool(workers) : null;
  const early = opts.early ?? null;
  const setAside = (b: BadRecord): void => {
    if (opts.quarantinePath) {
      quarantine ??= createWriteStream(opts.quarantinePath, { flags: 'a' });
      quarantine.write(JSON.stringify(b) + '\n');
    }
  };
  try {
    for (const input of opts.inputs) {
      const source = await sourceKey(input);
      const mine: IngestSummary['inputs'][number] = { file: input, source, read: 0, bad: 0 };
      summary.inputs.push(mine);
      const cp = await opts.store.checkpoint(source);
      if (cp?.done) {
        summary.skipped.push(input);
        continue;
      }
      const skipLines = cp?.line ?? 0;
      if (skipLines > 0) summary.resumed.push({ file: input, fromLine: skipLines + 1 });
      // The batch being filled: each part of the feature workers' answers goes to the store
      // as it comes (a store that cannot take it yet holds it), so that this thread holds no
      // batch of rows, only the parts the store has not taken yet.
      let batch = opts.store.openBatch();
      const adding: Promise<void>[] = [];
      let count = 0;
      let bad: BadRecord[] = [];
      let lastLine = skipLines;
      // What the batch's rows hold (ExchangeColumns.sizes), for a store that holds them: about their bytes, near enough for a bound.
      let held = 0;
      // One batch at a time is committing while the next is read and computed: the store
      // works on its own threads, so reading need not wait for it. Batches still commit one
      // after another, in order, each with its checkpoint.
      const flush = async (done: boolean): Promise<void> => {
        const full = { batch, bad, line: lastLine };
        batch = opts.store.openBatch();
        count = 0;
        bad = [];
        held = 0;
        if (inFlight) await inFlight;
        const committed = full.batch.commit(full.bad, { source, line: full.line, done }).then((out) => {
          summary.inserted += out.inserted;
          summary.duplicates += out.duplicates;
          batches++;
          if (opts.killAfterBatches !== undefined && batches >= opts.killAfterBatches) process.kill(process.pid, 'SIGKILL');
          opts.onProgress?.({ phase: 'ingest', file: input, done: summary.read, bad: summary.bad, duplicates: summary.duplicates });
        });
        // Handled here so that a failure is not reported as unhandled before it is awaited.
        committed.catch(() => {});
        inFlight = committed;
        if (done) await committed;
      };
      open = () => batch;
      for await (const answer of ingestBatches(input, { format: opts.format ?? 'auto', skipLines, pool, ...(opts.otel ? { otel: opts.otel } : {}), ...(opts.features ? { features: opts.features } : {}) })) {
        const { rows, lines, sizes } = { rows: answer.rows, lines: answer.lines, sizes: answer.rows.sizes };
        // Rows of the answer from `from` on are not in a batch yet. The engine is handed each
        // answer's rows as they come, not the store's batches: on its own thread it then
        // works on one while this thread reads the next.
        let from = 0;
        const take = async (to: number): Promise<void> => {
          if (to === from) return;
          const part = sliceColumns(rows, from, to);
          from = to;
          const added = batch.add(part);
          // A failure fails the batch; its commit (or the wait below) reports it.
          added.catch(() => {});
          adding.push(added);
          // Parts the store has not taken yet (it is committing the batch before, or folding
          // its log into the file) wait here, a few at most.
          while (adding.length > MAX_PARTS_WAITING) await adding.shift();
          if (early) await early.offer(part);
        };
        let b = 0;
        for (let r = 0; r <= rows.length; r++) {
          // The bad records read before this row, in line order with the rows.
          while (b < answer.bad.length && answer.bad[b]!.before === r) {
            const item = answer.bad[b++]!.bad;
            bad.push(item);
            setAside(item);
            summary.bad++;
            mine.bad++;
            mine.firstBad ??= item.reason;
            lastLine = item.line;
            if (count + bad.length >= batchSize || (batch.holdsRows && held >= batchBytes)) {
              await take(r);
              await flush(false);
            }
          }
          if (r === rows.length) break;
          count++;
          held += sizes[r]!;
          summary.read++;
          mine.read++;
          lastLine = lines[r]!;
          if (count + bad.length >= batchSize || (batch.holdsRows && held >= batchBytes)) {
            await take(r + 1);
            await flush(false);
          }
        }
        await take(rows.length);
      }
      await flush(true);
    }
  } finally {
    // A failed read must not leave a batch being written while the caller closes the store.
    await (inFlight as Promise<void> | null)?.catch(() => {});
    // Nor one half added (its transaction open): after a commit, the next is empty.
    await (open as (() => BatchWriter) | null)?.().abandon().catch(() => {});
    await pool?.close();
    const q = quarantine as WriteStream | null;
    if (q) await new Promise<void>((resolve) => q.end(resolve));
  }
  return summary;
}

export interface EarlyDetectStart {
  /**
   * Run the engine on a thread of its own, beside the scan's (false: on the scan's thread,
   * for tests and small inputs; the report is the same).
   * @default true
   */
  engineThread?: boolean;
  thread?: EngineThreadOptions;
  /** Measure the engine's heap at the end (forces collections, needs node --expose-gc: benchmarks only). */
  measureHeap?: boolean;
}

/**
 * An engine to feed along the ingest (pass it as `early` to ingest and detect), or null when
 * the store already holds rows: then only a replay sees them all in time order. `detect`
 * closes it once it has its outcome; the caller closes it too (`close`, in a finally: it may
 * hold a thread, and a failed ingest never reaches `detect`).
 */
export async function startEarlyDetect(store: Store, params?: Partial<DetectorParams>, opts: EarlyDetectStart = {}): Promise<EarlyEngine | null> {
  if ((await store.counts()).exchanges > 0) return null;
  return engineFor(store, params, opts);
}

/** A fresh engine with the store's imported indicators, on its own thread unless told otherwise. */
async function engineFor(store: Store, params: Partial<DetectorParams> | undefined, opts: EarlyDetectStart): Promise<EarlyEngine> {
  // Indicators imported from other providers' bundles (distillwatch intel import) are evidence.
  const setup = { ...(params ? { params } : {}), intel: await store.intelIndicators(), ...(opts.measureHeap ? { measureHeap: true } : {}) };
  return opts.engineThread === false ? new EarlyEngineHere(setup) : new EngineThread(setup, opts.thread);
}

export interface DetectOutcome {
  report: ScanReport;
  /** Why the engine fed along the ingest could not be used and the store was replayed; null when it was used or not asked for. */
  replayed: EarlyDetectMiss | null;
  /** What the engine held on its heap at the end, when asked (`measureHeap`) and measurable. */
  engineHeapBytes: number | null;
  /** CPU seconds of the engine's own thread, when asked (`measureHeap`), it had one and the kernel tells. */
  engineThreadCpuSeconds: number | null;
}

/**
 * The report: from the engine fed along the ingest (`early`) when it saw exactly the stored
 * rows in the replay's order, else from a replay of the store through a fresh engine.
 * `counts` spares a count the caller already made.
 */
export async function detect(opts: Pick<ScanOptions, 'store' | 'params' | 'onProgress'> & { thisScan?: readonly SourceKey[]; counts?: StoreCounts; early?: EarlyEngine | null; measureHeap?: boolean; engineThread?: boolean }): Promise<DetectOutcome> {
  const counts = opts.counts ?? (await opts.store.counts());
  // The replay covers the whole store, so the report names every input in it, not only this scan's.
  const mine = new Set((opts.thisScan ?? []).map((s) => s.key));
  const sources: InputSource[] = (await opts.store.sources()).map((cp) => ({ path: cp.source.path, lines: cp.line, complete: cp.done, this_scan: mine.has(cp.source.key) }));
  const input: ScanReport['input'] = { exchanges: counts.exchanges, accounts: counts.accounts, bad_records: counts.bad_records, files: sources.map((s) => s.path), sources };
  const early = opts.early ? await opts.early.finish(counts.exchanges, input) : null;
  // Its report is out (or it cannot stand for the replay): the engine's state goes now, not
  // after the report is saved or a replay has built a second engine. On the whole hydra-28m
  // scan the peak was there, with the engine's heap still held while the report was written.
  await opts.early?.close();
  const outcome = early?.ok ? early : await replayStore({ ...opts, counts, input });
  const built = outcome.report;
  const { engineHeapBytes, engineThreadCpuSeconds } = outcome;
  // The analysts' decisions beside the verdicts (report/decisions.ts).
  const report = withDecisions(built, await opts.store.caseDecisions());
  await opts.store.saveReport(report);
  await writeRollup(opts.store, report);
  return { report, replayed: early && !early.ok ? early.miss : null, engineHeapBytes, engineThreadCpuSeconds };
}

/**
 * Every stored row, in event time, through a fresh engine: on a thread of its own unless
 * `engineThread` is false, so that the scan's thread reads the store and lays the rows out as
 * columns while the engine detects. On the scan's thread alone the whole hydra-28m store took
 * 1 h 47 min to re-detect, one core busy while the other waited.
 */
async function replayStore(opts: Pick<ScanOptions, 'store' | 'params' | 'onProgress'> & { counts: StoreCounts; input: ScanReport['input']; engineThread?: boolean; measureHeap?: boolean }): Promise<EarlyOutcome & { ok: true }> {
  const engine = await engineFor(opts.store, opts.params, { ...(opts.engineThread === undefined ? {} : { engineThread: opts.engineThread }), ...(opts.measureHeap ? { measureHeap: true } : {}) });
  try {
    let done = 0;
    for await (const batch of opts.store.replay()) {
      const laid = columnsOfRows(batch);
      if (!laid.ok) throw new Error(`The store holds an exchange the engine cannot take: ${laid.problem}`);
      await engine.offer(laid.columns);
      done += batch.length;
      opts.onProgress?.({ phase: 'detect', done, bad: opts.counts.bad_records, duplicates: 0, total: opts.counts.exchanges });
    }
    const outcome = await engine.finish(opts.counts.exchanges, opts.input);
    // The store hands its rows over in the engine's order, each once: a miss here is a store's fault.
    if (!outcome.ok) throw new Error(`The store's replay was not in event-time order or not whole: ${describeMiss(outcome.miss)}`);
    return outcome;
  } finally {
    await engine.close();
  }
}

/** Ingest and detect, the engine fed along the ingest when the store starts empty (`replay: true` always replays). */
export async function scan(opts: ScanOptions & { replay?: boolean; engineThread?: boolean }): Promise<{ report: ScanReport | null; ingest: IngestSummary; replayed: EarlyDetectMiss | null }> {
  const early = opts.ingestOnly || opts.replay ? null : await startEarlyDetect(opts.store, opts.params, opts.engineThread === undefined ? {} : { engineThread: opts.engineThread });
  try {
    const summary = await ingest({ ...opts, early });
    if (opts.ingestOnly) return { report: null, ingest: summary, replayed: null };
    const { report, replayed } = await detect({ ...opts, thisScan: summary.inputs.map((i) => i.source), early });
    return { report, ingest: summary, replayed };
  } finally {
    await early?.close();
  }
}
