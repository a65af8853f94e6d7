/**
 * From a finished request to the canonical exchange and its features, the way the scanner
 * would have read it from a log. Pure: it runs in the analysis worker, off the proxy's
 * thread, and is tested without one.
 */
import type { Exchange } from '../core/exchange.js';
import type { ExchangeFeatures } from '../core/features.js';
import { err, ok, type Result } from '../core/result.js';
import { computeFeatures } from '../signals/features.js';
import type { ApiName, Dialect } from './dialect.js';
import { openaiDialect } from './openai.js';
import { anthropicDialect } from './anthropic.js';
import type { Action } from './policy.js';

/** What the proxy knows once a response is over; plain data, so it can cross to a worker. */
export interface FinishedRequest {
  /** Assigned by the proxy, so that ids stay unique if the analysis worker is restarted. */
  id: string;
  api: ApiName;
  accountId: string;
  apiKeyId: string;
  body: Uint8Array;
  /** A streamed response reassembled, or the bytes of an unstreamed one, or nothing. */
  response: { kind: 'assembled'; value: unknown } | { kind: 'bytes'; value: Uint8Array } | null;
  status: number;
  startedAt: number;
  latencyMs: number;
  action: Action;
  /** Ended by the gateway before the upstream finished: the account was blocked, or the drain's deadline passed. */
  cut?: 'blocked' | 'shutdown';
  userAgent?: string;
  remoteAddress?: string;
  /** The provider edge's `x-distillwatch-edge` header, only when the gateway trusts it. */
  edgeHeader?: string;
  refusal?: never;
}

/**
 * Why the gateway answered a request itself, without the model: not an exchange, so it is
 * logged but never stored nor fed to detection (which would count it as answered).
 */
export type Refusal = 'unauthorized' | 'blocked' | 'rate_limited' | 'unavailable' | 'malformed_body' | 'too_large';

/** A request the gateway refused; what is known of it depends on how far it got. */
export interface RefusedRequest {
  id: string;
  api: ApiName;
  refusal: Refusal;
  status: number;
  /** Null when the caller was not identified. */
  accountId: string | null;
  apiKeyId: string | null;
  /** The policy's action, when the request got as far as the policy. */
  action: Action | null;
  /** The request body when it was read (a blocked or throttled account's), else null. */
  body: Uint8Array | null;
  startedAt: number;
  latencyMs: number;
  userAgent?: string;
  remoteAddress?: string;
}

/** What the proxy hands to the analysis worker. */
export type HandedRequest = FinishedRequest | RefusedRequest;

/**
 * The log line of a refused request: who, why, and what was asked for (model, capability,
 * prompt hash and template, never the text unless prompts are logged), so that an analyst
 * can see what a blocked account kept trying.
 */
export interface RefusalLogFields {
  id: string;
  refused: Refusal;
  api: ApiName;
  status: number;
  account: string | null;
  key: string | null;
  action: Action | null;
  latency_ms: number;
  model?: string;
  capability?: string;
  prompt_hash?: string;
  template_prefix?: string;
  prompt_chars?: number;
  prompt?: string;
}

export function recordRefusal(f: RefusedRequest, opts: RecordOptions): RefusalLogFields {
  const log: RefusalLogFields = { id: f.id, refused: f.refusal, api: f.api, status: f.status, account: f.accountId, key: f.apiKeyId, action: f.action, latency_ms: Math.round(f.latencyMs) };
  if (f.body === null || f.accountId === null) return log;
  // The same mapping as an answered request's, without a response, for its features only.
  const { refusal: _, ...rest } = f;
  const r = recordExchange({ ...rest, accountId: f.accountId, apiKeyId: f.apiKeyId ?? 'unknown', body: f.body, response: null, action: f.action ?? 'allow' }, opts);
  if (r === null || !r.ok) return log;
  const x = r.value.features;
  Object.assign(log, { model: x.model, capability: x.capability, prompt_hash: x.prompt_hash, template_prefix: x.template_prefix, prompt_chars: x.prompt_chars });
  if (r.value.log.prompt !== undefined) log.prompt = r.value.log.prompt;
  return log;
}

/** What the provider's edge may tell the gateway about a request. */
interface EdgeInfo {
  ts?: string;
  client?: Record<string, unknown>;
  account?: Record<string, unknown>;
  org_id?: string;
}

export interface RecordOptions {
  ipHashKey?: string;
  logPrompts: boolean;
}

/** The fields of the per-exchange log line: ids, timings and actions, never keys. */
export interface ExchangeLogFields {
  id: string;
  account: string;
  api: ApiName;
  status: number;
  action: Action;
  latency_ms: number;
  cut?: 'blocked' | 'shutdown';
  prompt?: string;
}

export type Recorded = { features: ExchangeFeatures; log: ExchangeLogFields };

const DIALECTS: Record<ApiName, Dialect> = { openai: openaiDialect, anthropic: anthropicDialect };
const utf8 = new TextDecoder();

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(utf8.decode(bytes));
  } catch {
    return undefined;
  }
}

function parseEdge(header: string | undefined): EdgeInfo {
  if (header === undefined) return {};
  try {
    const e = JSON.parse(header) as unknown;
    return e !== null && typeof e === 'object' ? (e as EdgeInfo) : {};
  } catch {
    return {};
  }
}

/**
 * Null when the body is not JSON: not a request the model could answer, nothing to learn.
 * An error when the adapter cannot map even the request.
 */
export function recordExchange(f: FinishedRequest, opts: RecordOptions): Result<Recorded, string> | null {
  const request = parseJson(f.body);
  if (request === undefined) return null;
  let response: unknown;
  if (f.response?.kind === 'assembled') response = f.response.value;
  else if (f.response?.kind === 'bytes' && f.status === 200) response = parseJson(f.response.value);
  const edge = parseEdge(f.edgeHeader);
  const line: Record<string, unknown> = {
    id: f.id,
    ts: edge.ts ?? new Date(f.startedAt).toISOString(),
    metadata: { account_id: f.accountId },
    request,
    latency_ms: Math.round(f.latencyMs),
    status: f.status,
  };
  if (response !== undefined) line.response = response;
  const dialect = DIALECTS[f.api];
  let mapped = dialect.toExchange(line);
  if (!mapped.ok && line.response !== undefined) {
    // A response the adapter cannot read must not cost the exchange: keep the request.
    delete line.response;
    mapped = dialect.toExchange(line);
  }
  if (!mapped.ok) return err(mapped.error);
  const ex: Exchange | undefined = mapped.value[0];
  if (ex === undefined) return err('the adapter produced no exchange');
  ex.api_key_id = f.apiKeyId;
  ex.status = f.status;
  ex.client = { ...(f.userAgent ? { user_agent: f.userAgent } : {}), ...(f.remoteAddress ? { ip: f.remoteAddress } : {}), ...(edge.client ?? {}) };
  if (edge.account) ex.account = edge.account;
  if (edge.org_id) ex.org_id = edge.org_id;
  const features = computeFeatures(ex, {
    ...(opts.ipHashKey ? { ipHashKey: opts.ipHashKey } : {}),
    promptPreviewChars: opts.logPrompts ? 200 : 0,
  });
  const log: ExchangeLogFields = { id: f.id, account: f.accountId, api: f.api, status: f.status, action: f.action, latency_ms: Math.round(f.latencyMs) };
  if (f.cut) log.cut = f.cut;
  if (opts.logPrompts && features.prompt_preview !== null) log.prompt = features.prompt_preview;
  return ok({ features, log });
}
