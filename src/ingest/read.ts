/**
 * The ingest stage's entry point: an input file (or stdin) in, exchanges and bad records
 * out. Every line ends up as exchanges, as a bad record with its file, line and reason,
 * or is skipped because it is blank or a non-chat span; nothing disappears silently.
 */
import type { Exchange } from '../core/exchange.js';
import type { Result } from '../core/result.js';
import type { BadRecord } from '../store/store.js';
import type { Adapter } from './_shared.js';
import { fromAnthropic } from './anthropic.js';
import { fromCanonical } from './canonical.js';
import { detectFormat, type Format, type FormatOption } from './detect.js';
import { EXCERPT_CHARS, flatten, readLineBatches, type LineItem, type ReadLinesOptions } from './lines.js';
import { fromOpenAI } from './openai.js';
import { fromOtel, otelSpanOutcomes, type SpanOutcome } from './otel.js';
import { validateExchange } from './validate.js';

export interface ReadExchangesOptions {
  /**
   * The input's format; `'auto'` detects it from the first parseable record.
   * @default 'auto'
   */
  format?: FormatOption;
  /** See `ReadLinesOptions.skipLines`. @default 0 */
  skipLines?: number;
  /** See `ReadLinesOptions.maxLineBytes`. @default 8388608 (8 MiB) */
  maxLineBytes?: number;
}

/** An exchange with the line it came from, or a bad record (whose `file` is `'stdin'` for `'-'`). */
export type ReadItem = { kind: 'exchange'; line: number; exchange: Exchange } | { kind: 'bad'; bad: BadRecord };

/**
 * Reads the exchanges of one input, in file order.
 *
 * @example
 * for await (const item of readExchanges('logs.jsonl.gz', { format: 'auto' })) {
 *   if (item.kind === 'exchange') consume(item.exchange);
 *   else setAside(item.bad); // { file, line, reason: 'Cannot parse line 12 of "logs.jsonl.gz": …', excerpt }
 * }
 */
export function readExchanges(path: string, opts: ReadExchangesOptions = {}): AsyncIterableIterator<ReadItem> {
  return flatten(readExchangeBatches(path, opts));
}

/**
 * `readExchanges` a chunk of input at a time (a few thousand items per batch), for
 * consumers that batch anyway and would rather not pay an `await` per record.
 */
export async function* readExchangeBatches(path: string, opts: ReadExchangesOptions = {}): AsyncGenerator<ReadItem[]> {
  const lineOpts: ReadLinesOptions = {};
  if (opts.skipLines !== undefined) lineOpts.skipLines = opts.skipLines;
  if (opts.maxLineBytes !== undefined) lineOpts.maxLineBytes = opts.maxLineBytes;
  const reader = new RecordReader(path, opts.format ?? 'auto');
  for await (const lines of readLineBatches(path, lineOpts)) {
    const out: ReadItem[] = [];
    for (let i = 0; i < lines.length; i++) reader.read(lines[i]!, out);
    if (out.length > 0) yield out;
  }
}

/** The adapter of each format, for callers that parse records themselves. */
export const ADAPTERS: Readonly<Record<Format, Adapter>> = {
  canonical: fromCanonical,
  openai: fromOpenAI,
  anthropic: fromAnthropic,
  otel: fromOtel,
};

/**
 * Turns line items into read items; holds the per-file state (the detected format). Once
 * the format is known, the lines that follow can be read by any number of readers made
 * with that format, in parallel, with the same outcome.
 */
export class RecordReader {
  private format: Format | null;
  private readonly file: string;
  private readonly shown: string;

  constructor(path: string, format: FormatOption) {
    this.file = path === '-' ? 'stdin' : path;
    this.shown = path === '-' ? 'stdin' : `"${path}"`;
    this.format = format === 'auto' ? null : format;
  }

  /** The input's format: given, or detected from its first parseable record; null before. */
  get knownFormat(): Format | null {
    return this.format;
  }

  read(item: LineItem, out: ReadItem[]): void {
    const line = item.line;
    if (!('text' in item)) {
      out.push(this.bad(`Cannot read line ${line} of ${this.shown}: ${item.bad}`, line, item.excerpt));
      return;
    }
    const text = item.text;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      out.push(this.bad(`Cannot parse line ${line} of ${this.shown}: ${jsonError(e)}`, line, text));
      return;
    }
    let format = this.format;
    if (format === null) {
      format = detectFormat(value);
      if (format === null) {
        out.push(
          this.bad(
            `Cannot parse line ${line} of ${this.shown}: unknown record format (expected canonical, OpenAI, Anthropic or OpenTelemetry records; name the format to read it as one)`,
            line,
            text,
          ),
        );
        return;
      }
      this.format = format;
    }
    if (format === 'canonical') {
      // The common case, kept free of intermediate arrays.
      const r = validateExchange(value);
      if (r.ok) out.push({ kind: 'exchange', line, exchange: r.value });
      else out.push(this.bad(`Cannot parse line ${line} of ${this.shown}: ${r.error}`, line, text));
      return;
    }
    if (format === 'otel') {
      this.readSpans(otelSpanOutcomes(value, text), line, text, out);
      return;
    }
    const r = ADAPTERS[format](value, text);
    if (!r.ok) {
      out.push(this.bad(`Cannot parse line ${line} of ${this.shown}: ${r.error}`, line, text));
      return;
    }
    for (const exchange of r.value) out.push({ kind: 'exchange', line, exchange });
  }

  /**
   * The good spans of a line become exchanges; its bad spans become one bad record (one per
   * line keeps "file and line" a unique key for whoever stores them).
   */
  private readSpans(r: Result<SpanOutcome[], string>, line: number, text: string, out: ReadItem[]): void {
    if (!r.ok) {
      out.push(this.bad(`Cannot parse line ${line} of ${this.shown}: ${r.error}`, line, text));
      return;
    }
    const errors: string[] = [];
    for (const o of r.value) {
      if (o === null) continue;
      if (o.ok) out.push({ kind: 'exchange', line, exchange: o.value });
      else errors.push(o.error);
    }
    if (errors.length > 0) {
      const more = errors.length > 1 ? ` (and ${errors.length - 1} more bad span${errors.length > 2 ? 's' : ''})` : '';
      out.push(this.bad(`Cannot parse line ${line} of ${this.shown}: ${errors[0]}${more}`, line, text));
    }
  }

  private bad(reason: string, line: number, text: string): ReadItem {
    return { kind: 'bad', bad: { file: this.file, line, reason, excerpt: text.slice(0, EXCERPT_CHARS) } };
  }
}

/** JSON.parse's message in the house voice: "unexpected end of JSON input". */
function jsonError(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.length > 1 && m[1] === m[1]!.toLowerCase() ? m[0]!.toLowerCase() + m.slice(1) : m;
}
