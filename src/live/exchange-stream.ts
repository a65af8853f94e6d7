/**
 * The thin gateway's side of the live pipeline: every handed request (finished or refused)
 * is appended to its account's partition stream. The proxy computes nothing here; it
 * encodes and batches, a few milliseconds or `batchMax` requests at a time, and sends each
 * partition's share of a batch as ONE stream entry (see codec.ts): one XADD per partition
 * per flush, pipelined, so that Redis's own work per exchange is a fraction of a command.
 *
 * Nothing is lost when Redis stalls or goes away: a finished request is appended to the
 * gateway's write-ahead log before it is queued here, and is settled there only once Redis
 * has taken it. The log writes and fsyncs it unless, within the commit interval, this
 * stream has handed it to Redis (its XADD whole in the kernel's socket buffer: a kill -9 of
 * the gateway no longer loses it) and Redis answers within the log's `redisAnswerMs`. A batch Redis did not take goes back to the head of the queue and is sent
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
   * falls with the requests per entry. With a write-ahead log, its commit interval: each
   * request is handed to Redis by the time the log's interval for it is up (the log's timer,
   * set before this one, offers what is due to `send` first, see `setHandOver`), and the log
   * skips the write and its fsync for it. Half the interval handed requests over sooner and
   * cost the proxy a quarter more CPU per request for it (`npm run bench:handover`: 8.2
   * against 11.1 µs at 14,000 requests a second, Redis's included).
   * Without a log, 10 ms: tens of requests per entry at a few thousand requests per second.
   * @default `wal.commitIntervalMs`, at most 10 (10 ms without a log, or with a commit interval of 0)
   */
  flushMs?: number;
  /** Most entries kept in memory while Redis is away; beyond, only the write-ahead log has them. @default 200000 */
  maxQueue?: number;
  /** Told once per outage, and when Redis takes entries again. */
  onHealth?: (healthy: boolean, e?: Error) => void;
  /** Told how long Redis took, for the gateway's /metrics. */
  timing?: StreamTiming;
}

/** Where the stream reports its delays (histograms on /metrics), in seconds. */
export interface StreamTiming {
  /** Per request Redis took: from its handing over (the client answered) to Redis's reply. */
  taken(seconds: number): void;
  /** Per batch: from its XADDs' writing to Redis's reply to the last of them. */
  roundTrip(seconds: number): void;
}

/**
 * The queue, as parallel arrays: per request its partition and its frame, whose lsn (0: not
 * in the log) says what to settle. No object per request beyond the frame itself, which the
 * write-ahead log holds too until its group is written.
 */
interface Queue {
  p: number[];
  frames: Buffer[];
  /** When each request was handed over (performance.now()). */
  at: number[];
}

const RETRY_MS = 250;
/**
 * Most batches written to Redis and not yet answered: 40 ms of flushes at 2.5 ms, enough
 * that a batch does not wait for the ones before while Redis waits for a core on a busy
 * machine; few enough that a stalled Redis holds a few batches (each sent again after the
 * stall, a duplicate the store drops), not every flush of its stall (the rest wait in the
 * queue and the write-ahead log).
 */
const MAX_IN_FLIGHT = 16;
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
  private queue: Queue = { p: [], frames: [], at: [] };
  private timer: NodeJS.Timeout | null = null;
  /** Batches written to Redis and not yet answered. */
  private inFlight = 0;
  /** Batches Redis did not take during an outage, kept until every batch in flight is answered or failed. */
  private failed: { seq: number; batch: Queue }[] = [];
  /** Set by a failed batch: nothing is sent until Redis answers a PING again. */
  private retrying = false;
  private seq = 0;
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
    this.flushMs = opts.flushMs ?? (commitMs > 0 ? Math.min(10, commitMs) : 10);
    this.maxQueue = opts.maxQueue ?? 200_000;
    this.perEntry = new Array<number>(opts.partitions).fill(1);
    // No offline queue: a batch that cannot be sent now stays ours, to be sent again. No
    // command timeout either: each batch and each PING is given ANSWER_MS as a whole.
    this.redis = new Redis(opts.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 500, retryStrategy: (n) => Math.min(n * 100, 1000) });
    this.redis.on('error', () => {});
    // A record due in the log before this stream's flush timer ran (a busy loop) is sent at
    // once rather than written.
    opts.wal?.setHandOver(() => this.send());
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
    this.queue.at.push(performance.now());
    if (this.retrying) return;
    if (this.queue.p.length >= this.batchMax) this.send();
    else if (this.timer === null) this.timer = setTimeout(this.flush, this.flushMs);
  }

  private readonly flush = (): void => {
    this.timer = null;
    this.send();
  };

  /** A request the write-ahead log handed back at start: sent again, not logged again. */
  resend(f: FinishedRequest): void {
    const frame = encodeFrame(f);
    const lsn = this.opts.wal?.lsnOfId(f.id);
    if (lsn !== undefined) frame.writeDoubleLE(lsn, 4);
    this.queue.p.push(partitionOf(f.accountId, this.opts.partitions));
    this.queue.frames.push(frame);
    this.queue.at.push(performance.now());
    this.send();
  }

  /**
   * Sends the head of the queue as one batch. Batches are pipelined, up to MAX_IN_FLIGHT
   * of them: a batch does not wait for the one before to be answered, so that each request
   * reaches Redis's socket within `flushMs` of its finish, however slowly the event loop
   * gets to read the replies (on a replica busy with requests, that is what took longest).
   */
  private send(): void {
    // During an outage the timer is the retry's (retryWhenAnswered): left alone.
    if (this.retrying) return;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.inFlight >= MAX_IN_FLIGHT || this.queue.p.length === 0) return;
    const n = this.batchMax;
    const batch: Queue = { p: this.queue.p.splice(0, n), frames: this.queue.frames.splice(0, n), at: this.queue.at.splice(0, n) };
    const seq = this.seq++;
    this.inFlight++;
    this.write(batch).then(
      () => {
        this.inFlight--;
        this.answered();
      },
      (e: unknown) => {
        this.inFlight--;
        this.failed.push({ seq, batch });
        if (this.healthy) this.opts.onHealth?.(false, e as Error);
        this.healthy = false;
        this.retrying = true;
        this.answered();
      },
    );
    // A full batch more (a backlog after an outage, a burst) goes at once; a remainder waits
    // for the next answer, which sends it.
    if (this.queue.p.length >= this.batchMax) this.send();
  }

  /** A batch was answered (or failed): what waited goes next, or the outage's batches go back. */
  private answered(): void {
    if (this.retrying) {
      if (this.inFlight > 0) return;
      // Every batch of the outage is back: to the head, in the order they were sent.
      const back = this.failed.sort((a, b) => a.seq - b.seq);
      this.failed = [];
      this.queue = {
        p: back.flatMap((f) => f.batch.p).concat(this.queue.p),
        frames: back.flatMap((f) => f.batch.frames).concat(this.queue.frames),
        at: back.flatMap((f) => f.batch.at).concat(this.queue.at),
      };
      this.retryWhenAnswered();
      return;
    }
    // What queued while every slot was taken has waited already; what has a timer waits for it.
    if (this.queue.p.length > 0 && (this.timer === null || this.queue.p.length >= this.batchMax)) this.send();
    else if (this.queue.p.length === 0 && this.inFlight === 0) for (const d of this.drained.splice(0)) d();
  }

  /**
   * A batch that timed out may still be in Redis's socket buffer (a stall, not an outage)
   * and be applied when Redis wakes: sent again only once Redis answers a PING, so that a
   * stall adds one duplicate at most, not one per timeout. The store keeps one copy.
   */
  private retryWhenAnswered(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.closed) return;
      answeredWithin(this.redis.ping(), ANSWER_MS, 'a PING').then(
        () => {
          this.retrying = false;
          this.send();
          if (this.queue.p.length === 0 && this.inFlight === 0) for (const d of this.drained.splice(0)) d();
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
    // Plain commands, not a pipeline object: building a Pipeline (its promise, its copy of
    // the client's commands) cost more than the XADDs it carried. ioredis writes each command
    // to the socket as it is made, one system call (and one wake-up of Redis) each: the
    // socket is corked around them, so that a flush's XADDs leave in one writev.
    const added: Promise<unknown>[] = [];
    const written = performance.now();
    const socket = this.redis.status === 'ready' ? this.redis.stream : undefined;
    socket?.cork();
    try {
      for (const [p, t] of frames) {
        const mean = (this.perEntry[p] = this.perEntry[p]! * 0.9 + t.length * 0.1);
        const cap = String(Math.max(1, Math.ceil(this.opts.maxLen / mean)));
        added.push(this.redis.xadd(this.keys.input(p), 'MAXLEN', '~', cap, '*', FRAMES_FIELD, t.length === 1 ? t[0]! : Buffer.concat(t)));
      }
    } finally {
      socket?.uncork();
    }
    const wal = this.opts.wal;
    const lsns: number[] = [];
    if (wal) {
      for (const f of batch.frames) {
        const lsn = frameLsn(f);
        if (lsn !== 0) lsns.push(lsn);
      }
      // In lsn order, as the log walks them (they are, but for a replayed record).
      lsns.sort((a, b) => a - b);
      // Whole in the kernel's socket buffer: a kill -9 of this process no longer loses the
      // batch (the kernel sends it, Redis applies it), and the log's interval for its records
      // counts from now. Left in Node's buffer (Redis not reading), it is still only ours.
      if (lsns.length > 0 && this.redis.status === 'ready' && this.redis.stream?.writableLength === 0) wal.handedOver(lsns, written);
    }
    try {
      await answeredWithin(added.length === 1 ? added[0]! : Promise.all(added), ANSWER_MS, `a batch of ${batch.p.length} requests`);
    } catch (e) {
      // Back in this process's hands only: the log writes them now.
      if (wal && lsns.length > 0) wal.notTaken(lsns);
      throw e;
    }
    this.sent += batch.p.length;
    const timing = this.opts.timing;
    if (timing !== undefined) {
      const now = performance.now();
      timing.roundTrip((now - written) / 1000);
      for (const at of batch.at) timing.taken((now - at) / 1000);
    }
    if (!this.healthy) this.opts.onHealth?.(true);
    this.healthy = true;
    if (wal) wal.settleLsns(lsns);
  }

  /** Resolves once Redis holds everything handed over so far (or never, while it is away: callers bound it). */
  drain(): Promise<void> {
    this.send();
    if (this.queue.p.length === 0 && this.inFlight === 0 && !this.retrying) return Promise.resolve();
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
