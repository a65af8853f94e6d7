/**
 * What differs between the two APIs the gateway speaks: the shape of errors, how a
 * streamed response is put back together for the log, how a response is degraded, and
 * how a request/response pair becomes a canonical exchange.
 */
import type { Exchange } from '../core/exchange.js';
import type { Result } from '../core/result.js';
import type { SseEvent } from './sse.js';

export type ApiName = 'openai' | 'anthropic';

export type GatewayErrorCode = 'unauthorized' | 'blocked' | 'rate_limited' | 'upstream_timeout' | 'upstream_unreachable' | 'bad_request' | 'too_large' | 'unavailable' | 'internal';

export const ERROR_STATUS: Record<GatewayErrorCode, number> = {
  unauthorized: 401,
  blocked: 403,
  rate_limited: 429,
  upstream_timeout: 504,
  upstream_unreachable: 502,
  bad_request: 400,
  too_large: 413,
  unavailable: 503,
  internal: 500,
};

/** An SSE event written back as a frame. */
export function sseFrame(e: SseEvent): string {
  let out = e.event !== null ? `event: ${e.event}\n` : '';
  for (const line of e.data.split('\n')) out += `data: ${line}\n`;
  return out + '\n';
}

/** Rebuilds the non-streamed response object from the events of a streamed one. */
export interface StreamAccumulator {
  add(e: SseEvent): void;
  /** The response as the API would have returned it unstreamed. */
  result(): unknown;
}

export interface DegradeOptions {
  maxOutputTokens: number;
  withholdReasoning: boolean;
}

export interface Dialect {
  name: ApiName;
  errorBody(code: GatewayErrorCode, message: string): unknown;
  /** An SSE frame carrying an error, to end a stream the gateway cuts short. */
  streamError(code: GatewayErrorCode, message: string): string;
  accumulator(): StreamAccumulator;
  /** Request-side countermeasures: cap output, ask for no reasoning. Mutates and returns the body. */
  degradeRequest(body: Record<string, unknown>, opts: DegradeOptions): Record<string, unknown>;
  /** Response-side countermeasures on an unstreamed response. */
  degradeResponse(body: Record<string, unknown>, opts: DegradeOptions): Record<string, unknown>;
  /**
   * Response-side countermeasures on a stream: a filter, one per response, that gives each
   * event as it is to be sent on, or null to withhold it.
   */
  streamDegrader(opts: DegradeOptions): (e: SseEvent) => SseEvent | null;
  /**
   * A filter, one per response, that hands the text of a stream to `mark` in pieces of
   * whole words, in order, with the slot (choice or content block) each belongs to (tool
   * calls and reasoning untouched); it may hold back an unfinished word and send it with
   * the end of its text.
   */
  streamWatermarker(mark: (slot: number, text: string) => string): (e: SseEvent) => SseEvent[];
  toExchange(logLine: Record<string, unknown>): Result<Exchange[], string>;
}
