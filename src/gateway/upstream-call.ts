/**
 * One forwarded request, from its dispatch to the upstream to the end of its response to
 * the client, driven by undici's handler interface (`dispatch()`): the upstream's chunks are
 * written to the client as they come, and only what the record needs is kept.
 *
 * `request()` (the form this replaced) gives a `Readable` body read through an async
 * iterator: per request a stream, its buffering and a promise per chunk and step, on the
 * proxy's one thread. A handler is called by the HTTP parser directly: per request this one
 * object, no promise, no stream.
 *
 * Back-pressure: a client slower than the upstream pauses the upstream's socket
 * (`controller.pause()`) until the client's socket drains. A cut (block, shutdown), the
 * client's going and the upstream's failure or silence all end in `onResponseError`, which
 * answers in the API's shape as far as the response has gone, and reports once.
 */
import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { ERROR_STATUS, sseFrame, type DegradeOptions, type Dialect, type StreamAccumulator } from './dialect.js';
import { applyDegrade, streamDegrade, type AnswerMarker, type StreamFilter } from './degrade.js';
import type { FinishedRequest } from './record.js';
import { SseReader } from './sse.js';

/** Why the gateway ended a request in flight, as its record says. */
export type Cut = NonNullable<FinishedRequest['cut']>;

const SHUTDOWN_MESSAGE = 'The gateway is shutting down; retry the request';
const BLOCKED_MESSAGE = 'This account has been blocked for violating the usage policy';
export { SHUTDOWN_MESSAGE, BLOCKED_MESSAGE };
/** What the client of a request cut short is told. */
const CUT_ERROR = {
  shutdown: { code: 'unavailable', message: SHUTDOWN_MESSAGE },
  blocked: { code: 'blocked', message: BLOCKED_MESSAGE },
} as const;
/** Response headers not passed on: they describe the upstream's connection, not the answer. */
export const HOP_BY_HOP = new Set(['expect', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer', 'host', 'content-length']);
/** Most of a response kept for the log; the client always gets all of it. */
const MAX_LOGGED_RESPONSE = 4 * 1024 * 1024;

/** What the gateway does with a call's errors and its end. */
export interface CallOwner<T> {
  /** Told once per call, after the client's response has ended (or the client has gone). */
  ended(call: UpstreamCall<T>): void;
  logUpstreamError(level: 'warn' | 'error', code: string | undefined, message: string, what: string): void;
}

/** The response of an error in the API's shape, as JSON with its length. */
function sendError(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Set on the client's response while the call waits for it to drain: its listener finds the call here. */
const CALL = Symbol('upstream call');
type Draining = ServerResponse & { [CALL]?: UpstreamCall<unknown> | undefined };

function onClientDrain(this: Draining): void {
  this[CALL]?.controller?.resume();
}

/** `T`: what the owner keeps with the call for its record. */
export class UpstreamCall<T> implements Dispatcher.DispatchHandler {
  controller: Dispatcher.DispatchController | null = null;
  /** The status the client got (499 when it went away first). */
  status = 0;
  /** A stream's events, assembled; null for a response that was not a stream. */
  acc: StreamAccumulator | null = null;
  /** The bytes of a response that was not a stream, as they came (up to MAX_LOGGED_RESPONSE). */
  readonly chunks: Buffer[] = [];
  cut: Cut | null = null;
  /** The client went away before its response was complete. */
  clientGone = false;
  /** True once the client's response is ended whole. */
  complete = false;
  /**
   * True once undici began writing the request to an upstream connection. A call cut or left
   * while it waited for a connection never reached the model: it is no exchange to record.
   */
  sent = false;
  private responseBytes = 0;
  private reader: SseReader | null = null;
  private filter: StreamFilter | null = null;
  /** Degrade or mark a whole JSON answer: buffered, rewritten at its end. */
  private rewrite = false;
  private headersAt = 0;
  /** The client's headers of a rewritten answer, written with its new length at its end. */
  private pendingHeaders: Record<string, string | string[]> | null = null;
  private done = false;

  constructor(
    private readonly owner: CallOwner<T>,
    readonly about: T,
    readonly accountId: string,
    private readonly dialect: Dialect,
    private readonly res: ServerResponse,
    /** The degrade settings when the policy degrades this account's answers, else null. */
    private readonly degrade: DegradeOptions | null,
    private readonly mark: AnswerMarker | null,
    /** The gateway's own time: before the dispatch, then between the upstream's headers and the client's. */
    public overheadMs: number,
  ) {}

  /** Ends the call as `why` says; false when it was cut already. */
  cutFor(why: Cut): boolean {
    if (this.cut) return false;
    this.cut = why;
    this.controller?.abort(new Error(`cut: ${why}`));
    return true;
  }

  /** The client's connection closed: the upstream is told to stop unless the answer is whole. */
  clientClosed(): void {
    if (this.complete || this.done) return;
    this.clientGone = true;
    this.controller?.abort(new Error('the client went away'));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // Cut or gone while it waited for a connection: it goes no further.
    if (this.cut) controller.abort(new Error(`cut: ${this.cut}`));
    else if (this.clientGone) controller.abort(new Error('the client went away'));
    else this.sent = true;
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>): void {
    // 1xx answers are the upstream's own business.
    if (status < 200) return;
    try {
      this.headersAt = performance.now();
      this.status = status;
      const out: Record<string, string | string[]> = {};
      for (const k in headers) {
        const v = headers[k];
        if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
      }
      const contentType = headers['content-type'];
      const streaming = typeof contentType === 'string' && contentType.includes('text/event-stream');
      if (!streaming && (this.degrade !== null || this.mark) && status === 200) {
        this.rewrite = true;
        this.pendingHeaders = out;
        return;
      }
      const length = headers['content-length'];
      if (!streaming && length !== undefined) out['content-length'] = String(length);
      this.res.writeHead(status, out);
      if (streaming) {
        this.res.flushHeaders();
        this.reader = new SseReader();
        this.acc = this.dialect.accumulator();
        // A degraded or marked stream is re-framed event by event; any other passes as it came.
        if (status === 200) this.filter = streamDegrade(this.dialect, this.degrade, this.mark);
      }
      this.overheadMs += performance.now() - this.headersAt;
    } catch (e) {
      controller.abort(e as Error);
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    try {
      if (this.rewrite) {
        this.chunks.push(chunk);
        return;
      }
      let out: Buffer | string = chunk;
      const reader = this.reader;
      if (reader !== null) {
        const acc = this.acc!;
        const filter = this.filter;
        const events = reader.push(chunk);
        if (filter) out = '';
        for (const e of events) {
          acc.add(e);
          if (filter) for (const kept of filter(e)) out += sseFrame(kept);
        }
      } else if (this.responseBytes < MAX_LOGGED_RESPONSE) this.chunks.push(chunk);
      this.responseBytes += chunk.length;
      if (out.length === 0) return;
      if (!this.res.write(out)) {
        // The client reads slower than the upstream sends: hold the upstream until it drains.
        controller.pause();
        const res = this.res as Draining;
        res[CALL] = this;
        res.once('drain', onClientDrain);
      }
    } catch (e) {
      controller.abort(e as Error);
    }
  }

  onResponseEnd(controller: Dispatcher.DispatchController): void {
    try {
      if (this.rewrite) {
        const text = Buffer.concat(this.chunks).toString('utf8');
        let out = text;
        try {
          out = JSON.stringify(applyDegrade(this.dialect, JSON.parse(text), this.degrade, this.mark));
        } catch {
          // Unparseable upstream body: pass it as it came.
        }
        const headers = this.pendingHeaders!;
        headers['content-length'] = String(Buffer.byteLength(out));
        this.res.writeHead(this.status, headers);
        this.overheadMs += performance.now() - this.headersAt;
        this.res.end(out);
      } else {
        this.res.end();
      }
      this.complete = true;
    } catch (e) {
      return this.onResponseError(controller, e as Error);
    }
    this.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, e: Error): void {
    if (this.done) return;
    const res = this.res;
    const dialect = this.dialect;
    const code = (e as { code?: string }).code;
    if (this.cut) {
      const { code: cutCode, message } = CUT_ERROR[this.cut];
      this.status = ERROR_STATUS[cutCode];
      if (!res.headersSent) sendError(res, this.status, dialect.errorBody(cutCode, message));
      else if (!res.writableEnded) res.end(dialect.streamError(cutCode, message));
    } else if (this.clientGone) {
      // Nobody to answer.
    } else if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
      this.status = 504;
      if (!res.headersSent) sendError(res, 504, dialect.errorBody('upstream_timeout', 'The upstream model API did not answer in time'));
      else res.end(dialect.streamError('upstream_timeout', 'The upstream model API stopped answering'));
    } else if (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_NOT_SUPPORTED') {
      // The request never left: the gateway could not express it, the upstream is not to blame.
      this.status = 500;
      this.owner.logUpstreamError('error', code, e.message, 'request could not be forwarded');
      if (!res.headersSent) sendError(res, 500, dialect.errorBody('internal', 'The gateway could not forward this request'));
      else res.end(dialect.streamError('internal', 'The gateway could not forward this request'));
    } else {
      this.status = 502;
      this.owner.logUpstreamError('warn', code, e.message, 'upstream request failed');
      if (!res.headersSent) sendError(res, 502, dialect.errorBody('upstream_unreachable', 'The upstream model API could not be reached'));
      else res.end(dialect.streamError('upstream_unreachable', 'The upstream model API connection failed'));
    }
    this.end();
  }

  private end(): void {
    if (this.done) return;
    this.done = true;
    const res = this.res as Draining;
    if (res[CALL] !== undefined) {
      res[CALL] = undefined;
      res.removeListener('drain', onClientDrain);
    }
    if (this.clientGone && !this.complete) this.status = 499;
    this.owner.ended(this);
  }
}
