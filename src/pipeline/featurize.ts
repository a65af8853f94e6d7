/**
 * Lines in, stored rows out: records read, validated and turned into features. Shared by
 * the scan's own thread and its feature workers, so both give the same rows for the same
 * lines.
 */
import type { ExchangeFeatures } from '../core/features.js';
import type { Format } from '../ingest/detect.js';
import type { LineItem } from '../ingest/lines.js';
import { RecordReader, type ReadItem } from '../ingest/read.js';
import { computeFeatures, type FeatureOptions } from '../signals/features.js';
import type { BadRecord } from '../store/store.js';

/** A line's outcome: a row to store (with the line it came from), or a bad record. */
export type Ingested = { kind: 'row'; line: number; row: ExchangeFeatures } | { kind: 'bad'; bad: BadRecord };

export function featurize(reader: RecordReader, lines: readonly LineItem[], features: FeatureOptions | undefined): Ingested[] {
  const read: ReadItem[] = [];
  for (let i = 0; i < lines.length; i++) reader.read(lines[i]!, read);
  const out: Ingested[] = new Array(read.length);
  for (let i = 0; i < read.length; i++) {
    const item = read[i]!;
    out[i] = item.kind === 'exchange' ? { kind: 'row', line: item.line, row: computeFeatures(item.exchange, features) } : item;
  }
  return out;
}

/** The end of an input: what its reader still held (open traces, an unfinished document), as rows. */
export function featurizeRest(reader: RecordReader, features: FeatureOptions | undefined): Ingested[] {
  const read: ReadItem[] = [];
  reader.finish(read);
  return read.map((item) => (item.kind === 'exchange' ? { kind: 'row', line: item.line, row: computeFeatures(item.exchange, features) } : item));
}

/** What a feature worker is asked: a batch of lines of one input whose format is known. */
export interface FeaturizeRequest {
  seq: number;
  path: string;
  format: Format;
  lines: LineItem[];
  features?: FeatureOptions;
}

export interface FeaturizeAnswer {
  seq: number;
  items: Ingested[];
}
