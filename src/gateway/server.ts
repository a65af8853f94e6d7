/**
 * The gateway's HTTP server: routes, the proxy hot path, and the operator routes. The hot
 * path does only what must happen before the first byte: find the account, read its
 * standing, apply the policy, forward. Building the canonical record, computing features
 * and detection happen after the response in the analysis worker, storage in batches.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Pool } from 'undici';
import type { Logger } from 'pino';
import { apiKeyOf, edgeAccountOf, keyIdOf, resolveCaller, type CallerRefusal } from './accounts.js';
import type { GatewayConfig } from './config.js';
import { ERROR_STATUS, sseFrame, type Dialect, type GatewayErrorCode, type StreamAccumulator } from './dialect.js';
import { openaiDialect } from './openai.js';
import { anthropicDialect } from './anthropic.js';
import { decide, type Action, type Decision } from './policy.js';
import { ShadowTally } from './shadow.js';
import type { GatewayState } from './state.js';
import type { ExchangeLog } from './exchange-log.js';
import type { WriteAheadLog } from './wal.js';
import type { Store } from '../store/store.js';
import type { ExchangeAnalysis } from './analysis.js';
import type { FinishedRequest, RefusedRequest, Refusal } from './record.js';
import type { GatewayMetrics } from './metrics.js';
import { SseReader } from './sse.js';
import { ListenError, type ListenAddress } from './listen.js';
import { adminRoutes, dispatchAdmin, type AdminRoute } from './admin/routes.js';
import { adminError, type AdminAnswer } from './admin/http.js';
import type { TokenHolder } from './admin/auth.js';
import { applyDegrade, streamDegrade, type Watermark } from './degrade.js';

export interface GatewayDeps {
  config: GatewayConfig;
  state: GatewayState;
  /** True when `state` is shared (Redis): its outage is then reported and may fail closed. */
  sharedState: boolean;
  log: ExchangeLog;
  /** Where operator decisions are recorded (audited) before they take effect; null without a store. */
  store?: Store | null;
  /** Every finished request is written here first; null without a store. */
  wal?: WriteAheadLog | null;
  analysis: ExchangeAnalysis;
  /**
   * Count each admitted request in the shared state here. A thin replica leaves it to the
   * workers, which count a batch in one command rather than one round trip per request.
   * @default true
   */
  countRequests?: boolean;
  metrics: GatewayMetrics;
  logger: Logger;
  /** Who may call the admin routes, with their roles (the investigation API's tokens). */
  holders: readonly TokenHolder[];
  watermark?: Watermark;
  /** The investigation API (`/api/v1`), answered on the admin address when the gateway has a store. */
  api?: ((req: IncomingMessage, res: ServerResponse) => void) | null;
}

/** Why the gateway ended a request in flight, as its record says. */
type Cut = NonNullable<FinishedRequest['cut']>;

interface Flight {
  accountId: string;
  dialect: Dialect;
  res: ServerResponse;
  abort: CutSignal;
  cut: Cut | null;
}

const UNAUTHORIZED: Record<CallerRefusal, string> = {
  missing_key: 'No API key provided',
  unknown_key: 'Incorrect API key provided',
  key_mismatch: 'The API key does not belong to the account the edge names',
};

/** What is known of a request from its first byte, for its answer and its record. */
interface Arrival {
  dialect: Dialect;
  req: IncomingMessage;
  res: ServerResponse;
  started: number;
  startedAt: number;
}

type RefusedWho = Pick<RefusedRequest, 'accountId' | 'apiKeyId' | 'action' | 'body'>;

interface RefusalAnswer {
  refusal: Refusal;
  message: string;
  headers?: Record<string, string>;
}

const REFUSAL_ERROR: Record<Refusal, GatewayErrorCode> = {
  unauthorized: 'unauthorized',
  blocked: 'blocked',
  rate_limited: 'rate_limited',
  unavailable: 'unavailable',
  malformed_body: 'bad_request',
  too_large: 'too_large',
};

function expectsContinue(req: IncomingMessage): boolean {
  return (req.headers.expect ?? '').toLowerCase() === '100-continue';
}

function parseObject(body: Buffer): Record<string, unknown> | null {
  try {
    const v = JSON.parse(body.toString('utf8')) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Most a request body may be; bigger is refused in the API's shape. */
const MAX_BODY = 32 * 1024 * 1024;
const TOO_LARGE: RefusalAnswer = { refusal: 'too_large', message: `The request body is larger than ${MAX_BODY / 1024 / 1024} MB` };
/** Most of a response kept for the log; the client always gets all of it. */
const MAX_LOGGED_RESPONSE = 4 * 1024 * 1024;
const SHUTDOWN_MESSAGE = 'The gateway is shutting down; retry the request';
const BLOCKED_MESSAGE = 'This account has been blocked for violating the usage policy';
/** What the client of a request cut short is told. */
const CUT_ERROR: Record<Cut, { code: GatewayErrorCode; message: string }> = {
  shutdown: { code: 'unavailable', message: SHUTDOWN_MESSAGE },
  blocked: { code: 'blocked', message: BLOCKED_MESSAGE },
};
const HOP_BY_HOP = new Set(['expect', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer', 'host', 'content-length']);

function readBody(req: IncomingMessage, max = MAX_BODY): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        resolve(null);
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendAnswer(res: ServerResponse, a: AdminAnswer): void {
  if (a.kind === 'json') return sendJson(res, a.status, a.body, a.headers);
  res.writeHead(a.status, { 'content-type': a.contentType });
  res.end(a.text);
}

/** The path of a request, without its query. */
function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function noRoute(req: IncomingMessage, path: string): AdminAnswer {
  return adminError(404, 'not_found_error', `No route for ${req.method} ${path}`);
}

/** Serves `handle`, answering a bug in it with a bare 500 (the cause goes to the log only). */
function serving(logger: Logger, what: string, handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((e) => {
      logger.error({ err: (e as Error).message }, what);
      if (!res.headersSent) sendJson(res, 500, { error: { message: 'Internal gateway error', type: 'server_error' } });
      else res.destroy();
    });
  };
}

/** Most an operator request body may be: a few keys. */
const MAX_ADMIN_BODY = 64 * 1024;

/**
 * What cuts a request's upstream call: an EventEmitter with `aborted`, which undici takes as
 * a signal. An AbortController per request (an EventTarget, its signal created and its
 * listener added and removed through the web events machinery) was a few percent of the
 * proxy's CPU in its profile, for a request that is almost never cut.
 */
class CutSignal extends EventEmitter {
  aborted = false;
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.emit('abort');
  }
}

/** Marks a request in flight as cut and aborts its upstream call; false when it was cut already. */
function cut(f: Flight, why: Cut): boolean {
  if (f.cut) return false;
  f.cut = why;
  f.abort.abort();
  return true;
}

function listenOn(server: Server, address: ListenAddress): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const failed = (e: Error) => reject(new ListenError(address, e));
    server.once('error', failed);
    server.listen(address.port, address.host, () => {
      server.off('error', failed);
      resolve();
    });
  });
}

export class Gateway {
  private readonly server: Server;
  /** Metrics, readiness and the operator routes, on their own (by default loopback) address. */
  private readonly adminServer: Server;
  private readonly adminRoutes: AdminRoute[];
  private readonly pool: Pool;
  private current: GatewayConfig;
  private readonly flights = new Map<string, Set<Flight>>();
  /** What the policy would have done in shadow mode. */
  private readonly shadow = new ShadowTally();
  private readonly watch: NodeJS.Timeout;
  private seq = 0;
  private drainStarted = false;
  private readonly perClient = new Map<string, number>();
  private active = 0;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly idPrefix = randomBytes(4).toString('hex');

  constructor(private readonly deps: GatewayDeps) {
    this.current = deps.config;
    const up = new URL(deps.config.upstream);
    this.pool = new Pool(up.origin, { connections: 256, pipelining: 1, keepAliveTimeout: 30_000 });
    const onRequest = serving(deps.logger, 'request failed', (req, res) => this.route(req, res));
    const headersTimeout = deps.config.connections.headersTimeoutMs;
    // Node checks the headers timeout on a timer (30 s by default): checked often enough here
    // that a slowloris is dropped close to the setting.
    this.server = createServer({ keepAliveTimeout: 30_000, headersTimeout, connectionsCheckingInterval: Math.min(1000, headersTimeout) }, onRequest);
    this.server.on('connection', (socket: Socket) => this.capConnections(socket));
    // `Expect: 100-continue` (curl sends it for bodies over 1 KB): the proxy decides when
    // to invite the body, after the key and the policy.
    this.server.on('checkContinue', onRequest);
    this.adminRoutes = adminRoutes({
      ...deps,
      policy: () => this.config.policy,
      cutAccount: (accountId) => this.cutAccount(accountId),
      shadow: () => ({ mode: this.config.policy.mode, ...this.shadow.view() }),
      replicaId: () => this.config.replicaId,
      logWritable: () => this.logWritable(),
      // The config in force, reloads included.
      config: () => this.config,
      draining: () => this.drainStarted,
    });
    this.adminServer = createServer({ keepAliveTimeout: 30_000 }, serving(deps.logger, 'admin request failed', (req, res) => this.adminRoute(req, res)));
    // A change of standing, made here or by another replica, is checked against the
    // account's streams in flight at once; the timer catches a change whose push was lost.
    deps.state.onChange((accountId) => {
      if (this.flights.has(accountId)) void this.recheckAccount(accountId);
    });
    this.watch = setInterval(() => void this.recheckFlights(), deps.config.flightRecheckMs);
    this.watch.unref();
  }

  /** Closes a client's connection beyond `connections.maxPerClient` at once (one client cannot hold every socket). */
  private capConnections(socket: Socket): void {
    const client = socket.remoteAddress ?? '';
    const open = (this.perClient.get(client) ?? 0) + 1;
    if (open > this.config.connections.maxPerClient) {
      this.deps.metrics.connectionsRefused.inc();
      socket.destroy();
      return;
    }
    this.perClient.set(client, open);
    socket.once('close', () => {
      const n = (this.perClient.get(client) ?? 1) - 1;
      if (n <= 0) this.perClient.delete(client);
      else this.perClient.set(client, n);
    });
  }

  /** The config in force. */
  get config(): GatewayConfig {
    return this.current;
  }

  /** Swaps in a new config (policy, keys); see `reloadedConfig` for what only a restart changes. */
  reload(config: GatewayConfig): void {
    this.current = config;
  }

  /** Opens the listener; rejects with a `ListenError` (port taken, no such address). */
  async listen(port = this.config.listen.port, host = this.config.listen.host): Promise<number> {
    await listenOn(this.server, { host, port });
    return (this.server.address() as AddressInfo).port;
  }

  /** Opens the operator listener (`adminListen`); rejects with a `ListenError`. */
  async listenAdmin(port = this.config.adminListen.port, host = this.config.adminListen.host): Promise<number> {
    await listenOn(this.adminServer, { host, port });
    return (this.adminServer.address() as AddressInfo).port;
  }

  /** True from the start of a drain: /readyz answers 503 and new requests are turned away. */
  get draining(): boolean {
    return this.drainStarted;
  }

  /**
   * Drains, then closes: /readyz reports not ready at once, no new connection is accepted,
   * requests in flight get up to `deadlineMs` to finish; those still running then are ended
   * with an API-shaped error (an error event on a stream) and recorded as cut by shutdown.
   */
  async close(deadlineMs = this.config.drainTimeoutMs): Promise<void> {
    this.drainStarted = true;
    clearInterval(this.watch);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs)));
    await Promise.race([this.idle(), deadline]);
    clearTimeout(timer);
    if (this.active > 0) {
      for (const set of this.flights.values()) {
        for (const f of set) if (cut(f, 'shutdown')) this.deps.metrics.shutdownCuts.inc();
      }
      // The cut requests write their error and their record; a request still reading its
      // body has nothing to wait for.
      await Promise.race([this.idle(), new Promise((r) => setTimeout(r, 1000).unref())]);
    }
    // Idle keep-alive connections would hold close() open until they time out.
    this.server.closeAllConnections();
    await closed;
    await this.pool.close();
    await this.closeAdmin();
  }

  private async closeAdmin(): Promise<void> {
    if (!this.adminServer.listening) return;
    const closed = new Promise<void>((resolve) => this.adminServer.close(() => resolve()));
    this.adminServer.closeAllConnections();
    await closed;
  }

  private idle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Counts a proxied request from its first byte to its record, for the drain. */
  private async tracked(fn: () => Promise<void>): Promise<void> {
    this.active++;
    try {
      await fn();
    } finally {
      if (--this.active === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = pathOf(req);
    // While draining, every answer closes its connection: the client's next request goes elsewhere.
    if (this.drainStarted) res.shouldKeepAlive = false;
    if (req.method === 'POST') {
      if (path === '/v1/chat/completions') return this.tracked(() => this.proxy(req, res, openaiDialect));
      if (path === '/v1/messages') return this.tracked(() => this.proxy(req, res, anthropicDialect));
    }
    // Liveness on both listeners: a probe of this one proves the port clients use answers.
    if (req.method === 'GET' && path === '/healthz') return sendJson(res, 200, { ok: true });
    req.resume();
    sendAnswer(res, noRoute(req, path));
  }

  private async adminRoute(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = pathOf(req);
    if (this.deps.api && (path === '/api/v1' || path.startsWith('/api/v1/'))) return this.deps.api(req, res);
    const answer = await dispatchAdmin(this.adminRoutes, this.deps.holders, {
      method: req.method ?? 'GET',
      rawPath: path,
      headers: req.headers,
      body: () => readBody(req, MAX_ADMIN_BODY),
    });
    req.resume();
    sendAnswer(res, answer ?? noRoute(req, path));
  }

  /**
   * Answers a request the gateway will not forward, in the API's shape, and hands its
   * record to the analysis worker, which logs it and keeps it away from detection.
   */
  private refuse(a: Arrival, r: RefusalAnswer, who: RefusedWho): void {
    const code = REFUSAL_ERROR[r.refusal];
    const status = ERROR_STATUS[code];
    this.deps.metrics.countRequest(a.dialect.name, status);
    sendJson(a.res, status, a.dialect.errorBody(code, r.message), r.headers);
    const ua = a.req.headers['user-agent'];
    const refused: RefusedRequest = {
      id: this.nextId(),
      api: a.dialect.name,
      refusal: r.refusal,
      status,
      ...who,
      startedAt: a.startedAt,
      latencyMs: performance.now() - a.started,
      ...(ua ? { userAgent: ua } : {}),
      ...(a.req.socket.remoteAddress ? { remoteAddress: a.req.socket.remoteAddress } : {}),
    };
    this.deps.analysis.submit(refused);
  }

  private nextId(): string {
    return `gw_${this.config.replicaId}_${this.idPrefix}_${++this.seq}`;
  }

  /** Shadow mode: tallies what the policy decided and lets the request through. */
  private shadowed(accountId: string, d: Decision): Decision {
    if (d.action === 'allow') return d;
    this.deps.metrics.shadowActions.inc({ action: d.action });
    this.shadow.note(accountId, d.action);
    return { action: 'allow', reason: `shadow mode: would have ${d.action} (${d.reason})` };
  }

  /** Ends every in-flight request of a blocked account: streams get an API-shaped error event. */
  cutAccount(accountId: string): number {
    // Shadow mode enforces nothing, a block included: the would-have is tallied at admission.
    if (this.config.policy.mode === 'shadow') return 0;
    const set = this.flights.get(accountId);
    if (!set) return 0;
    for (const f of set) if (cut(f, 'blocked')) this.deps.metrics.streamsCut.inc();
    return set.size;
  }

  private async recheckAccount(accountId: string): Promise<void> {
    const standing = await this.deps.state.standing(accountId);
    if (decide(this.config.policy, accountId, standing).action === 'block') this.cutAccount(accountId);
  }

  private async recheckFlights(): Promise<void> {
    for (const accountId of [...this.flights.keys()]) await this.recheckAccount(accountId);
  }

  private async admit(accountId: string): Promise<{ ok: true; decision: Decision; campaignId: string | null } | ({ ok: false; action: Action | null } & RefusalAnswer)> {
    const { state, sharedState, metrics } = this.deps;
    const policy = this.config.policy;
    if (sharedState && !state.available() && this.config.redisFailure === 'closed') {
      return { ok: false, action: null, refusal: 'unavailable', message: 'The service is temporarily unavailable' };
    }
    if (this.config.logFailure === 'refuse' && !this.logWritable()) {
      return { ok: false, action: null, refusal: 'unavailable', message: 'The service is temporarily unavailable' };
    }
    const standing = await state.standing(accountId);
    const decided = decide(policy, accountId, standing);
    const decision = policy.mode === 'shadow' ? this.shadowed(accountId, decided) : decided;
    metrics.countAction(decision.action);
    if (decision.action === 'block') {
      return { ok: false, action: 'block', refusal: 'blocked', message: BLOCKED_MESSAGE };
    }
    if (decision.action === 'throttle') {
      const mine = await state.take('acct:' + accountId, policy.throttle);
      const theirs = mine && standing.campaignId !== null ? await state.take('campaign:' + standing.campaignId, policy.campaignThrottle) : true;
      if (!mine || !theirs) {
        return { ok: false, action: 'throttle', refusal: 'rate_limited', message: 'Rate limit exceeded for this account', headers: { 'retry-after': String(Math.ceil(1 / policy.throttle.ratePerSec)) } };
      }
    }
    return { ok: true, decision, campaignId: standing.campaignId };
  }

  /**
   * A refused request's body, read for its record (what a blocked account kept trying);
   * null when its client waits for leave to send it (`Expect: 100-continue`), which a
   * refusal does not give.
   */
  private async bodyForRecord(req: IncomingMessage): Promise<Buffer | null> {
    if (expectsContinue(req)) {
      req.resume();
      return null;
    }
    return readBody(req);
  }

  private async proxy(req: IncomingMessage, res: ServerResponse, dialect: Dialect): Promise<void> {
    const started = performance.now();
    const startedAt = Date.now();
    const config = this.config;
    const fromEdge = config.edge?.trustedAddresses.trusts(req.socket.remoteAddress) ?? false;
    const caller = resolveCaller(req.headers, config.keys, edgeAccountOf(req.headers, config.accountHeader, fromEdge), req.socket);
    const arrival: Arrival = { dialect, req, res, started, startedAt };
    if (!caller.ok) {
      req.resume();
      const key = apiKeyOf(req.headers);
      return this.refuse(arrival, { refusal: 'unauthorized', message: UNAUTHORIZED[caller.reason] }, { accountId: null, apiKeyId: key ? keyIdOf(key) : null, action: null, body: null });
    }
    const accountId = caller.accountId;
    if (this.drainStarted) {
      req.resume();
      return this.refuse(arrival, { refusal: 'unavailable', message: SHUTDOWN_MESSAGE }, { accountId, apiKeyId: caller.apiKeyId, action: null, body: null });
    }
    const admitted = await this.admit(accountId);
    if (!admitted.ok) {
      const body = admitted.refusal === 'unavailable' ? (req.resume(), null) : await this.bodyForRecord(req);
      return this.refuse(arrival, admitted, { accountId, apiKeyId: caller.apiKeyId, action: admitted.action, body });
    }
    const decision = admitted.decision;
    const who: RefusedWho = { accountId, apiKeyId: caller.apiKeyId, action: decision.action, body: null };
    if (this.deps.countRequests !== false) this.deps.state.countRequest(accountId).catch(() => {});
    // A body declared too large is refused before it is sent (with Expect) or read.
    if (Number(req.headers['content-length']) > MAX_BODY) {
      req.resume();
      return this.refuse(arrival, TOO_LARGE, who);
    }
    // Node answers `Expect: 100-continue` itself only when nobody listens for it; the
    // gateway listens, so that a refusal above is sent before the client uploads the body.
    if (expectsContinue(req)) res.writeContinue();
    let body = await readBody(req);
    if (body === null) return this.refuse(arrival, TOO_LARGE, who);
    // Checked here rather than left to the upstream: a body that is not a JSON object is
    // not a request either API could answer, and it must leave a record of its own.
    const request = parseObject(body);
    if (request === null) return this.refuse(arrival, { refusal: 'malformed_body', message: 'The request body is not a JSON object' }, who);
    const degrade = decision.action === 'degrade';
    const mark = this.deps.watermark?.({ accountId, campaignId: admitted.campaignId, action: decision.action }) ?? null;
    if (degrade) body = Buffer.from(JSON.stringify(dialect.degradeRequest(request, this.config.policy.degrade)));

    // for...in rather than Object.entries: no array of pairs per request.
    const inHeaders = req.headers;
    const headers: Record<string, string> = {};
    for (const k in inHeaders) {
      const v = inHeaders[k];
      if (v === undefined || HOP_BY_HOP.has(k) || k === 'x-distillwatch-edge') continue;
      headers[k] = Array.isArray(v) ? v.join(', ') : v;
    }
    headers['content-length'] = String(body.length);

    const flight: Flight = { accountId, dialect, res, abort: new CutSignal(), cut: null };
    let set = this.flights.get(accountId);
    if (!set) this.flights.set(accountId, (set = new Set()));
    set.add(flight);
    let clientGone = false;
    res.on('close', () => {
      if (!res.writableFinished) {
        clientGone = true;
        flight.abort.abort();
      }
    });

    let status = 0;
    let overhead = performance.now() - started;
    const responseChunks: Buffer[] = [];
    let responseBytes = 0;
    let acc: StreamAccumulator | null = null;
    let complete = false;
    try {
      const timeout = this.config.upstreamTimeoutMs;
      const up = await this.pool.request({
        path: req.url ?? '/',
        method: 'POST',
        headers,
        body,
        signal: flight.abort,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
      const headersAt = performance.now();
      status = up.statusCode;
      const outHeaders: Record<string, string | string[]> = {};
      const upHeaders = up.headers;
      for (const k in upHeaders) {
        const v = upHeaders[k];
        if (v !== undefined && !HOP_BY_HOP.has(k)) outHeaders[k] = v;
      }
      const contentType = String(up.headers['content-type'] ?? '');
      const streaming = contentType.includes('text/event-stream');

      if (!streaming && (degrade || mark) && status === 200) {
        const text = await up.body.text();
        let out = text;
        try {
          out = JSON.stringify(applyDegrade(dialect, JSON.parse(text), degrade ? this.config.policy.degrade : null, mark));
        } catch {
          // Unparseable upstream body: pass it as it came.
        }
        responseChunks.push(Buffer.from(text));
        outHeaders['content-length'] = String(Buffer.byteLength(out));
        res.writeHead(status, outHeaders);
        overhead += performance.now() - headersAt;
        res.end(out);
        complete = true;
      } else {
        if (!streaming && up.headers['content-length'] !== undefined) outHeaders['content-length'] = String(up.headers['content-length']);
        res.writeHead(status, outHeaders);
        if (streaming) res.flushHeaders();
        overhead += performance.now() - headersAt;
        const reader = streaming ? new SseReader() : null;
        if (streaming) acc = dialect.accumulator();
        // A degraded or marked stream is re-framed event by event; any other passes as it came.
        const filter = streaming && status === 200 ? streamDegrade(dialect, degrade ? this.config.policy.degrade : null, mark) : null;
        for await (const chunk of up.body as AsyncIterable<Buffer>) {
          let out: Buffer | string = chunk;
          if (reader && acc) {
            const events = reader.push(chunk);
            if (filter) out = '';
            for (const e of events) {
              acc.add(e);
              if (filter) for (const kept of filter(e)) out += sseFrame(kept);
            }
          } else if (responseBytes < MAX_LOGGED_RESPONSE) responseChunks.push(chunk);
          responseBytes += chunk.length;
          if (out.length === 0) continue;
          if (!res.write(out)) await new Promise<void>((resolve) => { res.once('drain', resolve); res.once('close', resolve); });
        }
        res.end();
        complete = true;
      }
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (flight.cut) {
        const { code: cutCode, message } = CUT_ERROR[flight.cut];
        status = ERROR_STATUS[cutCode];
        if (!res.headersSent) sendJson(res, status, dialect.errorBody(cutCode, message));
        else if (!res.writableEnded) res.end(dialect.streamError(cutCode, message));
      } else if (clientGone) {
        this.deps.metrics.clientAborts.inc();
      } else if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
        status = 504;
        if (!res.headersSent) sendJson(res, 504, dialect.errorBody('upstream_timeout', 'The upstream model API did not answer in time'));
        else res.end(dialect.streamError('upstream_timeout', 'The upstream model API stopped answering'));
      } else if (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_NOT_SUPPORTED') {
        // The request never left: the gateway could not express it, the upstream is not to blame.
        status = 500;
        this.deps.logger.error({ code, err: (e as Error).message }, 'request could not be forwarded');
        if (!res.headersSent) sendJson(res, 500, dialect.errorBody('internal', 'The gateway could not forward this request'));
        else res.end(dialect.streamError('internal', 'The gateway could not forward this request'));
      } else {
        status = 502;
        this.deps.logger.warn({ code, err: (e as Error).message }, 'upstream request failed');
        if (!res.headersSent) sendJson(res, 502, dialect.errorBody('upstream_unreachable', 'The upstream model API could not be reached'));
        else res.end(dialect.streamError('upstream_unreachable', 'The upstream model API connection failed'));
      }
    } finally {
      set.delete(flight);
      if (set.size === 0) this.flights.delete(accountId);
    }
    if (clientGone && !complete) status = 499;
    this.deps.metrics.countRequest(dialect.name, status);
    this.deps.metrics.addedLatency.observe(overhead / 1000);
    // Off the request path: the client already has its response.
    this.record(dialect, { req, accountId, apiKeyId: caller.apiKeyId, body, acc, responseChunks, status, startedAt, latencyMs: performance.now() - started, decision, fromEdge, cut: flight.cut });
  }

  /**
   * Hands the finished request on. Its fields are set one by one, optional ones only when
   * present: spreads of conditional objects built and copied several small objects per request.
   */
  private record(
    dialect: Dialect,
    f: { req: IncomingMessage; accountId: string; apiKeyId: string; body: Buffer; acc: StreamAccumulator | null; responseChunks: Buffer[]; status: number; startedAt: number; latencyMs: number; decision: Decision; fromEdge: boolean; cut: Cut | null },
  ): void {
    const { req, acc, responseChunks } = f;
    const response: FinishedRequest['response'] = acc
      ? { kind: 'assembled', value: acc.result() }
      : responseChunks.length > 0
        ? { kind: 'bytes', value: responseChunks.length === 1 ? responseChunks[0]! : Buffer.concat(responseChunks) }
        : null;
    const finished: FinishedRequest = { id: this.nextId(), api: dialect.name, accountId: f.accountId, apiKeyId: f.apiKeyId, body: f.body, response, status: f.status, startedAt: f.startedAt, latencyMs: f.latencyMs, action: f.decision.action };
    if (f.cut) finished.cut = f.cut;
    const ua = req.headers['user-agent'];
    if (ua) finished.userAgent = ua;
    const remote = req.socket.remoteAddress;
    if (remote) finished.remoteAddress = remote;
    if (f.fromEdge) {
      const edgeHeader = req.headers['x-distillwatch-edge'];
      if (typeof edgeHeader === 'string') finished.edgeHeader = edgeHeader;
    }
    if (this.deps.analysis.writesAhead !== true) this.deps.wal?.append(finished);
    this.deps.analysis.submit(finished);
  }

  /** False while exchanges cannot reach the disk (full disk): the write-ahead log or the spool fails. */
  private logWritable(): boolean {
    return (this.deps.wal?.healthy ?? true) && this.deps.log.spoolWritable;
  }
}
