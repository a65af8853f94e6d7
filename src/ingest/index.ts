/** The ingest stage: input files in, canonical exchanges and bad records out. */
export { ADAPTERS, readExchanges, readExchangeBatches, RecordReader, type ReadExchangesOptions, type ReadItem } from './read.js';
export { readLines, readLineBatches, splitLines, InputError, DEFAULT_MAX_LINE_BYTES, type LineItem, type ReadLinesOptions } from './lines.js';
export { sourceKey, STDIN_KEY } from './source.js';
export { detectFormat, isFormatOption, FORMATS, type Format, type FormatOption } from './detect.js';
export { fromCanonical } from './canonical.js';
export { fromOpenAI } from './openai.js';
export { fromAnthropic } from './anthropic.js';
export { fromOtel, otelSpanOutcomes, type SpanOutcome } from './otel.js';
export { isExchange, validateExchange } from './validate.js';
export type { Adapter } from './_shared.js';
