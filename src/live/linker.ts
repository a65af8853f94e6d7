/**
 * The linker (`distillwatch linker`): one process reads every partition's feature stream,
 * stores the rows, runs the detection engine over them and pushes what linking concludes
 * (risk, campaign, flags) to every gateway through the shared state, the same push a
 * single-process gateway's analysis uses.
 *
 * The whole engine runs here, fed with the rows the workers computed in parallel: linking
 * needs every account at once, and the engine's account book and campaign registry are not
 * yet split from it at a seam a worker could hold (see docs/scale-out.md).
 *
 * A batch is acknowledged (XACK) only after the store has committed it. The store ignores
 * ids it already holds, so an entry read twice (a worker's batch computed again after it was
 * claimed, or this linker restarted before its XACK) is stored once; the engine is fed an
 * id once too, from a window of recent ids. A restarted linker replays the store into the
 * engine before it reads on.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ExchangeFeatures } from '../core/features.js';
import type { DetectorParams } from '../detect/params.js';
import { columnsOfRows } from '../store/column-batch.js';
import type { Store } from '../store/store.js';
import { OnlineDetector, type RiskUpdate } from '../gateway/online.js';
import type { GatewayState } from '../gateway/state.js';
import { liveKeys, type LiveKeys } from './partition.js';

export interface LinkerOptions {
  redisUrl: string;
  partitions: number;
  prefix?: string;
  store: Store;
  /** Where standings are published (a RedisState on the same prefix, in production). */
  state: GatewayState;
  logger: Logger;
  linkIntervalMs: number;
  publishRisk: number;
  params?: Partial<DetectorParams>;
  /** @default 2000 */
  batch?: number;
}

type StreamReply = [key: string, entries: [id: string, fields: string[] | null][]][] | null;

const SOURCE = { key: 'linker', path: 'linker' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The ids seen lately, in two generations: bounded memory, and a duplicate arrives soon after its first. */
class RecentIds {
  private current = new Set<string>();
  private previous = new Set<string>();
  constructor(private readonly half: number) {}
  /** True the first time an id is added within the window. */
  add(id: string): boolean {
    if (this.current.has(id) || this.previous.has(id)) return false;
    if (this.current.size >= this.half) {
      this.previous = this.current;
      this.current = new Set();
    }
    this.current.add(id);
    return true;
  }
}

export class LiveLinker {
  private readonly reader: Redis;
  private readonly redis: Redis;
  private readonly keys: LiveKeys;
  readonly online: OnlineDetector;
  private readonly recent = new RecentIds(500_000);
  private line = 0;
  private stopping = false;
  private loop: Promise<void> | null = null;
  /** Feature streams whose pending entries (read before a restart, never acknowledged) come first. */
  private readonly backlog = new Set<number>();
  /** Rows the store took as new. */
  stored = 0;
  /** Rows whose id the store already held. */
  duplicates = 0;

  constructor(private readonly opts: LinkerOptions) {
    this.keys = liveKeys(opts.prefix);
    const retryStrategy = (n: number) => Math.min(n * 100, 1000);
    this.reader = new Redis(opts.redisUrl, { maxRetriesPerRequest: 1, retryStrategy });
    this.redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: 1, retryStrategy });
    this.reader.on('error', () => {});
    this.redis.on('error', () => {});
    this.online = new OnlineDetector({
      linkIntervalMs: opts.linkIntervalMs,
      publishRisk: opts.publishRisk,
      ...(opts.params ? { params: opts.params } : {}),
      publish: (updates) => this.publish(updates),
    });
  }

  private publish(updates: RiskUpdate[]): void {
    for (const u of updates) {
      this.opts.state.setRisk(u.accountId, u.risk, u.campaignId).catch((e: unknown) => this.opts.logger.warn({ err: (e as Error).message }, 'cannot publish risk'));
      if (u.flag) this.opts.logger.warn({ account: u.accountId, campaign: u.flag.campaignId, reason: u.flag.reason }, 'account flagged');
    }
  }

  async start(): Promise<void> {
    for (let p = 0; p < this.opts.partitions; p++) {
      try {
        await this.redis.xgroup('CREATE', this.keys.features(p), this.keys.linkerGroup, '0', 'MKSTREAM');
      } catch (e) {
        if (!String((e as Error).message).includes('BUSYGROUP')) throw e;
      }
      this.backlog.add(p);
    }
    // What a previous linker stored is the engine's memory: fed again, in event-time order.
    let replayed = 0;
    for await (const rows of this.opts.store.replay()) {
      for (const r of rows) {
        this.recent.add(r.id);
        this.online.observe(r);
      }
      replayed += rows.length;
    }
    this.line = (await this.opts.store.checkpoint(SOURCE))?.line ?? 0;
    if (replayed > 0) this.opts.logger.info({ exchanges: replayed }, 'store replayed into the engine');
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const all = Array.from({ length: this.opts.partitions }, (_, p) => p);
    const keys = all.map((p) => this.keys.features(p));
    while (!this.stopping) {
      const ids = all.map((p) => (this.backlog.has(p) ? '0' : '>'));
      let reply: StreamReply;
      try {
        reply = (await this.reader.xreadgroup('GROUP', this.keys.linkerGroup, 'linker', 'COUNT', this.opts.batch ?? 2000, 'BLOCK', 200, 'STREAMS', ...keys, ...ids)) as StreamReply;
      } catch (e) {
        if (!this.stopping) this.opts.logger.warn({ err: (e as Error).message }, 'cannot read the feature streams: will try again');
        await sleep(200);
        continue;
      }
      for (const p of all) if (this.backlog.has(p) && !reply?.some(([k, entries]) => k === keys[p] && entries.length > 0)) this.backlog.delete(p);
      if (reply === null) continue;
      for (const [key, entries] of reply) {
        if (entries.length === 0) continue;
        const p = keys.indexOf(key);
        try {
          await this.take(key, entries);
        } catch (e) {
          this.backlog.add(p);
          this.opts.logger.error({ err: (e as Error).message, partition: p }, 'cannot store feature rows: will try again');
          await sleep(500);
        }
      }
    }
  }

  /** Stores a batch, acknowledges it once stored, then feeds the engine the rows it has not seen. */
  private async take(key: string, entries: [string, string[] | null][]): Promise<void> {
    const rows: ExchangeFeatures[] = [];
    const inBatch = new Set<string>();
    for (const [, fields] of entries) {
      const text = fields === null ? undefined : fields[fields.indexOf('r') + 1];
      if (text === undefined) continue;
      const row = JSON.parse(text) as ExchangeFeatures;
      // The same exchange twice in one batch (handed on twice by workers): one copy goes in.
      if (inBatch.has(row.id)) continue;
      inBatch.add(row.id);
      rows.push(row);
    }
    // The workers checked each row against the columns before they handed it on (encodeExchange).
    const cols = columnsOfRows(rows);
    if (!cols.ok) throw new Error(cols.problem);
    const line = this.line + rows.length;
    const outcome = await this.opts.store.appendColumns(cols.columns, [], { source: SOURCE, line, done: false });
    this.line = line;
    this.stored += outcome.inserted;
    this.duplicates += outcome.duplicates + (entries.length - rows.length);
    await this.redis.xack(key, this.keys.linkerGroup, ...entries.map(([id]) => id));
    for (const row of rows) if (this.recent.add(row.id)) this.online.observe(row);
  }

  /** Runs linking now (tests, and an operator who will not wait for the timer). */
  link(): void {
    this.online.link();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
    this.online.close();
    this.reader.disconnect();
    this.redis.disconnect();
  }
}
