/**
 * Lines in, stored rows out: records read, validated and turned into features. Shared by
 * the scan's own thread and its feature workers, so both give the same rows for the same
 * lines.
 */
import type { Format } from '../ingest/detect.js';
import type { LineBlock, LineItem } from '../ingest/lines.js';
import { RecordReader, type ReadItem } from '../ingest/read.js';
import { computeFeatures, type FeatureOptions } from '../signals/features.js';
import { columnBuffers, ExchangeColumnsBuilder, type ExchangeColumns } from '../store/column-batch.js';
import type { BadRecord } from '../store/store.js';

/**
 * A block's outcome: its rows as columns, checked where they were computed (on a feature
 * worker: the columns' buffers are then transferred to the scan's thread, and the store and
 * the engine take them as they are), and its bad records, in line order with the rows.
 */
export interface Featurized {
  rows: ExchangeColumns;
  /** The line each row came from. */
  lines: Float64Array;
  /** The bad records, each with how many of the rows come before it. */
  bad: { before: number; bad: BadRecord }[];
}

function featurizeRead(read: readonly ReadItem[], features: FeatureOptions | undefined): Featurized {
  const b = new ExchangeColumnsBuilder(read.length);
  const lines = new Float64Array(read.length);
  const bad: Featurized['bad'] = [];
  for (let i = 0; i < read.length; i++) {
    const item = read[i]!;
    if (item.kind === 'exchange') {
      lines[b.length] = item.line;
      // A row the features made that the store cannot take is a bug in the features, not bad input.
      const problem = b.add(computeFeatures(item.exchange, features), i);
      if (problem !== null) throw new Error(problem);
    } else bad.push({ before: b.length, bad: item.bad });
  }
  const rows = b.build();
  return { rows, lines: rows.length === lines.length ? lines : lines.slice(0, rows.length), bad };
}

export function featurize(reader: RecordReader, lines: readonly LineItem[], features: FeatureOptions | undefined): Featurized {
  const read: ReadItem[] = [];
  for (let i = 0; i < lines.length; i++) reader.read(lines[i]!, read);
  return featurizeRead(read, features);
}

/** The end of an input: what its reader still held (open traces, an unfinished document), as rows. */
export function featurizeRest(reader: RecordReader, features: FeatureOptions | undefined): Featurized {
  const read: ReadItem[] = [];
  reader.finish(read);
  return featurizeRead(read, features);
}

/** Rows and bad records of a block, none of either. */
export function isEmpty(f: Featurized): boolean {
  return f.rows.length === 0 && f.bad.length === 0;
}

/** The buffers of an answer, to transfer with it. */
export function featurizedBuffers(f: Featurized): ArrayBuffer[] {
  return [...columnBuffers(f.rows), f.lines.buffer as ArrayBuffer];
}

/** What a feature worker is asked: a block of whole lines of one input whose format is known. */
export interface FeaturizeRequest {
  seq: number;
  path: string;
  format: Format;
  block: LineBlock;
  features?: FeatureOptions;
}

export interface FeaturizeAnswer {
  seq: number;
  out: Featurized;
}
