/**
 * One input's lines as rows and bad records, a batch at a time, in file order. With a
 * feature pool, batches are computed in parallel once the input's format is known (it is
 * decided by the first parseable record, so lines before it are read here, in order).
 */
import type { FormatOption } from '../ingest/detect.js';
import { DEFAULT_MAX_LINE_BYTES, linesOfBlock, readLineBlocks, type LineItem, type ReadLinesOptions } from '../ingest/lines.js';
import type { TraceAssemblerOptions } from '../ingest/otel-trace.js';
import { RecordReader } from '../ingest/read.js';
import type { FeatureOptions } from '../signals/features.js';
import type { FeaturePool } from './feature-pool.js';
import { featurize, featurizeRest, isEmpty, type Featurized } from './featurize.js';

export interface IngestBatchOptions {
  format: FormatOption;
  otel?: TraceAssemblerOptions;
  skipLines?: number;
  features?: FeatureOptions;
  /** Null computes everything on this thread. */
  pool: FeaturePool | null;
}

export async function* ingestBatches(path: string, opts: IngestBatchOptions): AsyncGenerator<Featurized> {
  const lineOpts: ReadLinesOptions = opts.skipLines ? { skipLines: opts.skipLines } : {};
  const reader = new RecordReader(path, opts.format, opts.otel);
  const pool = opts.pool;
  // Batches in flight, oldest first: enough to keep every worker busy while one is consumed.
  const pending: Promise<Featurized>[] = [];
  const maxPending = pool ? pool.size * 2 : 0;
  for await (const blocks of readLineBlocks(path, lineOpts)) {
    for (const block of blocks) {
      const format = reader.knownFormat;
      // Lines already cut (a line over the limit, a broken input) and the lines before the
      // format is known are read here, in order with the blocks in flight.
      if (pool === null || format === null || !reader.parallelSafe || Array.isArray(block)) {
        const lines: LineItem[] = Array.isArray(block) ? block : linesOfBlock(block, DEFAULT_MAX_LINE_BYTES);
        const items = featurize(reader, lines, opts.features);
        if (pending.length === 0) {
          if (!isEmpty(items)) yield items;
        } else pending.push(Promise.resolve(items));
        continue;
      }
      // The block's bytes are transferred, not copied: the worker cuts and decodes the lines.
      const p = pool.run({ path, format, block, ...(opts.features ? { features: opts.features } : {}) }, [block.bytes.buffer as ArrayBuffer]);
      // Awaited in order below; handled here so that a failure is not reported before then.
      p.catch(() => {});
      pending.push(p);
      while (pending.length >= maxPending) {
        const items = await pending.shift()!;
        if (!isEmpty(items)) yield items;
      }
    }
  }
  while (pending.length > 0) {
    const items = await pending.shift()!;
    if (!isEmpty(items)) yield items;
  }
  // Traces still open at the end of the input (OpenTelemetry) and an unfinished document.
  const rest = featurizeRest(reader, opts.features);
  if (!isEmpty(rest)) yield rest;
}
