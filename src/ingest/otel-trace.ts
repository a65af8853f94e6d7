/**
 * Trace assembly for OTLP/JSON input. A GenAI client span rarely carries everything an
 * exchange needs: the end user, client address and user agent sit on the application's
 * server span (an ancestor), and some instrumentations put the prompt and answer in log
 * records. Spans and log records are therefore buffered by trace id, across the lines of an
 * input, and a trace is mapped when it closes: once its local root has arrived and the
 * trace has been quiet for `rootGrace` records (log records are exported on their own
 * schedule and may come later), after `window` quiet records without a root, when more
 * than `maxOpenTraces` are open (the quietest first), or at the end of the input.
 */
import type { Result } from '../core/result.js';
import { guard, HeldLines } from './_shared.js';
import { assembleTrace, collectOtel, type LogRef, type OtelMapOptions, type SpanRef, type TraceOutcome } from './otel.js';

export interface TraceAssemblerOptions extends OtelMapOptions {
  /** Records (spans and log records) a trace with its root may stay quiet before it is mapped. @default 2000 */
  rootGrace?: number;
  /** Records a trace without its root may stay quiet before it is mapped as it is. @default 50000 */
  window?: number;
  /** Open traces held at most; bounds memory. @default 20000 */
  maxOpenTraces?: number;
}

/** A mapped GenAI span and the line its span came from. */
export interface LineOutcome extends TraceOutcome {
  line: number;
}

interface OpenTrace {
  spans: SpanRef[];
  lines: number[];
  logs: LogRef[];
  firstLine: number;
  rooted: boolean;
  touched: number;
}

export class TraceAssembler {
  private readonly traces = new Map<string, OpenTrace>();
  /** Open traces, counted at their first line. */
  private readonly held = new HeldLines();
  private clock = 0;
  private readonly rootGrace: number;
  private readonly window: number;
  private readonly maxOpen: number;

  constructor(private readonly opts: TraceAssemblerOptions = {}) {
    this.rootGrace = opts.rootGrace ?? 2000;
    this.window = opts.window ?? 50_000;
    this.maxOpen = opts.maxOpenTraces ?? 20_000;
  }

  /**
   * Adds the spans and log records of one record (read at `line`) and returns the outcomes
   * of the traces that closed. An error means the record is not OTLP data at all.
   */
  add(value: unknown, line: number): Result<LineOutcome[], string> {
    this.held.read(line);
    const r = guard(() => ({ ok: true as const, value: collectOtel(value) }));
    if (!r.ok) return r;
    for (const ref of r.value.spans) {
      const t = this.open(ref.span.traceId, line);
      t.spans.push(ref);
      t.lines.push(line);
      if (typeof ref.span.parentSpanId !== 'string' || ref.span.parentSpanId === '') t.rooted = true;
    }
    for (const log of r.value.logs) this.open(log.record.traceId, line).logs.push(log);
    return { ok: true, value: this.closeQuiet() };
  }

  /** Maps every trace still open (the input has ended). */
  finish(): LineOutcome[] {
    const out: LineOutcome[] = [];
    for (const id of [...this.traces.keys()]) out.push(...this.close(id));
    return out;
  }

  /** The last line whose records have all been mapped: where a resumed read may start after. */
  get safeLine(): number {
    return this.held.safeLine;
  }

  private open(traceId: unknown, line: number): OpenTrace {
    // Records without a trace id cannot be joined to anything: each is a trace of its own.
    const id = typeof traceId === 'string' && traceId !== '' ? traceId : `#${line}/${this.clock}`;
    this.clock++;
    let t = this.traces.get(id);
    if (t === undefined) {
      t = { spans: [], lines: [], logs: [], firstLine: line, rooted: false, touched: this.clock };
      this.held.hold(line);
    } else {
      this.traces.delete(id);
    }
    t.touched = this.clock;
    this.traces.set(id, t); // re-inserted: the map stays ordered from quietest to busiest
    return t;
  }

  private closeQuiet(): LineOutcome[] {
    const out: LineOutcome[] = [];
    for (const [id, t] of this.traces) {
      const quiet = this.clock - t.touched;
      if (this.traces.size > this.maxOpen || quiet > (t.rooted ? this.rootGrace : this.window)) out.push(...this.close(id));
      else if (quiet <= this.rootGrace) break;
    }
    return out;
  }

  private close(id: string): LineOutcome[] {
    const t = this.traces.get(id)!;
    this.traces.delete(id);
    this.held.release(t.firstLine);
    const lineOf = new Map(t.spans.map((s, i) => [s.span, t.lines[i]!]));
    return assembleTrace(t.spans, t.logs, this.opts).map((o) => ({ ...o, line: lineOf.get(o.span) ?? t.firstLine }));
  }
}
