/**
 * `distillwatch scan <logs...>`: ingest, detect, write report.json and print the summary.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseParams, type DetectorParams } from '../detect/params.js';
import type { FormatOption } from '../ingest/detect.js';
import { describeMiss } from '../pipeline/early-detect.js';
import type { EarlyEngine } from '../pipeline/early-engine.js';
import { detect, ingest, scanStoreOptions, startEarlyDetect } from '../pipeline/scan.js';
import { formatSummary } from '../report/summary.js';
import { dropStore, openStore } from '../store/open.js';
import type { ScanReport } from '../core/report.js';
import type { FeatureOptions } from '../signals/features.js';
import { UserError } from './errors.js';
import { progressReporter } from './progress.js';
import { storeName, storeUrlOf } from './store-option.js';

export interface ScanCommandOptions {
  out: string;
  /** The DuckDB shorthand of `store`. */
  db?: string;
  /** The store's URL (store/url.ts); default: distillwatch.duckdb. */
  store?: string;
  format: FormatOption;
  accountAttribute?: string;
  params?: string;
  fresh?: boolean;
  progress: boolean;
  quarantine?: string;
  promptPreview: number;
  ipHashKeyFile?: string;
  maxAccounts: number;
  summary: boolean;
  batchSize?: number;
  dbMemory?: string;
  workers?: number;
}

export function loadParams(path: string | undefined): Partial<DetectorParams> | undefined {
  if (!path) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError(`Cannot read detector parameters "${path}": ${(e as Error).message}`);
  }
  const r = parseParams(raw);
  if (!r.ok) throw new UserError(`${r.error} in "${path}"`);
  return r.value;
}

/** The IP hashing key: from a file (so that it never sits in shell history) or the environment. */
export function ipHashKey(file: string | undefined): string | undefined {
  if (file) {
    try {
      const k = readFileSync(file, 'utf8').trim();
      if (!k) throw new Error('the file is empty');
      return k;
    } catch (e) {
      throw new UserError(`Cannot read the IP hashing key "${file}": ${(e as Error).message}`);
    }
  }
  return process.env['DISTILLWATCH_IP_HASH_KEY'] || undefined;
}

/** Every input exists and is a file or stdin: checked before anything is written. */
function checkInputs(inputs: readonly string[]): void {
  for (const i of inputs) {
    if (i === '-') continue;
    let st;
    try {
      st = statSync(i);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new UserError(`Cannot read input "${i}": ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
    if (st.isDirectory()) throw new UserError(`Cannot read input "${i}": it is a directory; give the files in it (e.g. "${join(i, '*.jsonl')}")`);
  }
}

/**
 * The folder of the report and of the quarantine is made when missing (like `mkdir -p`),
 * before the scan starts, so that a long scan never fails at its end for want of a folder.
 * The store's is not: a store is kept and reused, and a mistyped path should say so.
 */
function prepareOutput(flag: string, file: string): void {
  try {
    mkdirSync(dirname(resolve(file)), { recursive: true });
  } catch (e) {
    throw new UserError(`Cannot create the folder of ${flag} "${file}": ${(e as Error).message}`);
  }
  if (statSync(file, { throwIfNoEntry: false })?.isDirectory()) throw new UserError(`Cannot write ${flag} "${file}": it is a directory`);
}

export async function runScan(inputs: string[], o: ScanCommandOptions): Promise<ScanReport> {
  checkInputs(inputs);
  const params = loadParams(o.params);
  const quarantinePath = o.quarantine ?? join(dirname(resolve(o.out)), 'quarantine.jsonl');
  prepareOutput('--out', o.out);
  prepareOutput('--quarantine', quarantinePath);
  const storeUrl = storeUrlOf(o, 'distillwatch.duckdb');
  if (o.fresh) {
    // A fresh scan starts from nothing: its store, and the bad records set aside by earlier runs.
    await dropStore(storeUrl);
    rmSync(quarantinePath, { force: true });
  }
  const features: FeatureOptions = { promptPreviewChars: o.promptPreview };
  const key = ipHashKey(o.ipHashKeyFile);
  if (key) features.ipHashKey = key;
  const store = await openStore(storeUrl, scanStoreOptions(o.dbMemory));
  const progress = progressReporter(o.progress && process.stderr.isTTY === true);
  let early: EarlyEngine | null = null;
  try {
    const started = Date.now();
    // The engine is fed as rows are read when the store starts empty (pipeline/early-detect.ts),
    // on a thread of its own unless everything is asked to run on one thread (--workers 0).
    early = await startEarlyDetect(store, params, { engineThread: o.workers !== 0 });
    const summary = await ingest({
      early,
      inputs,
      store,
      format: o.format,
      ...(o.accountAttribute ? { otel: { accountAttribute: o.accountAttribute } } : {}),
      features,
      quarantinePath,
      onProgress: progress.update,
      ...(o.batchSize ? { batchSize: o.batchSize } : {}),
      ...(o.workers !== undefined ? { featureWorkers: o.workers } : {}),
      ...(process.env['DISTILLWATCH_FAILPOINT_KILL_AFTER_BATCHES'] ? { killAfterBatches: Number(process.env['DISTILLWATCH_FAILPOINT_KILL_AFTER_BATCHES']) } : {}),
    });
    const notes: string[] = [];
    for (const i of summary.inputs) {
      if (i.read === 0 && i.bad > 0) notes.push(`nothing could be read from "${i.file}": all ${i.bad} records were bad (first: ${i.firstBad})`);
    }
    const counts = await store.counts();
    if (counts.exchanges === 0 && counts.bad_records > 0) {
      const first = summary.inputs.find((i) => i.firstBad)?.firstBad ?? (await store.badRecords(1))[0]?.reason ?? '';
      throw new UserError(`No exchange could be read: all ${counts.bad_records} records were bad, set aside in "${quarantinePath}" and the store (first: ${first}); check the files and --format`);
    }
    const { report, replayed } = await detect({ store, counts, early, ...(params ? { params } : {}), onProgress: progress.update, thisScan: summary.inputs.map((i) => i.source) });
    if (replayed) notes.push(`the store was replayed in time order after reading, since ${describeMiss(replayed)}`);
    progress.stop();
    writeFileSync(o.out, JSON.stringify(report, null, 2) + '\n');
    const secs = (Date.now() - started) / 1000;
    for (const r of summary.resumed) notes.push(`resumed "${r.file}" at line ${r.fromLine}`);
    for (const s of summary.skipped) notes.push(`"${s}" was already ingested: not read again`);
    if (summary.duplicates) notes.push(`${summary.duplicates} records already stored were ignored`);
    if (summary.bad) notes.push(`${summary.bad} bad records set aside (see ${quarantinePath})`);
    const earlier = (report.input.sources ?? []).filter((s) => !s.this_scan).length;
    if (earlier > 0) notes.push(`the report also covers ${earlier} input${earlier === 1 ? '' : 's'} of earlier scans into ${storeName(storeUrl)} (listed in the summary; --fresh starts from an empty store)`);
    if (o.summary) {
      process.stdout.write(formatSummary(report, { maxAccounts: o.maxAccounts, color: process.stdout.isTTY === true }) + '\n');
    }
    for (const n of notes) process.stderr.write(`note: ${n}\n`);
    process.stderr.write(`wrote ${o.out} (${summary.read} records read in ${secs.toFixed(1)} s; store ${storeName(storeUrl)})\n`);
    return report;
  } finally {
    progress.stop();
    // Ends the engine's thread whatever happened, before the store it read goes.
    await early?.close();
    await store.close();
  }
}
