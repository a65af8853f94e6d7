/**
 * One input's lines as rows and bad records, a batch at a time, in file order. With a
 * feature pool, batches are computed in parallel once the input's format is known (it is
 * decided by the first parseable record, so lines before it are read here, in order).
 */
import type { FormatOption } from '../ingest/detect.js';
import { readLineBatches, type ReadLinesOptions } from '../ingest/lines.js';
import type { TraceAssemblerOptions } from '../ingest/otel-trace.js';
import { RecordReader } from '../ingest/read.js';
import type { FeatureOptions } from '../signals/features.js';
import type { FeaturePool } from './feature-pool.js';
import { featurize, featurizeRest, type Ingested } from './featurize.js';

export interface IngestBatchOptions {
  format: FormatOption;
  otel?: TraceAssemblerOptions;
  skipLines?: number;
  features?: FeatureOptions;
  /** Null computes everything on this thread. */
  pool: FeaturePool | null;
}

export async function* ingestBatches(path: string, opts: IngestBatchOptions): AsyncGenerator<Ingested[]> {
  const lineOpts: ReadLinesOptions = opts.skipLines ? { skipLines: opts.skipLines } : {};
  const reader = new RecordReader(path, opts.format, opts.otel);
  const pool = opts.pool;
  // Batches in flight, oldest first: enough to keep every worker busy while one is consumed.
  const pending: Promise<Ingested[]>[] = [];
  const maxPending = pool ? pool.size * 2 : 0;
  for await (const lines of readLineBatches(path, lineOpts)) {
    const format = reader.knownFormat;
    if (pool === null || format === null || !reader.parallelSafe) {
      const items = featurize(reader, lines, opts.features);
      if (items.length > 0) yield items;
      continue;
    }
    const p = pool.run({ path, format, lines, ...(opts.features ? { features: opts.features } : {}) });
    // Awaited in order below; handled here so that a failure is not reported before then.
    p.catch(() => {});
    pending.push(p);
    if (pending.length >= maxPending) {
      const items = await pending.shift()!;
      if (items.length > 0) yield items;
    }
  }
  while (pending.length > 0) {
    const items = await pending.shift()!;
    if (items.length > 0) yield items;
  }
  // Traces still open at the end of the input (OpenTelemetry) and an unfinished document.
  const rest = featurizeRest(reader, opts.features);
  if (rest.length > 0) yield rest;
}
