/**
 * The gateway's HTTP server: routes, the proxy hot path, and the operator routes. The hot
 * path does only what must happen before the first byte: find the account, read its
 * standing, apply the policy, forward. Building the canonical record, computing features
 * and detection happen after the response in the analysis worker, storage in batches.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Pool } from 'undici';
import type { Logger } from 'pino';
import { apiKeyOf, edgeAccountOf, keyIdOf, resolveCaller, type CallerRefusal } from './accounts.js';
import type { GatewayConfig } from './config.js';
import { ERROR_STATUS, type Dialect, type GatewayErrorCode } from './dialect.js';
import { openaiDialect } from './openai.js';
import { anthropicDialect } from './anthropic.js';
import { decide, type AccountStanding, type Action, type Decision } from './policy.js';
import { ShadowTally } from './shadow.js';
import type { GatewayState } from './state.js';
import type { ExchangeLog } from './exchange-log.js';
import type { WriteAheadLog } from './wal.js';
import type { Store } from '../store/store.js';
import type { ExchangeAnalysis } from './analysis.js';
import type { FinishedRequest, RefusedRequest, Refusal } from './record.js';
import { BLOCKED_MESSAGE, HOP_BY_HOP, SHUTDOWN_MESSAGE, UpstreamCall, type CallOwner } from './upstream-call.js';
import type { GatewayMetrics } from './metrics.js';
import { ListenError, type ListenAddress } from './listen.js';
import { adminRoutes, dispatchAdmin, type AdminRoute } from './admin/routes.js';
import { adminError, type AdminAnswer } from './admin/http.js';
import type { TokenHolder } from './admin/auth.js';
import type { Watermark } from './degrade.js';
import { membersOf, withMember, withoutMember, type OneOrMore } from './one-or-more.js';

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
  /** True until the request is done with (answered and handed on): the drain counts it until then. */
  tracked: boolean;
}

/** What a forwarded request's record needs beyond its call's outcome. */
interface Forward {
  arrival: Arrival;
  accountId: string;
  apiKeyId: string;
  decision: Decision;
  campaignId: string | null;
  fromEdge: boolean;
  /** The body as forwarded (the degraded one when the policy degrades). */
  body: Buffer;
}

/** The outcome of admission: leave to forward, or the refusal. */
type Admission = { ok: true; decision: Decision; campaignId: string | null } | ({ ok: false; action: Action | null } & RefusalAnswer);

/** A request reading its body: the state its listeners (shared, not one closure per request) find on it. */
const READING = Symbol('body being read');
interface BodyRead extends Omit<Forward, 'body'> {
  gateway: Gateway;
  chunks: Buffer[];
  size: number;
}
type Reading = IncomingMessage & { [READING]?: BodyRead | undefined };

/** The calls in flight on a client's connection: its closing ends them (one listener a connection, none a request). */
const CALLS = Symbol('calls in flight');
type ClientSocket = Socket & { [CALLS]?: OneOrMore<UpstreamCall<Forward>> };

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

/*
 * A forwarded request's body is read through these listeners, the same functions for every
 * request, which find what they need on the request itself: no promise and no closures per
 * request, one Buffer.concat when it came in more than one chunk.
 */
function onBodyData(this: Reading, chunk: Buffer): void {
  const r = this[READING];
  if (r === undefined) return;
  r.size += chunk.length;
  if (r.size > MAX_BODY) return r.gateway.bodyTooLarge(r);
  r.chunks.push(chunk);
}

function onBodyEnd(this: Reading): void {
  const r = this[READING];
  if (r === undefined) return;
  const chunks = r.chunks;
  r.gateway.forward(r, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
}

function onBodyError(this: Reading, e: Error): void {
  const r = this[READING];
  if (r !== undefined) r.gateway.bodyFailed(r, e);
}

function stopReading(req: Reading): void {
  req[READING] = undefined;
  req.removeListener('data', onBodyData);
  req.removeListener('end', onBodyEnd);
  req.removeListener('error', onBodyError);
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
function serving(logger: Logger, what: string, handle: (req: IncomingMessage, res: ServerResponse) => Promise<void> | void) {
  const failed = (res: ServerResponse, e: unknown) => {
    logger.error({ err: (e as Error).message }, what);
    if (!res.headersSent) sendJson(res, 500, { error: { message: 'Internal gateway error', type: 'server_error' } });
    else res.destroy();
  };
  return (req: IncomingMessage, res: ServerResponse): void => {
    try {
      handle(req, res)?.catch((e: unknown) => failed(res, e));
    } catch (e) {
      failed(res, e);
    }
  };
}

/** Most an operator request body may be: a few keys. */
const MAX_ADMIN_BODY = 64 * 1024;

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

export class Gateway implements CallOwner<Forward> {
  private readonly server: Server;
  /** Metrics, readiness and the operator routes, on their own (by default loopback) address. */
  private readonly adminServer: Server;
  private readonly adminRoutes: AdminRoute[];
  private readonly pool: Pool;
  private current: GatewayConfig;
  /**
   * The calls in flight by account. An account left with none keeps its entry (undefined)
   * until the next recheck: deleting and adding it again on every request would rebuild
   * the map's table each time (see one-or-more.ts).
   */
  private readonly flights = new Map<string, OneOrMore<UpstreamCall<Forward>>>();
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
      if (this.flights.get(accountId) !== undefined) void this.recheckAccount(accountId);
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
      for (const call of membersOf((socket as ClientSocket)[CALLS])) call.clientClosed();
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
      for (const group of this.flights.values()) {
        for (const f of membersOf(group)) if (f.cutFor('shutdown')) this.deps.metrics.shutdownCuts.inc();
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

  /** Ends the count of a proxied request, from its first byte to its record, for the drain; once per request. */
  private untrack(a: Arrival): void {
    if (!a.tracked) return;
    a.tracked = false;
    if (--this.active === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** A bug met on a request's way: its cause logged, a bare 500 answered, the request no longer counted. */
  private failed(a: Arrival, e: unknown): void {
    this.deps.logger.error({ err: (e as Error).message }, 'request failed');
    if (!a.res.headersSent) sendJson(a.res, 500, { error: { message: 'Internal gateway error', type: 'server_error' } });
    else a.res.destroy();
    this.untrack(a);
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const path = pathOf(req);
    // While draining, every answer closes its connection: the client's next request goes elsewhere.
    if (this.drainStarted) res.shouldKeepAlive = false;
    if (req.method === 'POST') {
      if (path === '/v1/chat/completions') return this.proxy(req, res, openaiDialect);
      if (path === '/v1/messages') return this.proxy(req, res, anthropicDialect);
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
    this.untrack(a);
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
  cutAccount(accountId: string): void {
    // Shadow mode enforces nothing, a block included: the would-have is tallied at admission.
    if (this.config.policy.mode === 'shadow') return;
    for (const f of membersOf(this.flights.get(accountId))) if (f.cutFor('blocked')) this.deps.metrics.streamsCut.inc();
  }

  private async recheckAccount(accountId: string): Promise<void> {
    const standing = await this.deps.state.standing(accountId);
    if (decide(this.config.policy, accountId, standing).action === 'block') this.cutAccount(accountId);
  }

  private async recheckFlights(): Promise<void> {
    const accounts: string[] = [];
    for (const [accountId, group] of this.flights) {
      if (group === undefined) this.flights.delete(accountId);
      else accounts.push(accountId);
    }
    for (const accountId of accounts) await this.recheckAccount(accountId);
  }

  /** A refusal owed to the gateway's own state (shared state down and failing closed, log not writable), else null. */
  private refusedByState(): Admission | null {
    const { state, sharedState } = this.deps;
    if (sharedState && !state.available() && this.config.redisFailure === 'closed') {
      return { ok: false, action: null, refusal: 'unavailable', message: 'The service is temporarily unavailable' };
    }
    if (this.config.logFailure === 'refuse' && !this.logWritable()) {
      return { ok: false, action: null, refusal: 'unavailable', message: 'The service is temporarily unavailable' };
    }
    return null;
  }

  /** The admission of a decision taken, before any bucket is drawn from. */
  private admission(accountId: string, standing: Readonly<AccountStanding>, decided: Decision): Admission {
    const decision = this.config.policy.mode === 'shadow' ? this.shadowed(accountId, decided) : decided;
    this.deps.metrics.countAction(decision.action);
    if (decision.action === 'block') return { ok: false, action: 'block', refusal: 'blocked', message: BLOCKED_MESSAGE };
    return { ok: true, decision, campaignId: standing.campaignId };
  }

  /**
   * Admission without waiting, when the account's standing is in memory (the usual case: a
   * replica keeps recent standings, dropped when any replica changes them) and the policy
   * draws no token; null when it needs `admit`. A promise and a copy of the standing per
   * request cost the proxy's thread more than the decision.
   */
  private admitNow(accountId: string): Admission | null {
    const refused = this.refusedByState();
    if (refused !== null) return refused;
    const standing = this.deps.state.standingKnown?.(accountId);
    if (standing === undefined) return null;
    const policy = this.config.policy;
    const decided = decide(policy, accountId, standing);
    if (decided.action === 'throttle' && policy.mode !== 'shadow') return null;
    return this.admission(accountId, standing, decided);
  }

  private async admit(accountId: string): Promise<Admission> {
    const refused = this.refusedByState();
    if (refused !== null) return refused;
    const { state } = this.deps;
    const policy = this.config.policy;
    const standing = await state.standing(accountId);
    const admission = this.admission(accountId, standing, decide(policy, accountId, standing));
    if (admission.ok && admission.decision.action === 'throttle') {
      const mine = await state.take('acct:' + accountId, policy.throttle);
      const theirs = mine && standing.campaignId !== null ? await state.take('campaign:' + standing.campaignId, policy.campaignThrottle) : true;
      if (!mine || !theirs) {
        return { ok: false, action: 'throttle', refusal: 'rate_limited', message: 'Rate limit exceeded for this account', headers: { 'retry-after': String(Math.ceil(1 / policy.throttle.ratePerSec)) } };
      }
    }
    return admission;
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

  /**
   * Forwards a request: synchronous up to the body when the account's standing is in
   * memory, then driven by the body's events and the upstream call's handler. Every way out
   * answers the client, hands the request on (refused or finished) and ends its count.
   */
  private proxy(req: IncomingMessage, res: ServerResponse, dialect: Dialect): void {
    const arrival: Arrival = { dialect, req, res, started: performance.now(), startedAt: Date.now(), tracked: true };
    this.active++;
    const config = this.config;
    const fromEdge = config.edge?.trustedAddresses.trusts(req.socket.remoteAddress) ?? false;
    const caller = resolveCaller(req.headers, config.keys, edgeAccountOf(req.headers, config.accountHeader, fromEdge), req.socket);
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
    const now = this.admitNow(accountId);
    if (now !== null) return this.admitted(arrival, accountId, caller.apiKeyId, fromEdge, now);
    this.admit(accountId).then(
      (later) => this.admitted(arrival, accountId, caller.apiKeyId, fromEdge, later),
      (e: unknown) => this.failed(arrival, e),
    );
  }

  private admitted(arrival: Arrival, accountId: string, apiKeyId: string, fromEdge: boolean, admission: Admission): void {
    const { req, res } = arrival;
    if (!admission.ok) {
      const who = { accountId, apiKeyId, action: admission.action };
      if (admission.refusal === 'unavailable') {
        req.resume();
        return this.refuse(arrival, admission, { ...who, body: null });
      }
      this.bodyForRecord(req).then(
        (body) => this.refuse(arrival, admission, { ...who, body }),
        (e: unknown) => this.failed(arrival, e),
      );
      return;
    }
    if (this.deps.countRequests !== false) this.deps.state.countRequest(accountId).catch(() => {});
    // A body declared too large is refused before it is sent (with Expect) or read.
    if (Number(req.headers['content-length']) > MAX_BODY) {
      req.resume();
      return this.refuse(arrival, TOO_LARGE, { accountId, apiKeyId, action: admission.decision.action, body: null });
    }
    // Node answers `Expect: 100-continue` itself only when nobody listens for it; the
    // gateway listens, so that a refusal above is sent before the client uploads the body.
    if (expectsContinue(req)) res.writeContinue();
    const reading = req as Reading;
    reading[READING] = { gateway: this, arrival, accountId, apiKeyId, decision: admission.decision, campaignId: admission.campaignId, fromEdge, chunks: [], size: 0 };
    req.on('data', onBodyData);
    req.on('end', onBodyEnd);
    req.on('error', onBodyError);
  }

  /** The body was bigger than the gateway takes: refused at once, the rest read and dropped. */
  bodyTooLarge(r: BodyRead): void {
    const req = r.arrival.req as Reading;
    stopReading(req);
    req.resume();
    this.refuse(r.arrival, TOO_LARGE, { accountId: r.accountId, apiKeyId: r.apiKeyId, action: r.decision.action, body: null });
  }

  /** The client's connection failed while it sent its body: nothing to forward. */
  bodyFailed(r: BodyRead, e: Error): void {
    stopReading(r.arrival.req as Reading);
    this.failed(r.arrival, e);
  }

  /** The whole body is in: checked, rewritten if the policy degrades, and sent upstream. */
  forward(r: BodyRead, read: Buffer): void {
    const { arrival, accountId, decision } = r;
    const { req, dialect } = arrival;
    stopReading(req as Reading);
    const who: RefusedWho = { accountId, apiKeyId: r.apiKeyId, action: decision.action, body: null };
    // Checked here rather than left to the upstream: a body that is not a JSON object is
    // not a request either API could answer, and it must leave a record of its own.
    const request = parseObject(read);
    if (request === null) return this.refuse(arrival, { refusal: 'malformed_body', message: 'The request body is not a JSON object' }, who);
    const degrade = decision.action === 'degrade' ? this.config.policy.degrade : null;
    const mark = this.deps.watermark?.({ accountId, campaignId: r.campaignId, action: decision.action }) ?? null;
    const body = degrade ? Buffer.from(JSON.stringify(dialect.degradeRequest(request, degrade))) : read;

    // for...in rather than Object.entries: no array of pairs per request.
    const inHeaders = req.headers;
    const headers: Record<string, string> = {};
    for (const k in inHeaders) {
      const v = inHeaders[k];
      if (v === undefined || HOP_BY_HOP.has(k) || k === 'x-distillwatch-edge') continue;
      headers[k] = Array.isArray(v) ? v.join(', ') : v;
    }
    headers['content-length'] = String(body.length);

    const forward: Forward = { arrival, accountId, apiKeyId: r.apiKeyId, decision, campaignId: r.campaignId, fromEdge: r.fromEdge, body };
    const call = new UpstreamCall(this, forward, accountId, dialect, arrival.res, degrade, mark, performance.now() - arrival.started);
    this.flights.set(accountId, withMember(this.flights.get(accountId), call));
    const socket = req.socket as ClientSocket;
    // A socket already closed (the client gave up during the body): the call starts gone.
    // Every connection passed capConnections, which ends its calls when it closes.
    if (!socket.destroyed) socket[CALLS] = withMember(socket[CALLS], call);
    else call.clientClosed();
    const timeout = this.config.upstreamTimeoutMs;
    this.pool.dispatch({ path: req.url ?? '/', method: 'POST', headers, body, headersTimeout: timeout, bodyTimeout: timeout }, call);
  }

  /** An upstream call is over and its client answered (CallOwner): counted, and its record handed on. */
  ended(call: UpstreamCall<Forward>): void {
    const f = call.about;
    const group = this.flights.get(f.accountId);
    if (group !== undefined) this.flights.set(f.accountId, withoutMember(group, call));
    const socket = f.arrival.req.socket as ClientSocket;
    if (socket[CALLS] !== undefined) socket[CALLS] = withoutMember(socket[CALLS], call);
    const metrics = this.deps.metrics;
    if (call.clientGone && !call.complete && call.cut === null) metrics.clientAborts.inc();
    metrics.countRequest(f.arrival.dialect.name, call.status);
    metrics.addedLatency.add(call.overheadMs / 1000);
    try {
      // Off the request path: the client already has its response. A call that never left
      // (cut or left while it waited for a connection, or no connection to be had) reached no
      // model: like a refused request, it is counted above and not recorded as an exchange.
      if (call.sent) this.record(call);
    } catch (e) {
      // A bug: called from undici's parser, which would swallow it; logged, and the drain not held.
      this.deps.logger.error({ err: (e as Error).message }, 'request failed');
    } finally {
      this.untrack(f.arrival);
    }
  }

  logUpstreamError(level: 'warn' | 'error', code: string | undefined, message: string, what: string): void {
    this.deps.logger[level]({ code, err: message }, what);
  }

  /**
   * Hands the finished request on. Its fields are set one by one, optional ones only when
   * present: spreads of conditional objects built and copied several small objects per request.
   */
  private record(call: UpstreamCall<Forward>): void {
    const f = call.about;
    const { req, dialect } = f.arrival;
    const acc = call.acc;
    const chunks = call.chunks;
    const response: FinishedRequest['response'] = acc
      ? { kind: 'assembled', value: acc.result() }
      : chunks.length > 0
        ? { kind: 'bytes', value: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) }
        : null;
    const finished: FinishedRequest = {
      id: this.nextId(),
      api: dialect.name,
      accountId: f.accountId,
      apiKeyId: f.apiKeyId,
      body: f.body,
      response,
      status: call.status,
      startedAt: f.arrival.startedAt,
      latencyMs: performance.now() - f.arrival.started,
      action: f.decision.action,
    };
    if (call.cut) finished.cut = call.cut;
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
