/**
 * Shared gateway state: account standing (risk, campaign, override, blocklist), token
 * buckets and request counters. In memory for one node; in Redis when several replicas
 * must see each other's decisions. The Redis implementation falls back to its own memory
 * when Redis cannot be reached, so a Redis outage never stops serving (fail open); the
 * server asks `available()` to fail closed when configured to.
 */
import { Redis } from 'ioredis';
import { ActionSchema, type Action, type AccountStanding } from './policy.js';

export interface Bucket {
  ratePerSec: number;
  burst: number;
}

export interface GatewayState {
  standing(accountId: string): Promise<AccountStanding>;
  /**
   * The standing when it is in memory and current (read-only), else undefined: the proxy
   * then decides without waiting, and asks `standing` otherwise.
   */
  standingKnown?(accountId: string): Readonly<AccountStanding> | undefined;
  /** Takes one token from the bucket `key`; false when it is empty. */
  take(key: string, bucket: Bucket, now?: number): Promise<boolean>;
  setRisk(accountId: string, risk: number, campaignId: string | null): Promise<void>;
  setOverride(accountId: string, action: Action | null): Promise<void>;
  setBlocked(accountId: string, blocked: boolean): Promise<void>;
  countRequest(accountId: string): Promise<number>;
  requestCount(accountId: string): Promise<number>;
  /** False while the shared backend is unreachable (local fallback in use). */
  available(): boolean;
  /**
   * Puts back the operator's decisions kept in the store, at start: into local state, and
   * (when shared) into Redis, where a newer decision made on another replica wins.
   */
  restore(decisions: readonly SeedStanding[]): Promise<void>;
  /** Told of every change to an account's standing, made here or, when shared, by any replica. */
  onChange(listener: (accountId: string) => void): void;
  close(): Promise<void>;
}

interface BucketState {
  tokens: number;
  at: number;
}

function refill(b: BucketState | undefined, bucket: Bucket, now: number): BucketState {
  if (!b) return { tokens: bucket.burst, at: now };
  return { tokens: Math.min(bucket.burst, b.tokens + ((now - b.at) / 1000) * bucket.ratePerSec), at: now };
}

export class MemoryState implements GatewayState {
  private readonly accounts = new Map<string, AccountStanding>();
  private readonly buckets = new Map<string, BucketState>();
  private readonly counts = new Map<string, number>();
  private readonly listeners: ((accountId: string) => void)[] = [];

  onChange(listener: (accountId: string) => void): void {
    this.listeners.push(listener);
  }
  private changed(id: string): void {
    for (const l of this.listeners) l(id);
  }

  private get(id: string): AccountStanding {
    let s = this.accounts.get(id);
    if (!s) {
      s = { risk: 0, campaignId: null, override: null, blocked: false };
      this.accounts.set(id, s);
    }
    return s;
  }
  /** Synchronous read for the hot path of a single node. */
  standingNow(id: string): AccountStanding {
    return this.accounts.get(id) ?? { risk: 0, campaignId: null, override: null, blocked: false };
  }
  async standing(id: string): Promise<AccountStanding> {
    return { ...this.standingNow(id) };
  }
  standingKnown(id: string): Readonly<AccountStanding> {
    return this.standingNow(id);
  }
  takeNow(key: string, bucket: Bucket, now = Date.now()): boolean {
    const b = refill(this.buckets.get(key), bucket, now);
    const ok = b.tokens >= 1;
    if (ok) b.tokens -= 1;
    this.buckets.set(key, b);
    return ok;
  }
  async take(key: string, bucket: Bucket, now = Date.now()): Promise<boolean> {
    return this.takeNow(key, bucket, now);
  }
  async setRisk(id: string, risk: number, campaignId: string | null): Promise<void> {
    const s = this.get(id);
    s.risk = risk;
    s.campaignId = campaignId;
    this.changed(id);
  }
  async setOverride(id: string, action: Action | null): Promise<void> {
    this.get(id).override = action;
    this.changed(id);
  }
  async setBlocked(id: string, blocked: boolean): Promise<void> {
    this.get(id).blocked = blocked;
    this.changed(id);
  }
  async countRequest(id: string): Promise<number> {
    const n = (this.counts.get(id) ?? 0) + 1;
    this.counts.set(id, n);
    return n;
  }
  async requestCount(id: string): Promise<number> {
    return this.counts.get(id) ?? 0;
  }
  available(): boolean {
    return true;
  }
  async restore(decisions: readonly SeedStanding[]): Promise<void> {
    for (const d of decisions) {
      const s = this.get(d.accountId);
      s.override = d.override;
      s.blocked = d.blocked;
      this.changed(d.accountId);
    }
  }
  async close(): Promise<void> {}
}

// One round trip: refill, take, store, expire. Time comes from the caller so replicas on
// one clock agree; the bucket key expires once it would be full again.
const TAKE_LUA = `
local rate = tonumber(ARGV[1]); local burst = tonumber(ARGV[2]); local now = tonumber(ARGV[3])
local v = redis.call('HMGET', KEYS[1], 't', 'ts')
local t = tonumber(v[1]) or burst
local ts = tonumber(v[2]) or now
t = math.min(burst, t + math.max(0, now - ts) / 1000 * rate)
local ok = 0
if t >= 1 then t = t - 1; ok = 1 end
redis.call('HSET', KEYS[1], 't', t, 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return ok`;

// A decision from the store goes in unless Redis holds a newer one (made on another replica).
const SEED_LUA = `
local at = tonumber(redis.call('HGET', KEYS[1], 'decided_at')) or 0
if at > tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'override', ARGV[1], 'blocked', ARGV[2], 'decided_at', ARGV[3])
return 1`;

export interface RedisStateOptions {
  url: string;
  prefix?: string;
  /** Called when Redis becomes unreachable or comes back. */
  onAvailability?: (up: boolean) => void;
  /**
   * How long a standing read from Redis is reused without asking again. Changes made by any
   * replica are pushed (pub/sub) and drop the copy at once; this bounds staleness only if
   * a push is lost, e.g. across a reconnect.
   * @default 1000
   */
  cacheMs?: number;
  /**
   * How often Redis is asked whether it answers. A command that times out (Redis stalled,
   * not gone) marks it down without a reconnect to mark it up again: the probe does.
   * @default 300
   */
  probeMs?: number;
  /**
   * The decisions that must be in Redis (the store's copy, its source of truth): written
   * whenever Redis comes back or is found empty (restarted without its data).
   */
  seed?: () => Promise<SeedStanding[]>;
  /** Names this replica's marker key, so that each replica finds out for itself that Redis was emptied. */
  replicaId?: string;
  /** Told when a resync after an outage fails. */
  onResyncError?: (e: Error) => void;
}

/** An account's operator decisions as the store holds them, and when they were made. */
export interface SeedStanding {
  accountId: string;
  override: Action | null;
  blocked: boolean;
  /** ms since the epoch: between replicas, the newer decision wins. */
  at: number;
}

/** Most standings kept locally; beyond, the copies are dropped and read again. */
const MAX_CACHED = 100_000;

type RedisWithTake = Redis & {
  dwTake(key: string, rate: number, burst: number, now: number): Promise<number>;
  dwSeed(key: string, override: string, blocked: string, at: number): Promise<number>;
};
type SeedingMulti = ReturnType<Redis['multi']> & { dwSeed(key: string, override: string, blocked: string, at: number): SeedingMulti };

export class RedisState implements GatewayState {
  private readonly redis: RedisWithTake;
  /** A second connection: one that subscribes can send nothing else. */
  private readonly sub: Redis;
  private readonly local = new MemoryState();
  private readonly prefix: string;
  private readonly channel: string;
  private up = false;
  private subscribed = false;
  private readonly onAvailability: ((up: boolean) => void) | undefined;
  private readonly cacheMs: number;
  private readonly cache = new Map<string, { standing: AccountStanding; at: number }>();
  private readonly listeners: ((accountId: string) => void)[] = [];
  private readonly probe: NodeJS.Timeout;
  private probing = false;
  private readonly upWaiters: (() => void)[] = [];
  /** Accounts changed here while Redis was away: written back when it returns. */
  private readonly dirty = new Set<string>();
  private resyncing: Promise<void> | null = null;
  private readonly seed: (() => Promise<SeedStanding[]>) | undefined;
  private readonly replicaId: string;
  private readonly onResyncError: ((e: Error) => void) | undefined;

  constructor(opts: RedisStateOptions) {
    this.prefix = opts.prefix ?? 'dw:';
    this.channel = this.prefix + 'changed';
    this.cacheMs = opts.cacheMs ?? 1000;
    this.onAvailability = opts.onAvailability;
    this.seed = opts.seed;
    this.replicaId = opts.replicaId ?? 'gw';
    this.onResyncError = opts.onResyncError;
    const retryStrategy = (times: number) => Math.min(times * 100, 1000);
    // No offline queue and one retry: a request must not wait on a dead Redis.
    this.redis = new Redis(opts.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 500,
      commandTimeout: 250,
      lazyConnect: false,
      retryStrategy,
    }) as RedisWithTake;
    this.redis.defineCommand('dwTake', { numberOfKeys: 1, lua: TAKE_LUA });
    this.redis.defineCommand('dwSeed', { numberOfKeys: 1, lua: SEED_LUA });
    this.redis.on('ready', () => void this.check());
    this.redis.on('error', () => this.mark(false));
    this.redis.on('end', () => this.mark(false));
    this.redis.on('close', () => this.mark(false));
    // ioredis subscribes again by itself after a reconnect; pushes sent meanwhile are lost,
    // so copies are dropped whenever the subscription is not known to be live.
    this.sub = new Redis(opts.url, { connectTimeout: 500, lazyConnect: false, retryStrategy });
    this.sub.on('error', () => this.unsubscribed());
    this.sub.on('close', () => this.unsubscribed());
    this.sub.on('message', (_channel: string, id: string) => {
      this.cache.delete(id);
      for (const l of this.listeners) l(id);
    });
    this.sub.on('ready', () => {
      this.sub.subscribe(this.channel).then(
        () => {
          this.cache.clear();
          this.subscribed = true;
        },
        () => this.unsubscribed(),
      );
    });
    this.probe = setInterval(() => void this.check(), opts.probeMs ?? 300);
    this.probe.unref();
  }

  private get seededKey(): string {
    return this.prefix + 'seeded:' + this.replicaId;
  }

  /**
   * Asks Redis whether it answers and still holds what was written (a marker key set by the
   * last resync). Up as soon as it answers; resynced when it comes back or was emptied.
   */
  private async check(): Promise<void> {
    if (this.probing || this.redis.status !== 'ready') return;
    this.probing = true;
    try {
      const seeded = await this.redis.exists(this.seededKey);
      if (seeded === 0 || !this.up || this.dirty.size > 0) await this.resync();
      this.mark(true);
    } catch {
      this.mark(false);
    } finally {
      this.probing = false;
    }
  }

  /**
   * Puts back into Redis what it must hold: the changes made here while it was away, then
   * the operator's decisions from the store (which win), then the marker.
   */
  private resync(): Promise<void> {
    this.resyncing ??= (async () => {
      try {
        const ids = [...this.dirty];
        this.dirty.clear();
        const multi = this.redis.multi() as SeedingMulti;
        for (const id of ids) {
          const s = this.local.standingNow(id);
          multi.hset(this.key('acct', id), { risk: String(s.risk), campaign: s.campaignId ?? '' });
          // With a store, the operator's decisions come from it (below); without one, from here.
          if (!this.seed) multi.hset(this.key('acct', id), { override: s.override ?? '', blocked: s.blocked ? '1' : '0' });
        }
        let seeded: SeedStanding[] = [];
        try {
          seeded = this.seed ? await this.seed() : [];
        } catch (e) {
          for (const id of ids) this.dirty.add(id);
          throw e;
        }
        for (const d of seeded) multi.dwSeed(this.key('acct', d.accountId), d.override ?? '', d.blocked ? '1' : '0', d.at);
        multi.set(this.seededKey, '1');
        for (const id of new Set([...ids, ...seeded.map((d) => d.accountId)])) multi.publish(this.channel, id);
        try {
          await multi.exec();
        } catch (e) {
          for (const id of ids) this.dirty.add(id);
          throw e;
        }
        this.cache.clear();
      } catch (e) {
        this.onResyncError?.(e as Error);
        throw e;
      } finally {
        this.resyncing = null;
      }
    })();
    return this.resyncing;
  }

  private unsubscribed(): void {
    this.subscribed = false;
    this.cache.clear();
  }

  onChange(listener: (accountId: string) => void): void {
    this.listeners.push(listener);
    this.local.onChange(listener);
  }

  /** Resolves once connected and resynced, or rejects after `ms`. */
  async ready(ms = 2000): Promise<void> {
    if (this.up) return;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('Cannot connect to Redis: timed out')), ms);
      this.upWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  private mark(up: boolean): void {
    if (this.up === up) return;
    this.up = up;
    if (up) for (const w of this.upWaiters.splice(0)) w();
    this.onAvailability?.(up);
  }

  private key(kind: string, id: string): string {
    return this.prefix + kind + ':' + id;
  }

  private async orLocal<T>(shared: () => Promise<T>, fallback: () => Promise<T>): Promise<T> {
    if (!this.up) return fallback();
    try {
      return await shared();
    } catch {
      this.mark(false);
      return fallback();
    }
  }

  standingKnown(id: string): Readonly<AccountStanding> | undefined {
    if (!this.up || !this.subscribed) return undefined;
    const c = this.cache.get(id);
    return c !== undefined && Date.now() - c.at < this.cacheMs ? c.standing : undefined;
  }

  async standing(id: string): Promise<AccountStanding> {
    const cacheable = this.up && this.subscribed;
    if (cacheable) {
      const c = this.cache.get(id);
      if (c !== undefined && Date.now() - c.at < this.cacheMs) return { ...c.standing };
    }
    return this.orLocal(async () => {
      const [risk, campaign, override, blocked] = await this.redis.hmget(this.key('acct', id), 'risk', 'campaign', 'override', 'blocked');
      const o = ActionSchema.safeParse(override);
      const standing: AccountStanding = {
        risk: risk ? Number(risk) : 0,
        campaignId: campaign || null,
        override: o.success ? o.data : null,
        blocked: blocked === '1',
      };
      if (cacheable && this.subscribed) {
        if (this.cache.size >= MAX_CACHED) this.cache.clear();
        this.cache.set(id, { standing, at: Date.now() });
      }
      return { ...standing };
    }, () => this.local.standing(id));
  }
  async take(key: string, bucket: Bucket, now = Date.now()): Promise<boolean> {
    return this.orLocal(
      async () => (await this.redis.dwTake(this.key('bucket', key), bucket.ratePerSec, bucket.burst, now)) === 1,
      () => this.local.take(key, bucket, now),
    );
  }
  /** Writes an account's fields and tells every replica (this one included) that it changed. */
  private async write(id: string, fields: Record<string, string>): Promise<void> {
    this.cache.delete(id);
    await this.orLocal(async () => {
      await this.redis.multi().hset(this.key('acct', id), fields).publish(this.channel, id).exec();
    }, async () => {
      this.dirty.add(id);
    });
  }
  // The local copy is written too, with its listeners: it serves while Redis is away.
  async setRisk(id: string, risk: number, campaignId: string | null): Promise<void> {
    await this.local.setRisk(id, risk, campaignId);
    await this.write(id, { risk: String(risk), campaign: campaignId ?? '' });
  }
  async setOverride(id: string, action: Action | null): Promise<void> {
    await this.local.setOverride(id, action);
    await this.write(id, { override: action ?? '', decided_at: String(Date.now()) });
  }
  async setBlocked(id: string, blocked: boolean): Promise<void> {
    await this.local.setBlocked(id, blocked);
    await this.write(id, { blocked: blocked ? '1' : '0', decided_at: String(Date.now()) });
  }
  async restore(decisions: readonly SeedStanding[]): Promise<void> {
    // Redis gets them from `seed` on its next check, which any start makes.
    await this.local.restore(decisions);
  }
  async countRequest(id: string): Promise<number> {
    const n = await this.local.countRequest(id);
    return this.orLocal(() => this.redis.incr(this.key('count', id)), async () => n);
  }
  async requestCount(id: string): Promise<number> {
    return this.orLocal(async () => Number((await this.redis.get(this.key('count', id))) ?? 0), () => this.local.requestCount(id));
  }
  available(): boolean {
    return this.up;
  }
  async close(): Promise<void> {
    clearInterval(this.probe);
    this.sub.disconnect();
    this.redis.disconnect();
  }
}
