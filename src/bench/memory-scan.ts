/**
 * The scan's detection without its store, for the benchmark's large populations: the logs
 * are read, featurized and fed to the engine in event-time order with the same hourly ticks
 * the scan uses when it detects along the ingest, and the report is built the same way. What
 * it leaves out is the store's write and read (the part of a bench run that grows fastest
 * with the population on a small machine); the verdicts are the engine's either way.
 */
import type { ScanReport } from '../core/report.js';
import { DetectionEngine } from '../detect/engine.js';
import type { DetectorParams } from '../detect/params.js';
import { readExchangeBatches } from '../ingest/read.js';
import { describeMiss, EarlyDetect } from '../pipeline/early-detect.js';
import { buildReport } from '../report/build.js';
import { computeFeatures, type FeatureOptions } from '../signals/features.js';
import { decodeExchange, encodeExchange } from '../store/exchange-columns.js';

export interface MemoryScanOptions {
  params?: Partial<DetectorParams>;
  features?: FeatureOptions;
}

/**
 * Scans one log file in memory and returns the report a scan would write. The rows go
 * through the scan's own path along the ingest (encoded as stored, put back in the replay's
 * order by EarlyDetect); a file it cannot prove in order is an exception here, since the
 * benchmark writes its own files in order.
 * @example const report = await memoryScan('small-1.jsonl.gz', {});
 */
export async function memoryScan(path: string, o: MemoryScanOptions = {}): Promise<ScanReport> {
  // Held for two hours of event time rather than the scan's ten minutes: logs cut to the hour
  // (an ablation) put a late-written line an hour behind the one before it. Holding longer only
  // delays feeding; the order fed, and so every verdict, is the replay's.
  const early = new EarlyDetect(new DetectionEngine(o.params ? { params: o.params } : {}), { holdMs: 2 * 3_600_000, maxHeld: 1_000_000 });
  const accounts = new Set<string>();
  let exchanges = 0;
  let bad = 0;
  for await (const batch of readExchangeBatches(path)) {
    for (const item of batch) {
      if (item.kind === 'bad') {
        bad++;
        continue;
      }
      const f = computeFeatures(item.exchange, o.features);
      const row = encodeExchange(f, exchanges);
      if (typeof row !== 'string') throw new Error(row.problem);
      accounts.add(f.account_id);
      exchanges++;
      early.offer(decodeExchange(row));
    }
  }
  const done = early.finish(exchanges);
  if (!done.ok) throw new Error(`Cannot scan "${path}" in memory: ${describeMiss(done.miss)}`);
  return buildReport(done.engine, { exchanges, accounts: accounts.size, bad_records: bad, files: [path] });
}
