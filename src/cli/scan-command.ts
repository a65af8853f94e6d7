/**
 * `distillwatch scan <logs...>`: ingest, detect, write report.json and print the summary.
 */
import { readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseParams, type DetectorParams } from '../detect/params.js';
import type { FormatOption } from '../ingest/detect.js';
import { scan } from '../pipeline/scan.js';
import { formatSummary } from '../report/summary.js';
import { openDuckDbStore } from '../store/duckdb.js';
import type { ScanReport } from '../core/report.js';
import type { FeatureOptions } from '../signals/features.js';
import { UserError } from './errors.js';
import { progressReporter } from './progress.js';

export interface ScanCommandOptions {
  out: string;
  db: string;
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

export async function runScan(inputs: string[], o: ScanCommandOptions): Promise<ScanReport> {
  for (const i of inputs) if (i !== '-' && !existsSync(i)) throw new UserError(`Cannot read input "${i}": no such file`);
  const params = loadParams(o.params);
  if (o.fresh) {
    rmSync(o.db, { force: true });
    rmSync(o.db + '.wal', { force: true });
  }
  const features: FeatureOptions = { promptPreviewChars: o.promptPreview };
  const key = ipHashKey(o.ipHashKeyFile);
  if (key) features.ipHashKey = key;
  const store = await openDuckDbStore(o.db, o.dbMemory ? { memoryLimit: o.dbMemory } : {});
  const progress = progressReporter(o.progress && process.stderr.isTTY === true);
  try {
    const started = Date.now();
    const { report, ingest } = await scan({
      inputs,
      store,
      format: o.format,
      ...(o.accountAttribute ? { otel: { accountAttribute: o.accountAttribute } } : {}),
      ...(params ? { params } : {}),
      features,
      quarantinePath: o.quarantine ?? join(dirname(resolve(o.out)), 'quarantine.jsonl'),
      onProgress: progress.update,
      ...(o.batchSize ? { batchSize: o.batchSize } : {}),
      ...(o.workers !== undefined ? { featureWorkers: o.workers } : {}),
      ...(process.env['DISTILLWATCH_FAILPOINT_KILL_AFTER_BATCHES'] ? { killAfterBatches: Number(process.env['DISTILLWATCH_FAILPOINT_KILL_AFTER_BATCHES']) } : {}),
    });
    progress.stop();
    if (!report) throw new Error('scan returned no report');
    writeFileSync(o.out, JSON.stringify(report, null, 2) + '\n');
    const secs = (Date.now() - started) / 1000;
    const notes: string[] = [];
    for (const r of ingest.resumed) notes.push(`resumed "${r.file}" at line ${r.fromLine}`);
    for (const s of ingest.skipped) notes.push(`"${s}" was already ingested: not read again`);
    if (ingest.duplicates) notes.push(`${ingest.duplicates} records already stored were ignored`);
    if (ingest.bad) notes.push(`${ingest.bad} bad records set aside (see ${o.quarantine ?? 'quarantine.jsonl'})`);
    if (o.summary) {
      process.stdout.write(formatSummary(report, { maxAccounts: o.maxAccounts, color: process.stdout.isTTY === true }) + '\n\n');
    }
    for (const n of notes) process.stderr.write(`note: ${n}\n`);
    process.stderr.write(`wrote ${o.out} (${ingest.read} records read in ${secs.toFixed(1)} s; store ${o.db})\n`);
    return report;
  } finally {
    progress.stop();
    await store.close();
  }
}
