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
  stableId,
  stopReason,
  stringAt,
  toolInput,
  type Obj,
} from './_shared.js';
import { validateExchange } from './validate.js';

/** What became of one span of a line: an exchange, a reason it is bad, or null when skipped. */
export type SpanOutcome = Result<Exchange, string> | null;

/**
 * Maps one OTLP/JSON line to the exchanges of its GenAI chat spans. One bad chat span makes
 * the whole line an error here; `otelSpanOutcomes` keeps the good spans of such a line.
 *
 * @example
 * fromOtel({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans: [span] }] }] })
 * // => { ok: true, value: [exchange] }
 */
export function fromOtel(value: unknown, raw?: string): Result<Exchange[], string> {
  const outcomes = otelSpanOutcomes(value, raw);
  if (!outcomes.ok) return outcomes;
  const exchanges: Exchange[] = [];
  for (const o of outcomes.value) {
    if (o === null) continue;
    if (!o.ok) return o;
    exchanges.push(o.value);
  }
  return ok(exchanges);
}

/**
 * Maps every span of an OTLP/JSON line on its own, so that one span without an account or
 * without captured messages does not take the rest of an export batch down with it.
 * An error for the whole line means it is not OTLP trace data at all.
 */
export function otelSpanOutcomes(value: unknown, raw?: string): Result<SpanOutcome[], string> {
  return guard(() => {
    if (!isObj(value)) fail(`"record" must be an object, not ${describe(value)}`);
    const refs = collectSpans(value);
    const batch = refs.length > 1 || value.resourceSpans !== undefined;
    return ok(
      refs.map((ref, i) => {
        const r = guard(() => mapSpan(ref, raw ?? '', i));
        if (r.ok) return r.value === null ? null : ok(r.value);
        if (!batch) return r;
        const spanId = typeof ref.span.spanId === 'string' ? ref.span.spanId : `#${i + 1}`;
        return err(`span "${spanId}": ${r.error}`);
      }),
    );
  });
}

interface SpanRef {
  span: Obj;
  resource: Obj;
}

function collectSpans(v: Obj): SpanRef[] {
  const refs: SpanRef[] = [];
  const fromResourceSpans = (rs: Obj, field: string): void => {
    const resource = attributes(objectAt(rs.resource, `${field}.resource`)?.attributes, `${field}.resource.attributes`);
    // `instrumentationLibrarySpans` is the pre-1.0 OTLP name, still written by old exporters.
    const scopes = arrayAt(rs.scopeSpans ?? rs.instrumentationLibrarySpans, `${field}.scopeSpans`) ?? [];
    scopes.forEach((s, j) => {
      const sf = `${field}.scopeSpans[${j}]`;
      const scope = objectAt(s, sf) ?? fail(`"${sf}" must be an object, not null`);
      for (const [k, span] of (arrayAt(scope.spans, `${sf}.spans`) ?? []).entries()) {
        refs.push({ span: objectAt(span, `${sf}.spans[${k}]`) ?? fail(`"${sf}.spans[${k}]" must be an object, not null`), resource });
      }
    });
  };
  if (v.resourceSpans !== undefined) {
    const all = arrayAt(v.resourceSpans, 'resourceSpans')!;
    all.forEach((rs, i) => fromResourceSpans(objectAt(rs, `resourceSpans[${i}]`) ?? {}, `resourceSpans[${i}]`));
  } else if (v.scopeSpans !== undefined || v.instrumentationLibrarySpans !== undefined) {
    fromResourceSpans(v, 'record');
  } else if (v.traceId !== undefined || v.spanId !== undefined) {
    const resource = attributes(objectAt(v.resource, 'resource')?.attributes, 'resource.attributes');
    refs.push({ span: v, resource });
  } else {
    fail('"resourceSpans" is missing: not an OTLP trace export or span');
  }
  return refs;
}

/** OTLP key/value attributes as a plain object. A plain object is accepted as it is. */
function attributes(list: unknown, field: string): Obj {
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

const CHAT_OPERATIONS = new Set(['chat', 'text_completion', 'generate_content']);
const LEGACY_KEY = /^gen_ai\.(prompt|completion)\.(\d+)\.(.+)$/;

function isChatSpan(a: Obj): boolean {
  const op = a['gen_ai.operation.name'];
  if (typeof op === 'string') return CHAT_OPERATIONS.has(op);
  // Instrumentations that predate `gen_ai.operation.name` state the kind of call here.
  const kind = a['llm.request.type'];
  if (typeof kind === 'string') return kind === 'chat' || kind === 'completion';
  return a['gen_ai.request.model'] !== undefined || a['gen_ai.input.messages'] !== undefined;
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
  'gen_ai.request.max_tokens',
  'gen_ai.request.temperature',
  'gen_ai.request.stream',
  'gen_ai.response.finish_reasons',
  'gen_ai.conversation.id',
  'gen_ai.input.messages',
  'gen_ai.output.messages',
  'gen_ai.system_instructions',
  'enduser.id',
  'user.id',
  'client.address',
  'user_agent.original',
  'http.response.status_code',
]);

function mapSpan(ref: SpanRef, raw: string, index: number): Result<Exchange | null, string> {
  const { span, resource } = ref;
  const a = attributes(span.attributes, 'attributes');
  if (!isChatSpan(a)) return ok(null);

  const account =
    idAt(a['enduser.id'], 'enduser.id') ??
    idAt(a['user.id'], 'user.id') ??
    idAt(resource['enduser.id'], 'enduser.id') ??
    idAt(resource['user.id'], 'user.id') ??
    fail('no account id (looked at "enduser.id" and "user.id" on the span and its resource)');
  const model =
    stringAt(a['gen_ai.request.model'], 'gen_ai.request.model') ||
    stringAt(a['gen_ai.response.model'], 'gen_ai.response.model') ||
    fail('"gen_ai.request.model" is missing');
  const start = nanosToMs(span.startTimeUnixNano, 'startTimeUnixNano') ?? fail('"startTimeUnixNano" is missing');
  const end = nanosToMs(span.endTimeUnixNano, 'endTimeUnixNano');

  const request: Obj = {};
  const { messages, system } = inputMessages(a);
  if (system !== undefined) request.system = system;
  request.messages = messages;
  put(request, 'max_tokens', numberAt(a['gen_ai.request.max_tokens'], 'gen_ai.request.max_tokens'));
  put(request, 'temperature', numberAt(a['gen_ai.request.temperature'], 'gen_ai.request.temperature'));
  put(request, 'stream', boolAt(a['gen_ai.request.stream'], 'gen_ai.request.stream'));

  const traceId = stringAt(span.traceId, 'traceId');
  const spanId = stringAt(span.spanId, 'spanId');
  const out: Obj = {
    id: traceId && spanId ? traceId + spanId : stableId(`${raw}\n${index}`),
    ts: new Date(start).toISOString(),
    account_id: account,
    model,
  };
  put(out, 'conversation_id', idAt(a['gen_ai.conversation.id'], 'gen_ai.conversation.id'));
  const client: Obj = {};
  put(client, 'ip', stringAt(a['client.address'] ?? resource['client.address'], 'client.address'));
  put(client, 'user_agent', stringAt(a['user_agent.original'] ?? resource['user_agent.original'], 'user_agent.original'));
  if (Object.keys(client).length > 0) out.client = client;
  out.request = request;
  put(out, 'response', outputOf(a));
  put(out, 'usage', usageOf(a));
  if (end !== undefined && end >= start) out.latency_ms = end - start;
  put(out, 'status', intAt(a['http.response.status_code'], 'http.response.status_code'));

  const otel: Obj = {};
  put(otel, 'name', span.name);
  put(otel, 'trace_id', traceId);
  put(otel, 'span_id', spanId);
  put(otel, 'parent_span_id', span.parentSpanId || undefined);
  put(otel, 'status', span.status);
  const rest: Obj = {};
  for (const k of Object.keys(a)) if (!MAPPED_ATTRIBUTES.has(k) && !LEGACY_KEY.test(k)) rest[k] = a[k];
  otel.attributes = rest;
  if (Object.keys(resource).length > 0) otel.resource = { ...resource };
  out.otel = otel;

  return validateExchange(out);
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

function inputMessages(a: Obj): { messages: Obj[]; system: string | ContentBlock[] | undefined } {
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
    for (const m of legacyMessages(a, 'prompt')) addMessage(messages, systemParts, m.message, m.field);
  }
  if (messages.length === 0) {
    // Message capture is off by default in most instrumentations; say so, since the fix
    // is a setting on the instrumented service, not in this file.
    fail('"gen_ai.input.messages" is missing: the span carries no prompt (is message content capture enabled?)');
  }
  return { messages, system: systemOf(systemParts) };
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
  const byIndex = new Map<number, Obj>();
  for (const key of Object.keys(a)) {
    const m = LEGACY_KEY.exec(key);
    if (m === null || m[1] !== kind) continue;
    const i = Number(m[2]);
    let msg = byIndex.get(i);
    if (msg === undefined) byIndex.set(i, (msg = {}));
    const path = m[3]!.split('.');
    let cur: Obj = msg;
    for (let j = 0; j < path.length - 1; j++) {
      const seg = path[j]!;
      const next = cur[seg];
      cur = isObj(next) || Array.isArray(next) ? (next as Obj) : (cur[seg] = /^\d+$/.test(path[j + 1]!) ? [] : {}) as Obj;
    }
    cur[path[path.length - 1]!] = a[key];
  }
  return [...byIndex.entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([i, message]) => {
      if (message.role === undefined) message.role = kind === 'completion' ? 'assistant' : 'user';
      return { message, field: `gen_ai.${kind}.${i}` };
    });
}

function outputOf(a: Obj): Obj | undefined {
  const out: Obj = {};
  const output = structured(a, 'gen_ai.output.messages');
  let first: Obj | undefined;
  let blocks: ContentBlock[] = [];
  if (output !== undefined) {
    first = objectAt(output[0], 'gen_ai.output.messages[0]');
    if (first !== undefined) blocks = partsOf(first, 'gen_ai.output.messages[0]');
  } else {
    const legacy = legacyMessages(a, 'completion')[0];
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
  const reasons = a['gen_ai.response.finish_reasons'];
  const finish = Array.isArray(reasons) ? reasons[0] : typeof reasons === 'string' ? reasons : first?.finish_reason;
  if (typeof finish === 'string' && finish !== '') {
    out.stop_reason = stopReason(finish);
    out.finish_reason = finish;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function usageOf(a: Obj): Obj | undefined {
  const out: Obj = {};
  put(
    out,
    'input_tokens',
    numberAt(a['gen_ai.usage.input_tokens'] ?? a['gen_ai.usage.prompt_tokens'], 'gen_ai.usage.input_tokens'),
  );
  put(
    out,
    'output_tokens',
    numberAt(a['gen_ai.usage.output_tokens'] ?? a['gen_ai.usage.completion_tokens'], 'gen_ai.usage.output_tokens'),
  );
  put(out, 'reasoning_tokens', numberAt(a['gen_ai.usage.reasoning_tokens'], 'gen_ai.usage.reasoning_tokens'));
  return Object.keys(out).length > 0 ? out : undefined;
}
