/**
 * `distillwatch worker` and `distillwatch linker`: the detection side of a scaled-out
 * gateway (thin replicas with `analysis.mode` "stream"). Each runs until SIGTERM or SIGINT,
 * then finishes its batch in hand and stops.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { pino } from 'pino';
import { Redis } from 'ioredis';
import { openCommandStore, storeName, storeUrlOf } from './store-option.js';
import { RedisState } from '../gateway/state.js';
import { lowestActingRisk, PolicySchema } from '../gateway/policy.js';
import { DetectionWorker } from '../live/worker.js';
import { LiveLinker } from '../live/linker.js';
import { UserError } from './errors.js';

export interface LiveCommonOptions {
  redis: string;
  partitions: number;
  prefix: string;
}

export interface WorkerCommandOptions extends LiveCommonOptions {
  name?: string;
  ipHashKeyFile?: string;
  logPrompts?: boolean;
  leaseMs: number;
}

export interface LinkerCommandOptions extends LiveCommonOptions {
  db?: string;
  store?: string;
  linkIntervalMs: number;
  publishRisk?: number;
}

const logger = () => pino({ level: process.env.DISTILLWATCH_LOG_LEVEL ?? 'info' });

/** Fails fast, in one line, when Redis cannot be reached: a worker with no stream to read is a mistake. */
async function checkRedis(url: string, partitions: number): Promise<void> {
  if (partitions < 1) throw new UserError(`Cannot use --partitions ${partitions}: it must be at least 1, and the same as the gateways' "analysis.partitions"`);
  const r = new Redis(url, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    await r.ping();
  } catch (e) {
    throw new UserError(`Cannot reach Redis at "${url}" (--redis): ${(e as Error).message}`);
  } finally {
    r.disconnect();
  }
}

function ipHashKey(file: string | undefined): string | undefined {
  if (file === undefined) return process.env.DISTILLWATCH_IP_HASH_KEY || undefined;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new UserError(`Cannot read the IP hash key file "${file}" (--ip-hash-key-file): ${(e as Error).message}`);
  }
}

function stopOn(stop: () => Promise<void>): void {
  const once = () => void stop().then(() => process.exit(0), () => process.exit(1));
  process.once('SIGINT', once);
  process.once('SIGTERM', once);
}

export async function runWorkerCommand(o: WorkerCommandOptions): Promise<void> {
  await checkRedis(o.redis, o.partitions);
  const key = ipHashKey(o.ipHashKeyFile);
  const name = o.name ?? `${hostname()}-${process.pid}`;
  const log = logger();
  const worker = new DetectionWorker({
    redisUrl: o.redis,
    partitions: o.partitions,
    prefix: o.prefix,
    name,
    leaseMs: o.leaseMs,
    logger: log,
    record: { logPrompts: o.logPrompts === true, ...(key ? { ipHashKey: key } : {}) },
  });
  await worker.start();
  process.stdout.write(`distillwatch worker ${name}: reading ${o.partitions} partitions at ${o.prefix}x:{p}\n`);
  stopOn(() => worker.stop());
}

export async function runLinkerCommand(o: LinkerCommandOptions): Promise<void> {
  await checkRedis(o.redis, o.partitions);
  const log = logger();
  const storeUrl = storeUrlOf(o, 'distillwatch.duckdb');
  const store = await openCommandStore(storeUrl);
  const state = new RedisState({ url: o.redis, prefix: o.prefix, replicaId: 'linker', onResyncError: (e) => log.warn({ err: e.message }, 'cannot resync redis') });
  await state.ready(5000).catch(() => log.warn('redis not ready yet: standings are published once it is'));
  const linker = new LiveLinker({
    redisUrl: o.redis,
    partitions: o.partitions,
    prefix: o.prefix,
    store,
    state,
    logger: log,
    linkIntervalMs: o.linkIntervalMs,
    // By default, what the default policy acts on; a gateway's own policy still decides what to do.
    publishRisk: o.publishRisk ?? lowestActingRisk(PolicySchema.parse({})),
  });
  await linker.start();
  process.stdout.write(`distillwatch linker: linking ${o.partitions} partitions into ${storeName(storeUrl)}\n`);
  // SIGUSR2 links at once: for an operator, or a test, that will not wait for the timer.
  process.on('SIGUSR2', () => linker.link());
  stopOn(async () => {
    await linker.stop();
    await state.close();
    await store.close();
  });
}
