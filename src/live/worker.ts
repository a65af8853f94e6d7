/**
 * A detection worker (`distillwatch worker`): holds some of the partition streams (see
 * leases.ts), reads them in the `workers` consumer group, turns each finished request into
 * its canonical exchange and feature row, and hands the rows to the linker on the
 * partition's feature stream.
 *
 * The hand-over is one MULTI/EXEC: the rows' XADD to the feature stream and the XACK of the
 * entries they came from commit together, so an entry is acknowledged exactly when its row
 * is in Redis. A worker killed before EXEC leaves its entries pending; whoever takes the
 * partition next claims them (XAUTOCLAIM) and computes them again. The linker's store keeps
 * one row per exchange id, whatever reaches it twice.
 *
 * Per account, a worker keeps its request count in the shared state (one INCRBY per account
 * per batch, which a thin gateway no longer sends per request). The features are the heavy
 * part of detection and run here, in parallel over the workers; linking needs every
 * account at once and runs in the one linker.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { recordExchange, recordRefusal, type RecordOptions } from '../gateway/record.js';
import { encodeExchange } from '../store/exchange-columns.js';
import { entryRequests } from './codec.js';
import { PartitionLeases } from './leases.js';
import { liveKeys, type LiveKeys } from './partition.js';

export interface WorkerOptions {
  redisUrl: string;
  partitions: number;
  /** Unique among the workers: the consumer name and the lease holder. */
  name: string;
  prefix?: string;
  record: RecordOptions;
  logger: Logger;
  /** How long a partition stays held without renewal: how soon a dead worker's partitions move. @default 3000 */
  leaseMs?: number;
  /** Requests read and handed on per transaction (entries hold batches: read by their fill). @default 256 */
  batch?: number;
}

/** Read as Buffers: a gateway's entries hold binary frames (see codec.ts). */
type StreamReply = [key: Buffer, entries: [id: Buffer, fields: Buffer[] | null][]][] | null;

const BLOCK_MS = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class DetectionWorker {
  private readonly redis: Redis;
  /** Blocking reads get their own connection, so that leases are renewed while one waits. */
  private readonly reader: Redis;
  private readonly keys: LiveKeys;
  private readonly leases: PartitionLeases;
  private readonly leaseMs: number;
  private readonly batch: number;
  /** Partitions whose pending entries (ours, or claimed) are read before new ones. */
  private readonly backlog = new Set<number>();
  private stopping = false;
  private loop: Promise<void> | null = null;
  private balancer: NodeJS.Timeout | null = null;
  private balancing: Promise<void> = Promise.resolve();
  /** Entries read per XREADGROUP: about `batch` requests, from the last entries' fill. */
  private readCount: number;
  /** Handed requests read from the entries and handed on (as rows, or as a refusal's log line). */
  handed = 0;
  /** Entries, or requests in them, that held nothing readable (or were trimmed away before being read). */
  unreadable = 0;

  constructor(private readonly opts: WorkerOptions) {
    this.keys = liveKeys(opts.prefix);
    this.leaseMs = opts.leaseMs ?? 3000;
    this.batch = opts.batch ?? 256;
    this.readCount = this.batch;
    const retryStrategy = (n: number) => Math.min(n * 100, 1000);
    this.redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: 1, retryStrategy });
    this.reader = new Redis(opts.redisUrl, { maxRetriesPerRequest: 1, retryStrategy });
    this.redis.on('error', () => {});
    this.reader.on('error', () => {});
    this.leases = new PartitionLeases(this.redis, this.keys, opts.partitions, opts.name, this.leaseMs);
  }

  get owned(): ReadonlySet<number> {
    return this.leases.owned;
  }

  async start(): Promise<void> {
    await this.balance();
    this.balancer = setInterval(() => void this.balance(), Math.max(50, Math.floor(this.leaseMs / 3)));
    this.loop = this.run();
  }

  private balance(): Promise<void> {
    this.balancing = this.balancing.then(async () => {
      if (this.stopping) return;
      try {
        const change = await this.leases.balance();
        for (const p of change.gained) await this.take(p);
        for (const p of change.lost) this.backlog.delete(p);
        if (change.gained.length + change.lost.length > 0) this.opts.logger.info({ worker: this.opts.name, gained: change.gained, lost: change.lost, partitions: [...this.owned] }, 'partitions moved');
      } catch (e) {
        this.opts.logger.warn({ err: (e as Error).message }, 'cannot renew partition leases: will try again');
      }
    });
    return this.balancing;
  }

  /** A partition just taken: its group exists, and every entry still pending in it is now ours. */
  private async take(p: number): Promise<void> {
    const key = this.keys.input(p);
    try {
      await this.redis.xgroup('CREATE', key, this.keys.workerGroup, '0', 'MKSTREAM');
    } catch (e) {
      if (!String((e as Error).message).includes('BUSYGROUP')) throw e;
    }
    let cursor = '0-0';
    do {
      const r = (await this.redis.xautoclaim(key, this.keys.workerGroup, this.opts.name, 0, cursor, 'COUNT', 1000, 'JUSTID')) as [string, string[], string[]?];
      cursor = r[0];
    } while (cursor !== '0-0');
    this.backlog.add(p);
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      const owned = [...this.owned];
      if (owned.length === 0) {
        await sleep(100);
        continue;
      }
      const keys = owned.map((p) => this.keys.input(p));
      const ids = owned.map((p) => (this.backlog.has(p) ? '0' : '>'));
      let reply: StreamReply;
      try {
        reply = (await this.reader.callBuffer('XREADGROUP', 'GROUP', this.keys.workerGroup, this.opts.name, 'COUNT', this.readCount, 'BLOCK', BLOCK_MS, 'STREAMS', ...keys, ...ids)) as StreamReply;
      } catch (e) {
        if (!this.stopping) this.opts.logger.warn({ err: (e as Error).message }, 'cannot read the exchange streams: will try again');
        await sleep(200);
        continue;
      }
      for (const p of owned) if (this.backlog.has(p) && !reply?.some(([k, entries]) => k.toString() === this.keys.input(p) && entries.length > 0)) this.backlog.delete(p);
      if (reply === null) continue;
      for (const [key, entries] of reply) {
        if (entries.length === 0) continue;
        const p = owned[keys.indexOf(key.toString())]!;
        try {
          await this.hand(p, entries);
        } catch (e) {
          // Left pending, read again from the start of our pending entries.
          this.backlog.add(p);
          this.opts.logger.warn({ err: (e as Error).message, partition: p }, 'cannot hand rows to the linker: will try again');
          await sleep(200);
        }
      }
    }
  }

  /** Computes the rows of some entries of partition `p` and hands them on, acknowledging the entries in the same transaction. */
  private async hand(p: number, entries: [Buffer, Buffer[] | null][]): Promise<void> {
    const rows: string[] = [];
    let exchanges = 0;
    const counts = new Map<string, number>();
    const log = this.opts.logger;
    for (const [, fields] of entries) {
      const requests = entryRequests(fields);
      if (requests === null) {
        this.unreadable++;
        continue;
      }
      for (const h of requests) {
        if (h === null) {
          this.unreadable++;
          continue;
        }
        if (h.refusal !== undefined) {
          if (log.isLevelEnabled('info')) log.info(recordRefusal(h, this.opts.record), 'request refused');
          continue;
        }
        counts.set(h.accountId, (counts.get(h.accountId) ?? 0) + 1);
        const r = recordExchange(h, this.opts.record);
        if (r === null) continue;
        if (!r.ok) {
          log.warn({ id: h.id, account: h.accountId, err: r.error }, 'exchange not mapped');
          continue;
        }
        const encoded = encodeExchange(r.value.features, 0);
        if (typeof encoded !== 'string') {
          log.warn({ id: h.id, account: h.accountId, err: encoded.problem }, 'exchange not stored');
          continue;
        }
        rows.push(encoded);
        if (log.isLevelEnabled('info')) log.info(r.value.log, 'exchange');
      }
      exchanges += requests.length;
    }
    const m = this.redis.multi();
    const fkey = this.keys.features(p);
    for (const row of rows) m.xadd(fkey, '*', 'r', row);
    m.xack(this.keys.input(p), this.keys.workerGroup, ...entries.map(([id]) => id.toString()));
    const replies = await m.exec();
    const failed = replies?.find(([e]) => e !== null);
    if (replies === null || failed !== undefined) throw failed?.[0] ?? new Error('the transaction was discarded');
    this.handed += exchanges;
    // An entry holds a gateway's flush for the partition (one to hundreds of requests): read
    // about `batch` requests at a time, not `batch` entries, so that one transaction stays
    // bounded however full the entries are.
    const perEntry = exchanges / entries.length;
    this.readCount = Math.max(1, Math.min(this.batch, Math.round(this.batch / Math.max(1, perEntry))));
    // Outside the transaction: on Redis Cluster the counters live on other nodes, and a count
    // lost to a crash here is a counter off by a batch, not an exchange lost.
    if (counts.size > 0) {
      const c = this.redis.pipeline();
      for (const [account, n] of counts) c.incrby(`${this.opts.prefix ?? 'dw:'}count:${account}`, n);
      await c.exec().catch(() => undefined);
    }
  }

  /** Finishes the batch in hand, lets go of its partitions (others take them at once) and disconnects. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.balancer) clearInterval(this.balancer);
    await this.balancing;
    await this.loop;
    await this.leases.releaseAll().catch(() => undefined);
    this.reader.disconnect();
    this.redis.disconnect();
  }
}
