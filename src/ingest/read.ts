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
import { BatchJoiner, type BatchOutcome } from './batch.js';
import { fromOtel } from './otel.js';
import { TraceAssembler, type LineOutcome, type TraceAssemblerOptions } from './otel-trace.js';
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
  /** How OpenTelemetry input is assembled into traces; see `TraceAssemblerOptions`. */
  otel?: TraceAssemblerOptions;
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
  const reader = new RecordReader(path, opts.format ?? 'auto', opts.otel);
  for await (const lines of readLineBatches(path, lineOpts)) {
    const out: ReadItem[] = [];
    for (let i = 0; i < lines.length; i++) reader.read(lines[i]!, out);
    if (out.length > 0) yield out;
  }
  const rest: ReadItem[] = [];
  reader.finish(rest);
  if (rest.length > 0) yield rest;
}

/** The most a multi-line JSON document may hold. */
const MAX_DOCUMENT_BYTES = 256 * 1024 * 1024;

/** A JSON document spread over several lines (pretty-printed), being gathered. */
interface OpenDocument {
  line: number;
  parts: string[];
  chars: number;
  depth: number;
  inString: boolean;
  escaped: boolean;
}

/** The adapter of each format, for callers that parse records themselves. */
export const ADAPTERS: Readonly<Record<Format, Adapter>> = {
  canonical: fromCanonical,
  openai: fromOpenAI,
  anthropic: fromAnthropic,
  otel: fromOtel,
  batch: () => ({ ok: false, error: `a Batch API line becomes an exchange only joined with its pair: read the input and output files together with readExchanges` }),
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
  private traces: TraceAssembler | null = null;
  private batches: BatchJoiner | null = null;
  private doc: OpenDocument | null = null;

  constructor(path: string, format: FormatOption, private readonly otel: TraceAssemblerOptions = {}) {
    this.file = path === '-' ? 'stdin' : path;
    this.shown = path === '-' ? 'stdin' : `"${path}"`;
    this.format = format === 'auto' ? null : format;
  }

  /**
   * Whether later lines can be read by other readers in parallel: not for OpenTelemetry
   * input, whose spans are assembled into traces across lines, nor while a multi-line
   * document is open.
   */
  get parallelSafe(): boolean {
    return this.format !== null && this.format !== 'otel' && this.format !== 'batch' && this.doc === null;
  }

  /** Ends the input: maps the traces still open and reports an unfinished document. */
  finish(out: ReadItem[]): void {
    if (this.doc !== null) {
      const d = this.doc;
      this.doc = null;
      out.push(this.bad(`Cannot parse line ${d.line} of ${this.shown}: a JSON document starting here is not finished at the end of the input`, d.line, d.parts.join('\n')));
    }
    if (this.traces !== null) this.pushJoined(this.traces.finish(), this.traces.safeLine, spanExcerpt, out);
    if (this.batches !== null) this.pushJoined(this.batches.finish(), this.batches.safeLine, recordExcerpt, out);
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
    if (this.doc !== null) {
      this.continueDocument(item.text, out);
      return;
    }
    this.readText(item.text, line, out);
  }

  /** Gathers one more line of a multi-line document, reading it whole once it closes. */
  private continueDocument(text: string, out: ReadItem[]): void {
    const d = this.doc!;
    d.parts.push(text);
    d.chars += text.length + 1;
    scanDepth(d, text);
    if (d.depth > 0 && d.chars <= MAX_DOCUMENT_BYTES) return;
    this.doc = null;
    const whole = d.parts.join('\n');
    if (d.depth > 0) {
      out.push(this.bad(`Cannot parse line ${d.line} of ${this.shown}: a JSON document starting here is longer than the limit of 256 MiB`, d.line, whole));
      return;
    }
    this.readText(whole, d.line, out);
  }

  private readText(text: string, line: number, out: ReadItem[]): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      // A pretty-printed document (an OTLP export, say) starts with a line that opens an
      // object or array and does not close it: gather lines until it closes.
      if ((this.format === null || this.format === 'otel') && /[[{]\s*$/.test(text) && /^\s*[[{]/.test(text)) {
        const d: OpenDocument = { line, parts: [text], chars: text.length, depth: 0, inString: false, escaped: false };
        scanDepth(d, text);
        if (d.depth > 0) {
          this.doc = d;
          return;
        }
      }
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
    if (format === 'batch') {
      this.batches ??= new BatchJoiner();
      const r = this.batches.add(value, line);
      if (!r.ok) out.push(this.bad(`Cannot parse line ${line} of ${this.shown}: ${r.error}`, line, text));
      else this.pushJoined(r.value, this.batches.safeLine, recordExcerpt, out);
      return;
    }
    if (format === 'otel') {
      this.traces ??= new TraceAssembler(this.otel);
      const r = this.traces.add(value, line);
      if (!r.ok) out.push(this.bad(`Cannot parse line ${line} of ${this.shown}: ${r.error}`, line, text));
      else this.pushJoined(r.value, this.traces.safeLine, spanExcerpt, out);
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
   * Outcomes of records joined across lines (GenAI spans of a trace, batch request/result
   * pairs): each exchange is one; each that is not is a bad record of its own, with its
   * span or record as the excerpt. An exchange is reported at `safe`, the last line whose
   * records have all been mapped, so that a checkpoint taken after it never skips a record
   * still held.
   */
  private pushJoined<O extends JoinedOutcome>(outcomes: readonly O[], safe: number, excerpt: (o: O) => string, out: ReadItem[]): void {
    for (const o of outcomes) {
      if (o.result.ok) out.push({ kind: 'exchange', line: safe, exchange: o.result.value });
      else out.push(this.bad(`Cannot parse line ${o.line} of ${this.shown}: ${o.result.error}`, o.line, excerpt(o)));
    }
  }

  private bad(reason: string, line: number, text: string): ReadItem {
    return { kind: 'bad', bad: { file: this.file, line, reason, excerpt: text.slice(0, EXCERPT_CHARS) } };
  }
}

/** An exchange, or why not, from records joined across lines, with the line to report it at. */
interface JoinedOutcome {
  line: number;
  result: Result<Exchange, string>;
}

const spanExcerpt = (o: LineOutcome): string => JSON.stringify(o.span);
const recordExcerpt = (o: BatchOutcome): string => JSON.stringify(o.record);

/** Follows brackets outside strings, so that a multi-line document is known to close. */
function scanDepth(d: OpenDocument, text: string): void {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (d.inString) {
      if (d.escaped) d.escaped = false;
      else if (c === 0x5c) d.escaped = true;
      else if (c === 0x22) d.inString = false;
    } else if (c === 0x22) d.inString = true;
    else if (c === 0x7b || c === 0x5b) d.depth++;
    else if (c === 0x7d || c === 0x5d) d.depth--;
  }
}

/** JSON.parse's message in the house voice: "unexpected end of JSON input". */
function jsonError(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.length > 1 && m[1] === m[1]!.toLowerCase() ? m[0]!.toLowerCase() + m.slice(1) : m;
}
