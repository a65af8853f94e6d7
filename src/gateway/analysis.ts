/**
 * The proxy's side of the analysis worker. Finished requests are handed over in batches;
 * features come back for the exchange log, and linking's conclusions come back as risk
 * updates.
 *
 * A batch stays held until its features are back: if the worker dies, a new one is started
 * and the held batches are sent again, so no exchange misses the log. The engine's memory
 * of past exchanges is lost with the worker; the store still has them.
 */
import { Worker } from 'node:worker_threads';
import type { ExchangeFeatures } from '../core/features.js';
import type { AccountVerdict } from '../detect/engine.js';
import type { AnalysisSettings, FromWorker, ToWorker } from './analysis-protocol.js';
import type { RiskUpdate } from './online.js';
import type { ExchangeLogFields, HandedRequest, RefusalLogFields } from './record.js';

export interface AnalysisHandlers {
  /** `requests` is the whole batch analysed, those that gave no row (and refusals) included. */
  onRecorded(rows: ExchangeFeatures[], logs: ExchangeLogFields[], requests: readonly HandedRequest[]): void;
  /** Refused requests: a log line each, never a stored row. */
  onRefused?(logs: RefusalLogFields[]): void;
  onFailure(failure: { id: string; account: string; error: string }): void;
  onRisk(updates: RiskUpdate[]): void;
  onWorkerError(e: Error): void;
}

/** What a verdict query tells: the account's verdict and how many exchanges the engine has seen. */
export interface VerdictAnswer {
  verdict: AccountVerdict | null;
  observed: number;
}

/**
 * What the proxy hands its finished requests to: the analysis worker thread of a
 * single-process gateway (`Analysis`), or the partition streams of a thin replica
 * (live/exchange-stream.ts), whose detection runs in other processes.
 */
export interface ExchangeAnalysis {
  /** Requests handed over and not yet taken. */
  readonly backlog: number;
  /** True when `submit` writes finished requests to the write-ahead log itself (encoded once for both). */
  readonly writesAhead?: boolean;
  submit(f: HandedRequest): void;
  verdictOf(accountId: string): Promise<VerdictAnswer>;
  setPublishRisk(risk: number): void;
  link(): Promise<void>;
  drain(): Promise<void>;
  close(): Promise<void>;
}

const WORKER_URL = new URL('./analysis-worker.js', import.meta.url);
const MAX_BATCH = 256;
const BATCH_WAIT_MS = 2;

export class Analysis implements ExchangeAnalysis {
  private worker: Worker;
  private queued: HandedRequest[] = [];
  private readonly held = new Map<number, HandedRequest[]>();
  private readonly queries = new Map<number, (m: FromWorker) => void>();
  private batch = 0;
  private query = 0;
  private closing = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly drained: (() => void)[] = [];
  restarts = 0;

  constructor(
    private settings: AnalysisSettings,
    private readonly handlers: AnalysisHandlers,
  ) {
    this.worker = this.spawn();
  }

  /** Requests handed over and not yet analysed. */
  get backlog(): number {
    let n = this.queued.length;
    for (const b of this.held.values()) n += b.length;
    return n;
  }

  private spawn(): Worker {
    // A failpoint kills the first worker only, so that the restarted one lives.
    const settings = this.restarts === 0 ? this.settings : { ...this.settings, exitOnBatch: undefined };
    const w = new Worker(WORKER_URL, { workerData: settings });
    w.on('message', (m: FromWorker) => this.receive(m));
    w.on('error', (e) => this.handlers.onWorkerError(e));
    w.on('exit', (code) => {
      if (this.closing) return;
      this.handlers.onWorkerError(new Error(`analysis worker exited with code ${code}; restarting it`));
      this.restarts++;
      this.worker = this.spawn();
      for (const [batch, requests] of this.held) this.post({ type: 'record', batch, requests });
      // Questions asked of the dead worker get no answer: answer them empty.
      for (const [q, resolve] of this.queries) {
        this.queries.delete(q);
        resolve({ type: 'linked', query: q });
      }
    });
    return w;
  }

  private post(m: ToWorker): void {
    this.worker.postMessage(m);
  }

  private receive(m: FromWorker): void {
    switch (m.type) {
      case 'recorded': {
        const requests = this.held.get(m.batch) ?? [];
        this.held.delete(m.batch);
        for (const f of m.failures) this.handlers.onFailure(f);
        this.handlers.onRecorded(m.rows, m.logs, requests);
        if (m.refusals.length > 0) this.handlers.onRefused?.(m.refusals);
        if (this.held.size === 0 && this.queued.length === 0) for (const d of this.drained.splice(0)) d();
        return;
      }
      case 'risk':
        this.handlers.onRisk(m.updates);
        return;
      case 'verdict':
      case 'linked': {
        const resolve = this.queries.get(m.query);
        this.queries.delete(m.query);
        resolve?.(m);
        return;
      }
    }
  }

  /**
   * Hands a finished request over. Requests go to the worker together, every few
   * milliseconds or every `MAX_BATCH`: a message per request would cost the proxy's thread
   * more than the copy does.
   */
  submit(f: HandedRequest): void {
    this.queued.push(f);
    if (this.queued.length >= MAX_BATCH) this.flush();
    else if (this.timer === null) this.timer = setTimeout(() => this.flush(), BATCH_WAIT_MS);
  }

  private flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.queued.length === 0) return;
    const requests = this.queued;
    this.queued = [];
    const batch = ++this.batch;
    this.held.set(batch, requests);
    this.post({ type: 'record', batch, requests });
  }

  private ask(m: ToWorker): Promise<FromWorker> {
    return new Promise((resolve) => {
      this.queries.set((m as { query: number }).query, resolve);
      this.post(m);
    });
  }

  /** The engine's verdict on an account, after everything handed over so far. */
  async verdictOf(accountId: string): Promise<VerdictAnswer> {
    this.flush();
    const m = await this.ask({ type: 'verdict', query: ++this.query, accountId });
    return m.type === 'verdict' ? { verdict: m.verdict, observed: m.observed } : { verdict: null, observed: 0 };
  }

  /** From now on, standings from this risk on are published (a worker started later too). */
  setPublishRisk(risk: number): void {
    this.settings = { ...this.settings, publishRisk: risk };
    this.post({ type: 'publish-risk', risk });
  }

  /** Runs linking now (tests, and operators who do not want to wait for the timer). */
  async link(): Promise<void> {
    this.flush();
    await this.ask({ type: 'link', query: ++this.query });
  }

  /** Resolves once every request handed over so far has come back analysed. */
  drain(): Promise<void> {
    this.flush();
    if (this.held.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  async close(): Promise<void> {
    await this.drain();
    this.closing = true;
    await this.worker.terminate();
  }
}
