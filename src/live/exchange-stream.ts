/**
 * The thin gateway's side of the live pipeline: every handed request (finished or refused)
 * is appended to its account's partition stream. The proxy computes nothing here; it
 * encodes and batches, a few milliseconds or `batchMax` requests at a time, and sends each
 * partition's share of a batch as ONE stream entry (see codec.ts): one XADD per partition
 * per flush, pipelined, so that Redis's own work per exchange is a fraction of a command.
 *
 * Nothing is lost when Redis stalls or goes away: a finished request is in the gateway's
 * write-ahead log (fsynced) before it is queued here, and is settled there only once Redis
 * has taken it. A batch Redis did not take goes back to the head of the queue and is sent
 * again after a pause; a gateway killed meanwhile sends what its log still holds when it
 * starts again. An exchange may so reach the stream twice; the store keeps one.
 *
 * Each partition stream is capped at about `maxLen` requests (`MAXLEN ~` in entries: `maxLen`
 * divided by the recent mean of requests per entry): a bound on Redis's memory when the
 * workers are away for long, sized to hours of traffic (see docs/scale-out.md).
 */
import { Redis } from 'ioredis';
import type { FinishedRequest, HandedRequest } from '../gateway/record.js';
import type { ExchangeAnalysis, VerdictAnswer } from '../gateway/analysis.js';
import type { WriteAheadLog } from '../gateway/wal.js';
import { encodeFrame, frameLsn } from '../gateway/record-frame.js';
import { FRAMES_FIELD } from './codec.js';
import { liveKeys, partitionOf, type LiveKeys } from './partition.js';

export interface ExchangeStreamOptions {
  redisUrl: string;
  partitions: number;
  /** Approximate cap on each partition stream, in requests (entries hold batches of them). */
  maxLen: number;
  keys?: LiveKeys;
  /** Finished requests are settled here once Redis holds them; null keeps them in memory only. */
  wal: WriteAheadLog | null;
  /** @default 512 */
  batchMax?: number;
  /**
   * Most time a request waits for its batch to fill. Off the request path (the client has
   * its answer, the write-ahead log has the request), and what Redis spends per request
   * falls with the requests per entry. With a write-ahead log, half its commit interval:
   * Redis then takes most requests before the log's group is due, and the log skips the
   * write and its fsync for them (an fsync costs more CPU than the extra XADDs). Without
   * one, 10 ms: tens of requests per entry at a few thousand requests per second.
   * @default half of `wal.commitIntervalMs` (10 ms without a log, or with a commit interval of 0)
   */
  flushMs?: number;
  /** Most entries kept in memory while Redis is away; beyond, only the write-ahead log has them. @default 200000 */
  maxQueue?: number;
  /** Told once per outage, and when Redis takes entries again. */
  onHealth?: (healthy: boolean, e?: Error) => void;
}

/**
 * The queue, as parallel arrays: per request its partition and its frame, whose lsn (0: not
 * in the log) says what to settle. No object per request beyond the frame itself, which the
 * write-ahead log holds too until its group is written.
 */
interface Queue {
  p: number[];
  frames: Buffer[];
}

const RETRY_MS = 250;
/** Most time Redis gets to answer a batch (or a PING) before it is taken for stalled. */
const ANSWER_MS = 2000;

/**
 * `p`, or a rejection once `ms` have passed. One timer per batch: ioredis's `commandTimeout`
 * would arm and clear one per command, hundreds per batch, on the proxy's event loop.
 */
function answeredWithin<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export class ExchangeStream implements ExchangeAnalysis {
  readonly writesAhead = true;
  private readonly redis: Redis;
  private readonly keys: LiveKeys;
  private queue: Queue = { p: [], frames: [] };
  private timer: NodeJS.Timeout | null = null;
  private sending: Promise<void> | null = null;
  private readonly batchMax: number;
  private readonly flushMs: number;
  private readonly maxQueue: number;
  private readonly drained: (() => void)[] = [];
  private closed = false;
  healthy = true;
  /** Requests Redis has taken. */
  sent = 0;
  /** Per partition, the recent mean of requests per entry: what turns `maxLen` (requests) into the entries' cap. */
  private readonly perEntry: number[];
  /** Requests beyond `maxQueue` while Redis was away: in the write-ahead log only, sent at the next start. */
  deferred = 0;

  constructor(private readonly opts: ExchangeStreamOptions) {
    this.keys = opts.keys ?? liveKeys();
    this.batchMax = opts.batchMax ?? 512;
    const commitMs = opts.wal?.commitIntervalMs ?? 0;
    this.flushMs = opts.flushMs ?? (commitMs > 0 ? Math.min(10, commitMs / 2) : 10);
    this.maxQueue = opts.maxQueue ?? 200_000;
    this.perEntry = new Array<number>(opts.partitions).fill(1);
    // No offline queue: a batch that cannot be sent now stays ours, to be sent again. No
    // command timeout either: each batch and each PING is given ANSWER_MS as a whole.
    this.redis = new Redis(opts.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 500, retryStrategy: (n) => Math.min(n * 100, 1000) });
    this.redis.on('error', () => {});
  }

  /** Entries handed over and not yet taken by Redis. */
  get backlog(): number {
    return this.queue.p.length;
  }

  submit(h: HandedRequest): void {
    const wal = this.opts.wal;
    if (this.queue.p.length >= this.maxQueue) {
      // Still written ahead: sent from the log at the next start.
      if (h.refusal === undefined) wal?.append(h);
      this.deferred++;
      return;
    }
    // A refusal of an unknown caller has no account: it goes to partition 0, for the log.
    const p = h.accountId === null ? 0 : partitionOf(h.accountId, this.opts.partitions);
    // Encoded once, as bytes: the same frame goes to the log and, in its entry, to Redis.
    const frame = encodeFrame(h);
    if (h.refusal === undefined && wal !== null) wal.appendFrame(frame, null);
    this.queue.p.push(p);
    this.queue.frames.push(frame);
    if (this.sending !== null) return;
    if (this.queue.p.length >= this.batchMax) this.send();
    else if (this.timer === null) this.timer = setTimeout(() => this.send(), this.flushMs);
  }

  /** A request the write-ahead log handed back at start: sent again, not logged again. */
  resend(f: FinishedRequest): void {
    const frame = encodeFrame(f);
    const lsn = this.opts.wal?.lsnOfId(f.id);
    if (lsn !== undefined) frame.writeDoubleLE(lsn, 4);
    this.queue.p.push(partitionOf(f.accountId, this.opts.partitions));
    this.queue.frames.push(frame);
    this.send();
  }

  private send(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.sending !== null || this.queue.p.length === 0) return;
    const batch: Queue = { p: this.queue.p.splice(0, this.batchMax), frames: this.queue.frames.splice(0, this.batchMax) };
    this.sending = this.write(batch).then(
      () => {
        this.sending = null;
        if (this.queue.p.length > 0) this.send();
        else for (const d of this.drained.splice(0)) d();
      },
      (e: unknown) => {
        // Back to the head, in order; tried again after a pause.
        this.queue = { p: batch.p.concat(this.queue.p), frames: batch.frames.concat(this.queue.frames) };
        if (this.healthy) this.opts.onHealth?.(false, e as Error);
        this.healthy = false;
        this.retryWhenAnswered();
      },
    );
  }

  /**
   * A batch that timed out may still be in Redis's socket buffer (a stall, not an outage)
   * and be applied when Redis wakes: sent again only once Redis answers a PING, so that a
   * stall adds one duplicate at most, not one per timeout. The store keeps one copy.
   */
  private retryWhenAnswered(): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.closed) return;
      answeredWithin(this.redis.ping(), ANSWER_MS, 'a PING').then(
        () => {
          this.sending = null;
          this.send();
        },
        () => this.retryWhenAnswered(),
      );
    }, RETRY_MS);
  }

  private async write(batch: Queue): Promise<void> {
    // One entry per partition, its requests' frames end to end in the order they finished.
    const frames = new Map<number, Buffer[]>();
    for (let i = 0; i < batch.p.length; i++) {
      const t = frames.get(batch.p[i]!);
      if (t === undefined) frames.set(batch.p[i]!, [batch.frames[i]!]);
      else t.push(batch.frames[i]!);
    }
    // Plain commands, not a pipeline object: ioredis writes the commands of one tick together
    // all the same, and building a Pipeline (its promise, its copy of the client's commands)
    // cost more than the XADDs it carried.
    const added: Promise<unknown>[] = [];
    for (const [p, t] of frames) {
      const mean = (this.perEntry[p] = this.perEntry[p]! * 0.9 + t.length * 0.1);
      const cap = String(Math.max(1, Math.ceil(this.opts.maxLen / mean)));
      added.push(this.redis.xadd(this.keys.input(p), 'MAXLEN', '~', cap, '*', FRAMES_FIELD, t.length === 1 ? t[0]! : Buffer.concat(t)));
    }
    await answeredWithin(added.length === 1 ? added[0]! : Promise.all(added), ANSWER_MS, `a batch of ${batch.p.length} requests`);
    this.sent += batch.p.length;
    if (!this.healthy) this.opts.onHealth?.(true);
    this.healthy = true;
    const wal = this.opts.wal;
    if (wal) {
      const lsns: number[] = [];
      for (const f of batch.frames) {
        const lsn = frameLsn(f);
        if (lsn !== 0) lsns.push(lsn);
      }
      wal.settleLsns(lsns);
    }
  }

  /** Resolves once Redis holds everything handed over so far (or never, while it is away: callers bound it). */
  drain(): Promise<void> {
    this.send();
    if (this.queue.p.length === 0 && this.sending === null) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  /** A thin gateway runs no engine: standings come from the linker through the shared state. */
  async verdictOf(): Promise<VerdictAnswer> {
    return { verdict: null, observed: 0 };
  }

  setPublishRisk(): void {}

  async link(): Promise<void> {}

  /** Sends what is queued, waiting at most `ms` for Redis; the write-ahead log keeps the rest. */
  async close(ms = 5000): Promise<void> {
    await Promise.race([this.drain(), new Promise((r) => setTimeout(r, ms).unref())]);
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.redis.disconnect();
  }
}
