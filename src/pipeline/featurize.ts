/**
 * Lines in, stored rows out: records read, validated and turned into features. Shared by
 * the scan's own thread and its feature workers, so both give the same rows for the same
 * lines.
 */
import type { ExchangeFeatures } from '../core/features.js';
import type { Format } from '../ingest/detect.js';
import type { LineBlock, LineItem } from '../ingest/lines.js';
import { RecordReader, type ReadItem } from '../ingest/read.js';
import { computeFeatures, type FeatureOptions } from '../signals/features.js';
import { encodeExchange } from '../store/exchange-columns.js';
import type { BadRecord, EncodedExchange } from '../store/store.js';

/**
 * A line's outcome: a row to store, checked and encoded (with the line it came from), or a
 * bad record. Encoded here because this runs on the feature workers: a string crosses to the
 * scan's thread far cheaper than an object of forty fields, and the store takes it as it is.
 */
export type Ingested = { kind: 'row'; line: number; row: EncodedExchange } | { kind: 'bad'; bad: BadRecord };

/** A row the features made that the store cannot take is a bug in the features, not bad input. */
function encoded(row: ExchangeFeatures, index: number): EncodedExchange {
  const e = encodeExchange(row, index);
  if (typeof e !== 'string') throw new Error(e.problem);
  return e;
}

export function featurize(reader: RecordReader, lines: readonly LineItem[], features: FeatureOptions | undefined): Ingested[] {
  const read: ReadItem[] = [];
  for (let i = 0; i < lines.length; i++) reader.read(lines[i]!, read);
  const out: Ingested[] = new Array(read.length);
  for (let i = 0; i < read.length; i++) {
    const item = read[i]!;
    out[i] = item.kind === 'exchange' ? { kind: 'row', line: item.line, row: encoded(computeFeatures(item.exchange, features), i) } : item;
  }
  return out;
}

/** The end of an input: what its reader still held (open traces, an unfinished document), as rows. */
export function featurizeRest(reader: RecordReader, features: FeatureOptions | undefined): Ingested[] {
  const read: ReadItem[] = [];
  reader.finish(read);
  return read.map((item, i) => (item.kind === 'exchange' ? { kind: 'row', line: item.line, row: encoded(computeFeatures(item.exchange, features), i) } : item));
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
  items: Ingested[];
}
