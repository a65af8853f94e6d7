/** Prometheus metrics of one gateway replica, on its own registry (tests run several). */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Counts by label values in plain numbers, handed to a prom-client counter when the registry
 * is read. prom-client's labelled `inc()` (a child from `labels()` included) hashes and checks
 * the labels on every call: a cost on each proxied request, where a scrape comes every few
 * seconds.
 */
class Tally<L extends string> {
  private readonly counts = new Map<string, { labels: Partial<Record<L, string | number>>; n: number; published: number }>();

  /** Adds one under `key`; `labels` (the same for a key, always) is read the first time only. */
  add(key: string, labels: () => Partial<Record<L, string | number>>): void {
    const c = this.counts.get(key);
    if (c !== undefined) c.n++;
    else this.counts.set(key, { labels: labels(), n: 1, published: 0 });
  }

  /** Hands what was counted since the last read to `counter`. */
  publish(counter: Counter<L>): void {
    for (const c of this.counts.values()) {
      if (c.n === c.published) continue;
      counter.inc(c.labels, c.n - c.published);
      c.published = c.n;
    }
  }
}

/**
 * A histogram without labels that counts in plain numbers, and is read as prom-client prints
 * a Histogram. prom-client's `observe()` converts, validates and hashes its (empty) labels
 * on every call: a cost on each proxied request, where a scrape comes every few seconds.
 * Observe through `add`; the inherited `observe` is not counted here.
 */
class PlainHistogram extends Histogram {
  private readonly bounds: readonly number[];
  /** Observations per bucket (not cumulative); beyond the last bound only in `count`. */
  private readonly perBucket: number[];
  private sum = 0;
  private count = 0;

  constructor(private readonly config: { name: string; help: string; buckets: number[]; registers: Registry[] }) {
    super(config);
    this.bounds = config.buckets;
    this.perBucket = new Array<number>(config.buckets.length).fill(0);
  }

  add(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    if (i < bounds.length) this.perBucket[i]! += 1;
    this.sum += value;
    this.count++;
  }

  override async get(): ReturnType<Histogram['get']> {
    const name = this.config.name;
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    let acc = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      acc += this.perBucket[i]!;
      values.push({ labels: { le: this.bounds[i]! }, value: acc, metricName: `${name}_bucket` });
    }
    values.push({ labels: { le: '+Inf' }, value: this.count, metricName: `${name}_bucket` });
    values.push({ labels: {}, value: this.sum, metricName: `${name}_sum` });
    values.push({ labels: {}, value: this.count, metricName: `${name}_count` });
    // As prom-client's Histogram gives it (its own `get` would read back through `getForPromString`).
    return { name, help: this.config.help, type: 'histogram', aggregator: 'sum', values } as unknown as Awaited<ReturnType<Histogram['get']>>;
  }

  /** What the registry prints from (it prefers this to `get` when present). */
  getForPromString(): ReturnType<Histogram['get']> {
    return this.get();
  }

  override reset(): void {
    super.reset();
    // prom-client's constructor calls reset() before this class's fields exist.
    if ((this.perBucket as number[] | undefined) === undefined) return;
    this.perBucket.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly requestTally = new Tally<'api' | 'status'>();
  private readonly actionTally = new Tally<'action'>();
  readonly requests: Counter<'api' | 'status'> = new Counter({
    name: 'distillwatch_gateway_requests_total',
    help: 'Requests by API and response status',
    labelNames: ['api', 'status'] as const,
    registers: [this.registry],
    collect: () => this.requestTally.publish(this.requests),
  });
  readonly actions: Counter<'action'> = new Counter({
    name: 'distillwatch_gateway_actions_total',
    help: 'Policy actions taken',
    labelNames: ['action'] as const,
    registers: [this.registry],
    collect: () => this.actionTally.publish(this.actions),
  });

  /** One request answered: `requests` by API and status, counted cheaply (see Tally). */
  countRequest(api: string, status: number): void {
    this.requestTally.add(api + ' ' + status, () => ({ api, status }));
  }

  /** One policy action taken (see Tally). */
  countAction(action: string): void {
    this.actionTally.add(action, () => ({ action }));
  }

  readonly shadowActions = new Counter({ name: 'distillwatch_gateway_shadow_actions_total', help: 'Actions the policy would have taken in shadow mode, not enforced', labelNames: ['action'] as const, registers: [this.registry] });
  readonly addedLatency = new PlainHistogram({
    name: 'distillwatch_gateway_added_latency_seconds',
    help: 'Time the gateway adds: from request received to upstream dispatch, plus from upstream headers to client headers',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({ name: 'distillwatch_gateway_log_queue_depth', help: 'Exchanges waiting for the store', registers: [this.registry] });
  readonly analysisBacklog = new Gauge({ name: 'distillwatch_gateway_analysis_backlog', help: 'Finished requests handed to the analysis worker and not yet analysed', registers: [this.registry] });
  readonly spooled = new Gauge({ name: 'distillwatch_gateway_log_spooled', help: 'Exchanges spooled to disk waiting for the store', registers: [this.registry] });
  readonly redisUp = new Gauge({ name: 'distillwatch_gateway_redis_up', help: '1 when the shared state (Redis) is reachable, 0 when serving on local state; absent when single-node', registers: [this.registry] });
  readonly streamsCut = new Counter({ name: 'distillwatch_gateway_streams_cut_total', help: 'In-flight streams ended because their account was blocked', registers: [this.registry] });
  constructor() {
    // The process's own figures (CPU, memory, GC, event-loop delay): a slow event loop is
    // what turns into added latency, so it is watched beside it, sampled every millisecond
    // (the figures include that millisecond).
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 1 });
  }
  readonly logWritable = new Gauge({ name: 'distillwatch_gateway_log_writable', help: '1 when exchanges reach the disk (write-ahead log and spool), 0 while a write fails (full disk)', registers: [this.registry] });
  readonly unlogged = new Gauge({ name: 'distillwatch_gateway_exchanges_unlogged', help: 'Exchanges whose write-ahead log write failed since start: kept in memory, lost on a crash', registers: [this.registry] });
  readonly dropped = new Gauge({ name: 'distillwatch_gateway_exchanges_dropped', help: 'Exchanges that neither the store, the spool nor the queue could take since start', registers: [this.registry] });
  readonly walUnsettled = new Gauge({ name: 'distillwatch_gateway_wal_unsettled', help: 'Exchanges in the write-ahead log not yet held by the store', registers: [this.registry] });
  readonly walUnwritten = new Counter({ name: 'distillwatch_gateway_wal_unwritten_total', help: 'Exchanges settled before their write-ahead log group was due (Redis or the store held them first), never written to the disk', registers: [this.registry] });
  readonly walWritten = new Counter({ name: 'distillwatch_gateway_wal_written_total', help: 'Exchanges written to the write-ahead log and fsynced', registers: [this.registry] });
  readonly walFsyncs = new Counter({ name: 'distillwatch_gateway_wal_fsyncs_total', help: 'Groups written to the write-ahead log, each one write and one fsync', registers: [this.registry] });

  /** Brings the log's counters up to its own totals (read at each scrape: the log counts in plain numbers). */
  publishWal(wal: { readonly unwritten: number; readonly committed: number; readonly groups: number }): void {
    const to = (c: Counter, total: number) => {
      const gap = total - this.published.get(c)!;
      if (gap > 0) c.inc(gap);
      this.published.set(c, total);
    };
    to(this.walUnwritten, wal.unwritten);
    to(this.walWritten, wal.committed);
    to(this.walFsyncs, wal.groups);
  }

  private readonly published = new Map<Counter, number>([
    [this.walUnwritten, 0],
    [this.walWritten, 0],
    [this.walFsyncs, 0],
  ]);
  /** From a request's handing over to the stream (its client answered) to Redis's reply: what decides whether the write-ahead log must write it. */
  readonly streamTaken = new PlainHistogram({
    name: 'distillwatch_gateway_stream_taken_seconds',
    help: 'Time from a finished request handed to the exchange streams to Redis holding it (thin replica)',
    buckets: [0.0005, 0.001, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.025, 0.1, 1],
    registers: [this.registry],
  });
  readonly streamRoundTrip = new PlainHistogram({
    name: 'distillwatch_gateway_stream_round_trip_seconds',
    help: 'Time from a batch of XADDs written to Redis to its last reply read (thin replica)',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.1, 1],
    registers: [this.registry],
  });
  readonly shutdownCuts = new Counter({ name: 'distillwatch_gateway_shutdown_cuts_total', help: 'Requests still in flight when the drain deadline passed, ended with an error', registers: [this.registry] });
  readonly connectionsRefused = new Counter({ name: 'distillwatch_gateway_connections_refused_total', help: 'Connections closed at once because their client already held connections.maxPerClient', registers: [this.registry] });
  readonly clientAborts = new Counter({ name: 'distillwatch_gateway_client_aborts_total', help: 'Requests the client abandoned before the response ended', registers: [this.registry] });
}
