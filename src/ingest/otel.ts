/**
 * OpenTelemetry GenAI spans in OTLP/JSON, mapped to canonical exchanges. A line is either a
 * whole `ExportTraceServiceRequest` (what a collector's file exporter writes) or a single
 * span. Attribute names follow the GenAI semantic conventions, both the current
 * structured messages (`gen_ai.input.messages`, …) and the older flattened
 * `gen_ai.prompt.N.*` / `gen_ai.completion.N.*` that many instrumentations still emit.
 *
 * Only chat spans are exchanges; embeddings, tool executions, agent spans and non-GenAI
 * spans (HTTP, database) are skipped without complaint.
 */
import type { ContentBlock, Exchange } from '../core/exchange.js';
import { err, ok, type Result } from '../core/result.js';
import {
  arrayAt,
  boolAt,
  describe,
  fail,
  guard,
  idAt,
  intAt,
  isObj,
  nanosToMs,
  numberAt,
  objectAt,
  pushToolResults,
  put,
  FieldError,
  stableId,
  stopReason,
  stringAt,
  toolInput,
  type Obj,
} from './_shared.js';
import { validateExchange } from './validate.js';

/** What became of one GenAI span: an exchange, or why it is not one. */
export type SpanOutcome = Result<Exchange, string>;

/**
 * Maps one OTLP/JSON record to the exchanges of its GenAI chat spans, assembling the
 * record's traces on their own (ancestors and log records must be in the same record).
 * One GenAI span that is not an exchange makes the whole record an error here;
 * `otelSpanOutcomes` keeps the good spans of such a record, and `TraceAssembler`
 * (otel-trace.ts) assembles traces across the lines of a file.
 *
 * @example
 * fromOtel({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans: [span] }] }] })
 * // => { ok: true, value: [exchange] }
 */
export function fromOtel(value: unknown, _raw?: string, opts: OtelMapOptions = {}): Result<Exchange[], string> {
  const outcomes = otelSpanOutcomes(value, opts);
  if (!outcomes.ok) return outcomes;
  const exchanges: Exchange[] = [];
  for (const o of outcomes.value) {
    if (!o.ok) return o;
    exchanges.push(o.value);
  }
  return ok(exchanges);
}

/**
 * Maps every GenAI span of one OTLP/JSON record on its own, so that one span without an
 * account or without captured messages does not take the rest of an export batch down
 * with it. Spans that are not GenAI (HTTP, database) have no outcome. An error for the
 * whole record means it is not OTLP trace or log data at all.
 */
export function otelSpanOutcomes(value: unknown, opts: OtelMapOptions = {}): Result<SpanOutcome[], string> {
  return guard(() => {
    const { spans, logs } = collectOtel(value);
    return ok(assembleTrace(spans, logs, opts).map((o) => o.result));
  });
}

export interface OtelMapOptions {
  /**
   * A span attribute that names the account, looked up before the standard ones
   * (`enduser.id`, `user.id`, …) on the GenAI span, its ancestors and the resource.
   */
  accountAttribute?: string;
}

/** A span of an export with its resource's attributes. */
export interface SpanRef {
  span: Obj;
  resource: Obj;
}

/** A log record of an export, tied to its span by `traceId` and `spanId`. */
export interface LogRef {
  record: Obj;
}

/** The spans and log records of one OTLP/JSON record. */
export function collectOtel(v: unknown): { spans: SpanRef[]; logs: LogRef[] } {
  if (!isObj(v)) fail(`"record" must be an object, not ${describe(v)}`);
  const spans: SpanRef[] = [];
  const logs: LogRef[] = [];
  const fromResourceSpans = (rs: Obj, field: string): void => {
    const resource = attributes(objectAt(rs.resource, `${field}.resource`)?.attributes, `${field}.resource.attributes`);
    // `instrumentationLibrarySpans` is the pre-1.0 OTLP name, still written by old exporters.
    const scopes = arrayAt(rs.scopeSpans ?? rs.instrumentationLibrarySpans, `${field}.scopeSpans`) ?? [];
    scopes.forEach((s, j) => {
      const sf = `${field}.scopeSpans[${j}]`;
      const scope = objectAt(s, sf) ?? fail(`"${sf}" must be an object, not null`);
      for (const [k, span] of (arrayAt(scope.spans, `${sf}.spans`) ?? []).entries()) {
        spans.push({ span: objectAt(span, `${sf}.spans[${k}]`) ?? fail(`"${sf}.spans[${k}]" must be an object, not null`), resource });
      }
    });
  };
  const fromResourceLogs = (rl: Obj, field: string): void => {
    const scopes = arrayAt(rl.scopeLogs ?? rl.instrumentationLibraryLogs, `${field}.scopeLogs`) ?? [];
    scopes.forEach((s, j) => {
      const sf = `${field}.scopeLogs[${j}]`;
      const scope = objectAt(s, sf) ?? fail(`"${sf}" must be an object, not null`);
      for (const [k, record] of (arrayAt(scope.logRecords, `${sf}.logRecords`) ?? []).entries()) {
        logs.push({ record: objectAt(record, `${sf}.logRecords[${k}]`) ?? fail(`"${sf}.logRecords[${k}]" must be an object, not null`) });
      }
    });
  };
  if (v.resourceSpans !== undefined || v.resourceLogs !== undefined) {
    (arrayAt(v.resourceSpans, 'resourceSpans') ?? []).forEach((rs, i) => fromResourceSpans(objectAt(rs, `resourceSpans[${i}]`) ?? {}, `resourceSpans[${i}]`));
    (arrayAt(v.resourceLogs, 'resourceLogs') ?? []).forEach((rl, i) => fromResourceLogs(objectAt(rl, `resourceLogs[${i}]`) ?? {}, `resourceLogs[${i}]`));
  } else if (v.scopeSpans !== undefined || v.instrumentationLibrarySpans !== undefined) {
    fromResourceSpans(v, 'record');
  } else if (v.scopeLogs !== undefined) {
    fromResourceLogs(v, 'record');
  } else if (v.logRecords !== undefined) {
    fromResourceLogs({ scopeLogs: [v] }, 'record');
  } else if ((v.traceId !== undefined || v.spanId !== undefined) && (v.body !== undefined || v.timeUnixNano !== undefined || v.severityNumber !== undefined)) {
    logs.push({ record: v });
  } else if (v.traceId !== undefined || v.spanId !== undefined) {
    const resource = attributes(objectAt(v.resource, 'resource')?.attributes, 'resource.attributes');
    spans.push({ span: v, resource });
  } else {
    fail('"resourceSpans" is missing: not an OTLP trace or log export, or a span');
  }
  return { spans, logs };
}

/** OTLP key/value attributes as a plain object. A plain object is accepted as it is. */
export function attributes(list: unknown, field: string): Obj {
  const out: Obj = Object.create(null) as Obj;
  if (list === undefined || list === null) return out;
  if (isObj(list)) return Object.assign(out, list);
  const arr = arrayAt(list, field)!;
  for (const kv of arr) {
    if (!isObj(kv) || typeof kv.key !== 'string') continue;
    out[kv.key] = anyValue(kv.value);
  }
  return out;
}

/** An OTLP `AnyValue` as plain JSON. int64 arrives as a decimal string in OTLP/JSON. */
function anyValue(v: unknown): unknown {
  if (!isObj(v)) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return typeof v.intValue === 'string' ? Number(v.intValue) : v.intValue;
  if (v.doubleValue !== undefined) return Number(v.doubleValue);
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue !== undefined) {
    const values = isObj(v.arrayValue) && Array.isArray(v.arrayValue.values) ? v.arrayValue.values : [];
    return values.map(anyValue);
  }
  if (v.kvlistValue !== undefined) {
    const values = isObj(v.kvlistValue) && Array.isArray(v.kvlistValue.values) ? v.kvlistValue.values : [];
    const out: Obj = {};
    for (const kv of values) if (isObj(kv) && typeof kv.key === 'string') out[kv.key] = anyValue(kv.value);
    return out;
  }
  if (v.bytesValue !== undefined) return v.bytesValue;
  return undefined;
}

/** A content event: an OTLP log record or a span event, by its event name. */
interface ContentEvent {
  name: string;
  body: Obj;
}

/** The content events of a log record, or undefined when it is not a GenAI event. */
function logEvent(record: Obj): ContentEvent | undefined {
  const a = attributes(record.attributes, 'logRecord.attributes');
  const name = typeof record.eventName === 'string' && record.eventName !== '' ? record.eventName : a['event.name'];
  if (typeof name !== 'string' || !name.startsWith('gen_ai.')) return undefined;
  const body = isObj(record.body) ? anyValue(record.body) : undefined;
  return { name, body: isObj(body) ? { ...a, ...body } : a };
}

function spanEvents(span: Obj): ContentEvent[] {
  const out: ContentEvent[] = [];
  for (const e of Array.isArray(span.events) ? span.events : []) {
    if (!isObj(e) || typeof e.name !== 'string' || !e.name.startsWith('gen_ai.')) continue;
    out.push({ name: e.name, body: attributes(e.attributes, 'events.attributes') });
  }
  return out;
}

/** What became of one GenAI span of a trace, with the span to show when it is not an exchange. */
export interface TraceOutcome {
  result: SpanOutcome;
  span: Obj;
}

/**
 * Maps the GenAI spans of one trace (or of several, all given at once): each span's
 * account and client are looked for on the span, then its ancestors nearest first, then
 * its resource; log records and span events are joined to their span.
 */
export function assembleTrace(spans: readonly SpanRef[], logs: readonly LogRef[], opts: OtelMapOptions): TraceOutcome[] {
  const byId = new Map<string, { ref: SpanRef; a: Obj }>();
  const parsed = spans.map((ref) => {
    const a = guard(() => ok(attributes(ref.span.attributes, 'attributes')));
    const entry = { ref, a: a.ok ? a.value : (Object.create(null) as Obj), error: a.ok ? undefined : a.error };
    const key = spanKey(ref.span);
    if (key !== undefined && !byId.has(key)) byId.set(key, entry);
    return entry;
  });
  const events = new Map<string, ContentEvent[]>();
  for (const { record } of logs) {
    const key = spanKey(record);
    const e = key === undefined ? undefined : logEvent(record);
    if (key === undefined || e === undefined) continue;
    let list = events.get(key);
    if (list === undefined) events.set(key, (list = []));
    list.push(e);
  }
  const ancestorsOf = (span: Obj): Obj[] => {
    const out: Obj[] = [];
    const seen = new Set<string>();
    let parent = typeof span.parentSpanId === 'string' && span.parentSpanId !== '' ? `${span.traceId as string}/${span.parentSpanId}` : undefined;
    while (parent !== undefined && !seen.has(parent)) {
      seen.add(parent);
      const p = byId.get(parent);
      if (p === undefined) break;
      out.push(p.a);
      const pp = p.ref.span.parentSpanId;
      parent = typeof pp === 'string' && pp !== '' ? `${p.ref.span.traceId as string}/${pp}` : undefined;
    }
    return out;
  };

  const outcomes: Array<TraceOutcome & { kind: 'chat' | 'other'; noContent: boolean; key: string | undefined }> = [];
  parsed.forEach((p, i) => {
    const kind = p.error === undefined ? spanKind(p.a) : 'chat';
    if (kind === 'none') return;
    const key = spanKey(p.ref.span);
    const spanId = typeof p.ref.span.spanId === 'string' ? p.ref.span.spanId : `#${i + 1}`;
    if (p.error !== undefined) {
      outcomes.push({ result: err(`span "${spanId}": ${p.error}`), span: p.ref.span, kind, noContent: false, key });
      return;
    }
    if (kind !== 'chat') {
      const op = p.a['gen_ai.operation.name'] ?? p.a['openinference.span.kind'];
      outcomes.push({ result: err(`span "${spanId}": a GenAI ${typeof op === 'string' ? `"${op}" ` : ''}span, not a chat: not an exchange`), span: p.ref.span, kind: 'other', noContent: false, key });
      return;
    }
    const ctx: SpanContext = { ancestors: ancestorsOf(p.ref.span), events: [...spanEvents(p.ref.span), ...((key !== undefined ? events.get(key) : undefined) ?? [])] };
    if (opts.accountAttribute !== undefined) ctx.accountAttribute = opts.accountAttribute;
    let noContent = false;
    const r = guard(() => {
      try {
        return mapSpan(p.ref, p.a, ctx);
      } catch (e) {
        if (e instanceof NoContent) noContent = true;
        throw e;
      }
    });
    outcomes.push({ result: r.ok ? r : err(`span "${spanId}": ${r.error}`), span: p.ref.span, kind, noContent, key });
  });

  // Some instrumentations record one call twice: an outer span with the messages and an
  // inner one (the SDK's own) with only the model and usage, or the other way round. The
  // span without content is folded into its relative that became an exchange.
  const exchangeByKey = new Map<string, Obj>();
  for (const o of outcomes) if (o.result.ok && o.key !== undefined) exchangeByKey.set(o.key, o.result.value as unknown as Obj);
  const kept: TraceOutcome[] = [];
  for (const o of outcomes) {
    if (o.noContent && o.key !== undefined) {
      const relative = relativeExchange(o.span, byId, exchangeByKey, outcomes);
      if (relative !== undefined) {
        const otel = relative.otel as Obj;
        ((otel.merged_span_ids ??= []) as unknown[]).push(o.span.spanId);
        continue;
      }
    }
    kept.push({ result: o.result, span: o.span });
  }
  return kept;
}

function spanKey(s: Obj): string | undefined {
  return typeof s.traceId === 'string' && typeof s.spanId === 'string' && s.spanId !== '' ? `${s.traceId}/${s.spanId}` : undefined;
}

/** The exchange of the span's nearest chat ancestor, or of a chat descendant. */
function relativeExchange(
  span: Obj,
  byId: Map<string, { ref: SpanRef }>,
  exchanges: Map<string, Obj>,
  outcomes: ReadonlyArray<{ span: Obj; key: string | undefined }>,
): Obj | undefined {
  let parent = typeof span.parentSpanId === 'string' ? `${span.traceId as string}/${span.parentSpanId}` : undefined;
  const seen = new Set<string>();
  while (parent !== undefined && !seen.has(parent)) {
    seen.add(parent);
    const ex = exchanges.get(parent);
    if (ex !== undefined) return ex;
    const p = byId.get(parent)?.ref.span;
    parent = p !== undefined && typeof p.parentSpanId === 'string' ? `${p.traceId as string}/${p.parentSpanId}` : undefined;
  }
  const self = spanKey(span);
  for (const o of outcomes) {
    if (o.key === undefined || !exchanges.has(o.key)) continue;
    let cur: Obj | undefined = o.span;
    const walked = new Set<string>();
    while (cur !== undefined && typeof cur.parentSpanId === 'string' && cur.parentSpanId !== '') {
      const up: string = `${cur.traceId as string}/${cur.parentSpanId}`;
      if (up === self) return exchanges.get(o.key);
      if (walked.has(up)) break;
      walked.add(up);
      cur = byId.get(up)?.ref.span;
    }
  }
  return undefined;
}

const CHAT_OPERATIONS = new Set(['chat', 'text_completion', 'generate_content']);
const LEGACY_KEY = /^gen_ai\.(prompt|completion)\.(\d+)\.(.+)$/;
const OPENINFERENCE_KEY = /^llm\.(input|output)_messages\.(\d+)\.message\.(.+)$/;

/** Whether a span is a model call (`chat`), another GenAI span, or not GenAI at all. */
function spanKind(a: Obj): 'chat' | 'other' | 'none' {
  const op = a['gen_ai.operation.name'];
  if (typeof op === 'string') return CHAT_OPERATIONS.has(op) ? 'chat' : 'other';
  const oi = a['openinference.span.kind'];
  if (typeof oi === 'string') return oi.toUpperCase() === 'LLM' ? 'chat' : a['llm.model_name'] !== undefined ? 'other' : 'none';
  // Instrumentations that predate `gen_ai.operation.name` state the kind of call here.
  const kind = a['llm.request.type'];
  if (typeof kind === 'string') return kind === 'chat' || kind === 'completion' ? 'chat' : 'other';
  if (a['gen_ai.request.model'] !== undefined || a['gen_ai.input.messages'] !== undefined) return 'chat';
  return Object.keys(a).some((k) => k.startsWith('gen_ai.')) ? 'other' : 'none';
}

/** Attributes with a canonical place; every other span attribute is kept under `otel.attributes`. */
const MAPPED_ATTRIBUTES = new Set([
  'gen_ai.request.model',
  'gen_ai.response.model',
  'gen_ai.usage.input_tokens',
  'gen_ai.usage.output_tokens',
  'gen_ai.usage.prompt_tokens',
  'gen_ai.usage.completion_tokens',
  'gen_ai.usage.reasoning_tokens',
  'gen_ai.usage.cache_read.input_tokens',
  'gen_ai.usage.cache_creation.input_tokens',
  'gen_ai.usage.cache_read_input_tokens',
  'gen_ai.usage.cache_creation_input_tokens',
  'gen_ai.request.max_tokens',
  'gen_ai.request.temperature',
  'gen_ai.request.stream',
  'gen_ai.response.finish_reasons',
  'gen_ai.response.id',
  'gen_ai.conversation.id',
  'gen_ai.input.messages',
  'gen_ai.output.messages',
  'gen_ai.system_instructions',
  'gen_ai.tool.definitions',
  'enduser.id',
  'user.id',
  'client.address',
  'user_agent.original',
  'http.response.status_code',
  'llm.model_name',
  'llm.invocation_parameters',
  'llm.token_count.prompt',
  'llm.token_count.completion',
  'llm.token_count.prompt_details.cache_read',
  'llm.token_count.prompt_details.cache_write',
  'llm.token_count.completion_details.reasoning',
  'input.value',
  'output.value',
]);

/** Where the account may be named, in order, on the span, its ancestors and the resource. */
const ACCOUNT_ATTRIBUTES = ['enduser.id', 'user.id', 'traceloop.association.properties.user_id', 'traceloop.association.properties.userId'];

/** What a GenAI span is read with beside its own attributes. */
interface SpanContext {
  /** Attributes of the span's ancestors present in the trace, nearest first. */
  ancestors: Obj[];
  /** Log records and span events tied to the span, in the order they came. */
  events: ContentEvent[];
  accountAttribute?: string;
}

/** Thrown when a chat span has no prompt, so that a twin span that has one can absorb it. */
class NoContent extends FieldError {}

function mapSpan(ref: SpanRef, a: Obj, ctx: SpanContext): Result<Exchange, string> {
  const { span, resource } = ref;
  const scopes = [a, ...ctx.ancestors, resource];
  const invocation = jsonObject(a['llm.invocation_parameters'], 'llm.invocation_parameters');
  const names = [...(ctx.accountAttribute !== undefined ? [ctx.accountAttribute] : []), ...ACCOUNT_ATTRIBUTES];
  let account: string | undefined;
  for (const scope of scopes) {
    for (const n of names) if (account === undefined) account = idAt(scope[n], n);
    if (account !== undefined) break;
  }
  // The `user` the application put in the request comes last: the caller typed it.
  account ??= idAt(invocation?.user, 'llm.invocation_parameters.user');
  if (account === undefined) {
    fail(`no account id (looked at ${names.map((n) => `"${n}"`).join(', ')} on the span, its ancestors and its resource)`);
  }
  const model =
    stringAt(a['gen_ai.request.model'], 'gen_ai.request.model') ||
    stringAt(a['llm.model_name'], 'llm.model_name') ||
    stringAt(a['gen_ai.response.model'], 'gen_ai.response.model') ||
    stringAt(invocation?.model, 'llm.invocation_parameters.model') ||
    fail('"gen_ai.request.model" is missing');
  const start = nanosToMs(span.startTimeUnixNano, 'startTimeUnixNano') ?? fail('"startTimeUnixNano" is missing');
  const end = nanosToMs(span.endTimeUnixNano, 'endTimeUnixNano');

  const request: Obj = {};
  const { messages, system } = inputMessages(a, ctx.events);
  if (system !== undefined) request.system = system;
  request.messages = messages;
  put(request, 'tools', toolsOf(a));
  put(request, 'max_tokens', numberAt(a['gen_ai.request.max_tokens'] ?? invocation?.max_tokens ?? invocation?.max_completion_tokens, 'gen_ai.request.max_tokens'));
  put(request, 'temperature', numberAt(a['gen_ai.request.temperature'] ?? invocation?.temperature, 'gen_ai.request.temperature'));
  put(request, 'stream', boolAt(a['gen_ai.request.stream'] ?? invocation?.stream, 'gen_ai.request.stream'));

  const traceId = stringAt(span.traceId, 'traceId');
  const spanId = stringAt(span.spanId, 'spanId');
  const out: Obj = {
    id: traceId && spanId ? traceId + spanId : stableId(JSON.stringify(span)),
    ts: new Date(start).toISOString(),
    account_id: account,
    model,
  };
  put(out, 'conversation_id', idAt(a['gen_ai.conversation.id'], 'gen_ai.conversation.id'));
  const client: Obj = {};
  const first = (keys: string[]): unknown => {
    for (const scope of scopes) for (const k of keys) if (scope[k] !== undefined && scope[k] !== '') return scope[k];
    return undefined;
  };
  put(client, 'ip', stringAt(first(['client.address', 'http.client_ip']), 'client.address'));
  put(client, 'user_agent', stringAt(first(['user_agent.original', 'http.user_agent']), 'user_agent.original'));
  if (Object.keys(client).length > 0) out.client = client;
  out.request = request;
  put(out, 'response', outputOf(a, ctx.events));
  put(out, 'usage', usageOf(a));
  if (end !== undefined && end >= start) out.latency_ms = end - start;
  put(out, 'status', intAt(a['http.response.status_code'], 'http.response.status_code'));

  const otel: Obj = {};
  put(otel, 'name', span.name);
  put(otel, 'trace_id', traceId);
  put(otel, 'span_id', spanId);
  put(otel, 'parent_span_id', span.parentSpanId || undefined);
  put(otel, 'status', span.status);
  put(otel, 'provider', stringAt(a['gen_ai.provider.name'] ?? a['gen_ai.system'] ?? a['llm.system'] ?? a['llm.provider'], 'gen_ai.provider.name'));
  put(otel, 'response_id', idAt(a['gen_ai.response.id'], 'gen_ai.response.id'));
  const rest: Obj = {};
  for (const k of Object.keys(a)) {
    if (!MAPPED_ATTRIBUTES.has(k) && !LEGACY_KEY.test(k) && !OPENINFERENCE_KEY.test(k) && !k.startsWith('llm.tools.')) rest[k] = a[k];
  }
  otel.attributes = rest;
  if (Object.keys(resource).length > 0) otel.resource = { ...resource };
  out.otel = otel;

  return validateExchange(out);
}

/** A JSON object attribute (written as a JSON string), or undefined when absent or not an object. */
function jsonObject(v: unknown, field: string): Obj | undefined {
  if (isObj(v)) return v;
  if (typeof v !== 'string' || v === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(v);
    return isObj(parsed) ? parsed : undefined;
  } catch {
    return fail(`"${field}" is not valid JSON`);
  }
}

/** Tool definitions: `gen_ai.tool.definitions`, or OpenInference's `llm.tools.N.tool.json_schema`. */
function toolsOf(a: Obj): Obj[] | undefined {
  let defs: unknown[] | undefined;
  if (a['gen_ai.tool.definitions'] !== undefined) defs = structured(a, 'gen_ai.tool.definitions');
  else {
    const schemas = Object.keys(a)
      .map((k) => /^llm\.tools\.(\d+)\.tool\.json_schema$/.exec(k))
      .filter((m): m is RegExpExecArray => m !== null)
      .sort((x, y) => Number(x[1]) - Number(y[1]))
      .map((m) => jsonObject(a[m[0]], m[0]));
    if (schemas.length > 0) defs = schemas;
  }
  if (defs === undefined || defs.length === 0) return undefined;
  return defs.filter(isObj).map((d) => {
    const fn = isObj(d.function) ? d.function : d;
    const tool: Obj = { name: fn.name };
    put(tool, 'description', fn.description);
    put(tool, 'input_schema', fn.parameters ?? fn.input_schema ?? fn.inputSchema);
    return tool;
  });
}

/** A structured-messages attribute, which exporters write as a JSON string or as a structured value. */
function structured(a: Obj, key: string): unknown[] | undefined {
  const v = a[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch {
      fail(`"${key}" is not valid JSON`);
    }
    if (typeof parsed === 'string') return [{ type: 'text', content: parsed }];
    return arrayAt(parsed, key);
  }
  return arrayAt(v, key);
}

function inputMessages(a: Obj, events: readonly ContentEvent[]): { messages: Obj[]; system: string | ContentBlock[] | undefined } {
  const systemParts: ContentBlock[] = [];
  const instructions = a['gen_ai.system_instructions'];
  // Written as JSON parts by the conventions, but some instrumentations put the bare text.
  const plain = typeof instructions === 'string' && !/^\s*[[{"]/.test(instructions);
  const sys = plain ? [instructions] : (structured(a, 'gen_ai.system_instructions') ?? []);
  for (const [i, p] of sys.entries()) {
    systemParts.push(partToBlock(p, `gen_ai.system_instructions[${i}]`));
  }
  const messages: Obj[] = [];
  const input = structured(a, 'gen_ai.input.messages');
  if (input !== undefined) {
    input.forEach((m, i) => addMessage(messages, systemParts, m, `gen_ai.input.messages[${i}]`));
  } else {
    const flattened = legacyMessages(a, 'prompt');
    const list = flattened.length > 0 ? flattened : openInferenceMessages(a, 'input');
    const fromEvents = list.length > 0 ? [] : eventMessages(events);
    for (const m of [...list, ...fromEvents]) addMessage(messages, systemParts, m.message, m.field);
  }
  if (messages.length === 0) {
    // Message capture is off by default in most instrumentations; say so, since the fix
    // is a setting on the instrumented service, not in this file.
    throw new NoContent(
      'no prompt: the span has no "gen_ai.input.messages", "gen_ai.prompt.N.*" or "llm.input_messages.N.*" attributes and no gen_ai.*.message log record or event joined to it (is message content capture enabled, and are its log records in the same input?)',
    );
  }
  return { messages, system: systemOf(systemParts) };
}

const EVENT_ROLES: Readonly<Record<string, string>> = {
  'gen_ai.system.message': 'system',
  'gen_ai.user.message': 'user',
  'gen_ai.assistant.message': 'assistant',
  'gen_ai.tool.message': 'tool',
};

/** Input messages from the event form of the conventions (log records or span events). */
function eventMessages(events: readonly ContentEvent[]): LegacyMessage[] {
  const out: LegacyMessage[] = [];
  for (const [i, e] of events.entries()) {
    const role = EVENT_ROLES[e.name];
    if (role !== undefined) {
      const m: Obj = { ...e.body, role: typeof e.body.role === 'string' ? e.body.role : role };
      if (role === 'tool' && m.tool_call_id === undefined) m.tool_call_id = m.id;
      delete m['gen_ai.system'];
      delete m['event.name'];
      out.push({ message: m, field: `${e.name}[${i}]` });
    } else if (e.name === 'gen_ai.content.prompt') {
      // The older single-event form: the whole prompt as JSON in `gen_ai.prompt`.
      const list = structured(e.body, 'gen_ai.prompt') ?? [];
      list.forEach((m, j) => out.push({ message: objectAt(m, `gen_ai.prompt[${j}]`) ?? {}, field: `gen_ai.prompt[${j}]` }));
    }
  }
  return out;
}

/** OpenInference's flattened `llm.input_messages.N.message.*`, in the shape `addMessage` reads. */
function openInferenceMessages(a: Obj, kind: 'input' | 'output'): LegacyMessage[] {
  return unflatten(a, OPENINFERENCE_KEY, kind).map(([i, raw]) => {
    const message: Obj = { role: raw.role ?? (kind === 'output' ? 'assistant' : 'user') };
    if (raw.content !== undefined) message.content = raw.content;
    else if (Array.isArray(raw.contents)) {
      message.content = raw.contents.filter(isObj).map((c) => {
        const mc = isObj(c.message_content) ? c.message_content : c;
        return mc.type === 'image' ? { type: 'image', source: { type: 'url', url: isObj(mc.image) && isObj(mc.image.image) ? mc.image.image.url : undefined } } : { type: 'text', text: mc.text ?? '' };
      });
    }
    if (Array.isArray(raw.tool_calls)) {
      message.tool_calls = raw.tool_calls.filter(isObj).map((c) => (isObj(c.tool_call) ? c.tool_call : c));
    }
    put(message, 'tool_call_id', raw.tool_call_id);
    return { message, field: `llm.${kind}_messages.${i}.message` };
  });
}

/**
 * Flattened `<prefix>.<kind>.N.<path>` attributes (the `pattern` captures the kind, N and
 * the path) regrouped into one object per N, in index order.
 */
function unflatten(a: Obj, pattern: RegExp, kind: string): Array<[number, Obj]> {
  const byIndex = new Map<number, Obj>();
  for (const key of Object.keys(a)) {
    const m = pattern.exec(key);
    if (m === null || m[1] !== kind) continue;
    const i = Number(m[2]);
    let msg = byIndex.get(i);
    if (msg === undefined) byIndex.set(i, (msg = {}));
    setPath(msg, m[3]!.split('.'), a[key]);
  }
  return [...byIndex.entries()].sort((x, y) => x[0] - y[0]);
}

function setPath(root: Obj, path: string[], value: unknown): void {
  let cur: Obj = root;
  for (let j = 0; j < path.length - 1; j++) {
    const seg = path[j]!;
    const next = cur[seg];
    cur = isObj(next) || Array.isArray(next) ? (next as Obj) : ((cur[seg] = /^\d+$/.test(path[j + 1]!) ? [] : {}) as Obj);
  }
  cur[path[path.length - 1]!] = value;
}

function systemOf(parts: ContentBlock[]): string | ContentBlock[] | undefined {
  if (parts.length === 0) return undefined;
  if (parts.every((p) => p.type === 'text')) return parts.map((p) => p.text).join('\n\n');
  return parts;
}

function addMessage(messages: Obj[], systemParts: ContentBlock[], m: unknown, field: string): void {
  const msg = objectAt(m, field) ?? fail(`"${field}" must be an object, not null`);
  const role = stringAt(msg.role, `${field}.role`) ?? fail(`"${field}.role" is missing`);
  const blocks = partsOf(msg, field);
  if (role === 'system' || role === 'developer') {
    systemParts.push(...blocks);
    return;
  }
  if (role === 'tool') {
    // A tool message may hold a bare result with the call id on the message itself.
    const callId = idAt(msg.tool_call_id ?? msg.id, `${field}.tool_call_id`);
    const results = blocks.map((b) => {
      if (b.type === 'tool_result') return b;
      const r: ContentBlock = { type: 'tool_result', content: b.type === 'text' ? b.text : [b] };
      put(r, 'tool_use_id', callId);
      return r;
    });
    pushToolResults(messages, results);
    return;
  }
  const only = blocks[0];
  messages.push({ role, content: blocks.length === 1 && only?.type === 'text' ? only.text : blocks });
}

/** The parts of a message: `parts` in current conventions, `content` (text or parts) before. */
function partsOf(msg: Obj, field: string): ContentBlock[] {
  if (msg.parts !== undefined) {
    return (arrayAt(msg.parts, `${field}.parts`) ?? []).map((p, i) => partToBlock(p, `${field}.parts[${i}]`));
  }
  const c = msg.content;
  const blocks: ContentBlock[] = [];
  if (typeof c === 'string') {
    const parsed = jsonParts(c);
    if (parsed !== undefined) blocks.push(...parsed.map((p, i) => partToBlock(p, `${field}.content[${i}]`)));
    else if (c !== '') blocks.push({ type: 'text', text: c });
  } else if (Array.isArray(c)) {
    blocks.push(...c.map((p, i) => partToBlock(p, `${field}.content[${i}]`)));
  } else if (c !== undefined && c !== null) {
    fail(`"${field}.content" must be a string or an array, not ${describe(c)}`);
  }
  const calls = arrayAt(msg.tool_calls, `${field}.tool_calls`) ?? [];
  calls.forEach((c, i) => blocks.push(toolCallBlock(c, `${field}.tool_calls[${i}]`)));
  return blocks;
}

/** Some instrumentations flatten list content to a JSON string; recognise it so parts stay parts. */
function jsonParts(s: string): unknown[] | undefined {
  if (!s.startsWith('[{')) return undefined;
  try {
    const v: unknown = JSON.parse(s);
    return Array.isArray(v) && v.every((p) => isObj(p) && typeof p.type === 'string') ? v : undefined;
  } catch {
    return undefined;
  }
}

function toolCallBlock(c: unknown, field: string): ContentBlock {
  const call = objectAt(c, field) ?? fail(`"${field}" must be an object, not null`);
  const fn = objectAt(call.function, `${field}.function`) ?? call;
  const name = stringAt(fn.name, `${field}.name`) ?? fail(`"${field}.name" is missing`);
  const block: ContentBlock = { type: 'tool_use', name, input: toolInput(fn.arguments) };
  put(block, 'id', idAt(call.id, `${field}.id`));
  return block;
}

function partToBlock(p: unknown, field: string): ContentBlock {
  if (typeof p === 'string') return { type: 'text', text: p };
  const part = objectAt(p, field) ?? fail(`"${field}" must be an object, not null`);
  const type = stringAt(part.type, `${field}.type`) ?? fail(`"${field}.type" is missing`);
  switch (type) {
    case 'text':
      return { type: 'text', text: stringAt(part.content ?? part.text, `${field}.content`) ?? '' };
    case 'reasoning':
      return { type: 'thinking', thinking: stringAt(part.content, `${field}.content`) ?? '' };
    case 'tool_call':
      return toolCallBlock(part, field);
    case 'tool_call_response': {
      const block: ContentBlock = { type: 'tool_result', content: part.response ?? part.result };
      put(block, 'tool_use_id', idAt(part.id, `${field}.id`));
      return block;
    }
    case 'blob':
    case 'uri':
    case 'file': {
      const modality = stringAt(part.modality, `${field}.modality`);
      const source: Obj =
        type === 'blob'
          ? { type: 'base64', data: part.content }
          : type === 'uri'
            ? { type: 'url', url: part.uri }
            : { type: 'file', file_id: part.file_id };
      put(source, 'media_type', part.mime_type);
      return { type: modality === 'image' ? 'image' : (modality ?? 'document'), source };
    }
    default:
      return part as ContentBlock;
  }
}

interface LegacyMessage {
  message: Obj;
  field: string;
}

/**
 * Rebuilds messages from flattened attributes: `gen_ai.prompt.0.role`,
 * `gen_ai.prompt.0.content`, `gen_ai.prompt.1.tool_calls.0.name`, …
 */
function legacyMessages(a: Obj, kind: 'prompt' | 'completion'): LegacyMessage[] {
  return unflatten(a, LEGACY_KEY, kind).map(([i, message]) => {
    if (message.role === undefined) message.role = kind === 'completion' ? 'assistant' : 'user';
    return { message, field: `gen_ai.${kind}.${i}` };
  });
}

function outputOf(a: Obj, events: readonly ContentEvent[]): Obj | undefined {
  const out: Obj = {};
  const output = structured(a, 'gen_ai.output.messages');
  let first: Obj | undefined;
  let blocks: ContentBlock[] = [];
  if (output !== undefined) {
    first = objectAt(output[0], 'gen_ai.output.messages[0]');
    if (first !== undefined) blocks = partsOf(first, 'gen_ai.output.messages[0]');
  } else {
    const choice = events.find((e) => e.name === 'gen_ai.choice' && (e.body.index === undefined || Number(e.body.index) === 0));
    const completion = events.find((e) => e.name === 'gen_ai.content.completion');
    const legacy =
      legacyMessages(a, 'completion')[0] ??
      openInferenceMessages(a, 'output')[0] ??
      (choice !== undefined
        ? { message: { ...(objectAt(choice.body.message, 'gen_ai.choice.message') ?? {}), finish_reason: choice.body.finish_reason }, field: 'gen_ai.choice.message' }
        : undefined) ??
      (completion !== undefined ? { message: objectAt((structured(completion.body, 'gen_ai.completion') ?? [])[0], 'gen_ai.completion[0]') ?? {}, field: 'gen_ai.completion[0]' } : undefined);
    if (legacy !== undefined) {
      first = legacy.message;
      blocks = partsOf(first, legacy.field);
    }
  }
  const text = blocks.filter((b) => b.type === 'text').map((b) => b.text ?? '');
  const reasoning = blocks.filter((b) => b.type === 'thinking').map((b) => String(b.thinking ?? ''));
  const calls = blocks.filter((b) => b.type === 'tool_use');
  if (text.length > 0) out.text = text.join('\n');
  if (reasoning.length > 0) out.reasoning = reasoning.join('\n');
  if (calls.length > 0) {
    out.tool_calls = calls.map((b) => {
      const call: Obj = { name: b.name, input: b.input };
      put(call, 'id', b.id);
      return call;
    });
  }
  put(out, 'model', stringAt(a['gen_ai.response.model'], 'gen_ai.response.model') || undefined);
  const reasons = a['gen_ai.response.finish_reasons'] ?? a['llm.finish_reason'];
  const finish = Array.isArray(reasons) ? reasons[0] : typeof reasons === 'string' ? reasons : first?.finish_reason;
  if (typeof finish === 'string' && finish !== '') {
    out.stop_reason = stopReason(finish);
    out.finish_reason = finish;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function usageOf(a: Obj): Obj | undefined {
  const out: Obj = {};
  const n = (...keys: string[]): number | undefined => {
    for (const k of keys) if (a[k] !== undefined && a[k] !== null) return numberAt(a[k], k);
    return undefined;
  };
  put(out, 'input_tokens', n('gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens', 'llm.token_count.prompt'));
  put(out, 'output_tokens', n('gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens', 'llm.token_count.completion'));
  put(out, 'reasoning_tokens', n('gen_ai.usage.reasoning_tokens', 'llm.token_count.completion_details.reasoning'));
  put(out, 'cache_read_input_tokens', n('gen_ai.usage.cache_read.input_tokens', 'gen_ai.usage.cache_read_input_tokens', 'llm.token_count.prompt_details.cache_read'));
  put(out, 'cache_creation_input_tokens', n('gen_ai.usage.cache_creation.input_tokens', 'gen_ai.usage.cache_creation_input_tokens', 'llm.token_count.prompt_details.cache_write'));
  return Object.keys(out).length > 0 ? out : undefined;
}
