/**
 * Which worker holds which partition: one Redis key per partition with an expiry, renewed
 * by its holder. A worker takes free partitions up to its fair share (partitions divided by
 * the workers alive, from their heartbeats) and lets go of the ones beyond it, so that
 * partitions spread over the workers there are and move when one dies or joins.
 */
import type { Redis } from 'ioredis';
import type { LiveKeys } from './partition.js';

const RENEW_LUA = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE_LUA = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface LeaseChange {
  gained: number[];
  lost: number[];
}

export class PartitionLeases {
  readonly owned = new Set<number>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: LiveKeys,
    private readonly partitions: number,
    private readonly name: string,
    private readonly leaseMs: number,
  ) {}

  /** Beats, renews what is held, takes or lets go of partitions toward the fair share. */
  async balance(now = Date.now()): Promise<LeaseChange> {
    const change: LeaseChange = { gained: [], lost: [] };
    await this.redis.multi().zadd(this.keys.workers, now, this.name).zremrangebyscore(this.keys.workers, '-inf', now - 3 * this.leaseMs).exec();
    const alive = Math.max(1, await this.redis.zcard(this.keys.workers));
    const share = Math.ceil(this.partitions / alive);
    for (const p of [...this.owned]) {
      const kept = (await this.redis.eval(RENEW_LUA, 1, this.keys.lease(p), this.name, this.leaseMs)) as number;
      if (kept !== 1) {
        this.owned.delete(p);
        change.lost.push(p);
      }
    }
    // Let go of the highest first, so that every worker agrees on which move.
    for (const p of [...this.owned].sort((a, b) => b - a)) {
      if (this.owned.size <= share) break;
      await this.release(p);
      change.lost.push(p);
    }
    // Start looking at a place of our own, so that workers starting together do not all race for partition 0.
    const start = hashName(this.name) % this.partitions;
    for (let i = 0; i < this.partitions && this.owned.size < share; i++) {
      const p = (start + i) % this.partitions;
      if (this.owned.has(p)) continue;
      const took = await this.redis.set(this.keys.lease(p), this.name, 'PX', this.leaseMs, 'NX');
      if (took === 'OK') {
        this.owned.add(p);
        change.gained.push(p);
      }
    }
    return change;
  }

  async release(p: number): Promise<void> {
    this.owned.delete(p);
    await this.redis.eval(RELEASE_LUA, 1, this.keys.lease(p), this.name);
  }

  /** Lets go of everything and leaves the heartbeat set (a clean stop: others take over at once). */
  async releaseAll(): Promise<void> {
    for (const p of [...this.owned]) await this.release(p);
    await this.redis.zrem(this.keys.workers, this.name);
  }
}

function hashName(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) >>> 0;
  return h;
}
