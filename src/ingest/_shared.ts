/**
 * Pieces shared by the format adapters: reading loosely typed JSON with errors that name
 * the input field, timestamps, stable ids, and the envelope that OpenAI- and
 * Anthropic-format gateway logs have in common (ids, times, account and edge metadata).
 */
import { createHash } from 'node:crypto';
import type { ContentBlock, Exchange } from '../core/exchange.js';
import { err, type Result } from '../core/result.js';
import { validateExchange } from './validate.js';

export type Obj = Record<string, unknown>;

/** Maps one parsed input record to the exchanges it holds (usually one). */
export type Adapter = (value: unknown, raw?: string) => Result<Exchange[], string>;

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A problem with one input field. Thrown only inside an adapter and turned into an
 * `err` at its boundary: mapping a deep record reads much more plainly that way than
 * threading a Result through every helper.
 */
export class FieldError extends Error {}

export function fail(message: string): never {
  throw new FieldError(message);
}

/** Runs an adapter body, turning a FieldError into an error result. */
export function guard<T>(body: () => Result<T, string>): Result<T, string> {
  try {
    return body();
  } catch (e) {
    if (e instanceof FieldError) return err(e.message);
    throw e;
  }
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  const t = typeof v;
  return t === 'object' || t === 'undefined' ? `an ${t}` : `a ${t}`;
}

export function objectAt(v: unknown, field: string): Obj | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) fail(`"${field}" must be an object, not ${describe(v)}`);
  return v;
}

export function arrayAt(v: unknown, field: string): unknown[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) fail(`"${field}" must be an array, not ${describe(v)}`);
  return v;
}

export function stringAt(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') fail(`"${field}" must be a string, not ${describe(v)}`);
  return v;
}

/** Ids are sometimes logged as numbers; they are still ids. */
export function idAt(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string') fail(`"${field}" must be a string, not ${describe(v)}`);
  return v;
}

export function numberAt(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`"${field}" must be a number, not ${describe(v)}`);
  return v;
}

export function intAt(v: unknown, field: string): number | undefined {
  const n = numberAt(v, field);
  if (n !== undefined && !Number.isSafeInteger(n)) fail(`"${field}" must be an integer, not ${n}`);
  return n;
}

export function boolAt(v: unknown, field: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') fail(`"${field}" must be a boolean, not ${describe(v)}`);
  return v;
}

/** "AS64500", "64500" or 64500. */
export function asnAt(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const s = typeof v === 'string' ? v.replace(/^AS/i, '') : v;
  const n = typeof s === 'string' && /^\d+$/.test(s) ? Number(s) : s;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) fail(`"${field}" is not an AS number`);
  return n;
}

/** An ISO-8601 date-time with no zone designator, which `Date.parse` would read as local time. */
const NAIVE_DATETIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

/**
 * Normalises a log timestamp to ISO-8601 UTC. Accepts ISO strings (a missing zone means
 * UTC: servers log in UTC far more often than in local time) and epoch numbers in
 * seconds, milliseconds, microseconds or nanoseconds, told apart by magnitude.
 */
export function timestampAt(v: unknown, field: string): string {
  let ms: number;
  if (typeof v === 'number' || (typeof v === 'string' && /^\d+(\.\d+)?$/.test(v))) {
    const n = Number(v);
    ms = n >= 1e17 ? n / 1e6 : n >= 1e14 ? n / 1e3 : n >= 1e11 ? n : n * 1e3;
  } else if (typeof v === 'string') {
    ms = Date.parse(NAIVE_DATETIME.test(v) ? `${v.replace(' ', 'T')}Z` : v);
  } else {
    fail(v === undefined || v === null ? `"${field}" is missing` : `"${field}" is not an ISO-8601 timestamp`);
  }
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) fail(`"${field}" is not an ISO-8601 timestamp`);
  return d.toISOString();
}

/** Nanoseconds since the epoch (a number or a decimal string, as OTLP/JSON writes it) to ms. */
export function nanosToMs(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null || v === '' || v === '0' || v === 0) return undefined;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(BigInt(v) / 1000n) / 1000;
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v / 1e6;
  return fail(`"${field}" must be nanoseconds since the epoch, not ${describe(v)}`);
}

/**
 * An id for a record that carries none, derived from its exact text so that ingesting
 * the same file twice yields the same ids and the store can ignore the repeat.
 */
export function stableId(raw: string): string {
  return `h_${createHash('sha256').update(raw).digest('hex').slice(0, 32)}`;
}

/** Provider finish reasons in the Anthropic vocabulary the canonical record uses. */
export function stopReason(reason: string): string {
  switch (reason) {
    case 'stop':
      return 'end_turn';
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'tool_call':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return reason;
  }
}

/** Tool arguments arrive as a JSON string; a model's malformed JSON is kept as the string. */
export function toolInput(args: unknown): unknown {
  if (typeof args !== 'string') return args;
  try {
    return JSON.parse(args);
  } catch {
    return args;
  }
}

/** Appends tool results to the previous user message when it holds only tool results. */
export function pushToolResults(messages: Obj[], blocks: ContentBlock[]): void {
  const prev = messages[messages.length - 1];
  if (
    prev !== undefined &&
    prev.role === 'user' &&
    Array.isArray(prev.content) &&
    (prev.content as ContentBlock[]).every((b) => b.type === 'tool_result')
  ) {
    (prev.content as ContentBlock[]).push(...blocks);
  } else {
    messages.push({ role: 'user', content: blocks });
  }
}

/** Fields of a gateway log line around the request and response proper. */
export interface Envelope {
  id: string | undefined;
  ts: string;
  account_id: string;
  org_id: string | undefined;
  api_key_id: string | undefined;
  conversation_id: string | undefined;
  client: Obj | undefined;
  account: Obj | undefined;
  /** Metadata keys with no canonical place, kept as they were. */
  metadata: Obj | undefined;
  status: number | undefined;
  latency_ms: number | undefined;
  /** Top-level keys this module does not know, kept as they were. */
  extras: Obj;
}

const METADATA_KEYS = new Set([
  'account_id',
  'org_id',
  'api_key_id',
  'conversation_id',
  'ip',
  'user_agent',
  'country',
  'asn',
  'asn_org',
  'account',
]);

const ENVELOPE_KEYS = new Set([
  'id',
  'timestamp',
  'created_at',
  'ts',
  'account_id',
  'user',
  'org_id',
  'api_key_id',
  'conversation_id',
  'client',
  'account',
  'metadata',
  'request',
  'response',
  'usage',
  'model',
  'status',
  'latency_ms',
]);

export interface EnvelopeOptions {
  /** Where else the account may be found, in order, after the metadata and top level. */
  accountFallbacks: ReadonlyArray<readonly [field: string, value: unknown]>;
  /** A timestamp to use when the line has none of its own, e.g. the response's `created`. */
  tsFallback?: readonly [field: string, value: unknown];
}

/** Reads the envelope of an OpenAI- or Anthropic-format log line. */
export function readEnvelope(v: Obj, opts: EnvelopeOptions): Envelope {
  const meta = objectAt(v.metadata, 'metadata') ?? {};

  const candidates: Array<readonly [string, unknown]> = [
    ['metadata.account_id', meta.account_id],
    ['account_id', v.account_id],
    ['user', v.user],
    ...opts.accountFallbacks,
  ];
  let account_id: string | undefined;
  for (const [field, value] of candidates) {
    account_id = idAt(value, field);
    if (account_id !== undefined) break;
  }
  if (account_id === undefined) {
    const names = candidates.map(([f]) => `"${f}"`);
    fail(`no account id (looked at ${names.slice(0, -1).join(', ')} and ${names[names.length - 1]})`);
  }

  const tsField = v.timestamp !== undefined ? 'timestamp' : v.created_at !== undefined ? 'created_at' : 'ts';
  const tsValue = v[tsField];
  let ts: string;
  if (tsValue !== undefined && tsValue !== null) ts = timestampAt(tsValue, tsField);
  else if (opts.tsFallback !== undefined && opts.tsFallback[1] !== undefined && opts.tsFallback[1] !== null)
    ts = timestampAt(opts.tsFallback[1], opts.tsFallback[0]);
  else fail('no timestamp (looked at "timestamp", "created_at" and "ts")');

  const topClient = objectAt(v.client, 'client');
  const client: Obj = { ...topClient };
  const ip = stringAt(meta.ip, 'metadata.ip');
  const ua = stringAt(meta.user_agent, 'metadata.user_agent');
  const country = stringAt(meta.country, 'metadata.country');
  const asn = asnAt(meta.asn, 'metadata.asn');
  const asnOrg = stringAt(meta.asn_org, 'metadata.asn_org');
  if (ip !== undefined) client.ip = ip;
  if (ua !== undefined) client.user_agent = ua;
  if (country !== undefined) client.country = country;
  if (asn !== undefined) client.asn = asn;
  if (asnOrg !== undefined) client.asn_org = asnOrg;

  let metadata: Obj | undefined;
  for (const k of Object.keys(meta)) {
    if (METADATA_KEYS.has(k)) continue;
    (metadata ??= {})[k] = meta[k];
  }
  const extras: Obj = {};
  for (const k of Object.keys(v)) if (!ENVELOPE_KEYS.has(k)) extras[k] = v[k];

  return {
    id: idAt(v.id, 'id'),
    ts,
    account_id,
    org_id: idAt(meta.org_id, 'metadata.org_id') ?? idAt(v.org_id, 'org_id'),
    api_key_id: idAt(meta.api_key_id, 'metadata.api_key_id') ?? idAt(v.api_key_id, 'api_key_id'),
    conversation_id: idAt(meta.conversation_id, 'metadata.conversation_id') ?? idAt(v.conversation_id, 'conversation_id'),
    client: Object.keys(client).length > 0 ? client : undefined,
    account: objectAt(meta.account, 'metadata.account') ?? objectAt(v.account, 'account'),
    metadata,
    status: intAt(v.status, 'status'),
    latency_ms: numberAt(v.latency_ms, 'latency_ms'),
    extras,
  };
}

/**
 * Assembles an exchange from an envelope and the mapped request/response, leaving out
 * absent optional fields, and checks it against the contract.
 */
export function assemble(
  env: Envelope,
  id: string,
  model: string,
  request: Obj,
  response: Obj | undefined,
  usage: Obj | undefined,
): Result<Exchange[], string> {
  const out: Obj = { id, ts: env.ts, account_id: env.account_id };
  if (env.org_id !== undefined) out.org_id = env.org_id;
  if (env.api_key_id !== undefined) out.api_key_id = env.api_key_id;
  out.model = model;
  if (env.conversation_id !== undefined) out.conversation_id = env.conversation_id;
  if (env.client !== undefined) out.client = env.client;
  if (env.account !== undefined) out.account = env.account;
  out.request = request;
  if (response !== undefined) out.response = response;
  if (usage !== undefined) out.usage = usage;
  if (env.latency_ms !== undefined) out.latency_ms = env.latency_ms;
  if (env.status !== undefined) out.status = env.status;
  if (env.metadata !== undefined) out.metadata = env.metadata;
  for (const k of Object.keys(env.extras)) if (!(k in out)) out[k] = env.extras[k];
  const r = validateExchange(out);
  return r.ok ? { ok: true, value: [r.value] } : r;
}

/** How one API's request/response log maps its response and usage objects. */
export interface RequestLogMapping {
  response: (res: Obj) => Obj;
  usage: (u: Obj | undefined) => Obj | undefined;
}

/**
 * The common tail of the request/response log adapters: the model from the request, the
 * response or the record, the id from the envelope or the response (a stable hash of the
 * line otherwise, so that re-ingest stays idempotent), then the assembled exchange.
 */
export function assembleRequestLog(env: Envelope, value: Obj, raw: string | undefined, req: Obj, res: Obj | undefined, request: Obj, map: RequestLogMapping): Result<Exchange[], string> {
  const model =
    stringAt(req.model, 'request.model') ||
    stringAt(res?.model, 'response.model') ||
    stringAt(value.model, 'model') ||
    fail('"request.model" is missing');
  const id = env.id ?? idAt(res?.id, 'response.id') ?? stableId(raw ?? JSON.stringify(value));
  const usage = map.usage(objectAt(res?.usage, 'response.usage') ?? objectAt(value.usage, 'usage'));
  return assemble(env, id, model, request, res === undefined ? undefined : map.response(res), usage);
}

/** Sets `key` on `obj` only when the value is present, so records carry no `undefined`s. */
export function put(obj: Obj, key: string, value: unknown): void {
  if (value !== undefined) obj[key] = value;
}

/**
 * What a reader that joins records across lines (traces, batch pairs) still holds, counted
 * per input line, so that it can tell the last line whose records have all been dealt with.
 */
export class HeldLines {
  /** Held records per line, in line order: the first key is the oldest line still held. */
  private readonly counts = new Map<number, number>();
  private last = 0;

  /** Notes the line just read. */
  read(line: number): void {
    this.last = line;
  }

  hold(line: number): void {
    this.counts.set(line, (this.counts.get(line) ?? 0) + 1);
  }

  release(line: number): void {
    const n = this.counts.get(line)! - 1;
    if (n === 0) this.counts.delete(line);
    else this.counts.set(line, n);
  }

  clear(): void {
    this.counts.clear();
  }

  /** The last line whose records have all been dealt with: where a resumed read may start after. */
  get safeLine(): number {
    for (const first of this.counts.keys()) return first - 1;
    return this.last;
  }
}
