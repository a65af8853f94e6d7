/**
 * Puts a gateway together from its config: state (Redis or memory), store, exchange log,
 * online detection, metrics, logger and the server. Tests and the CLI both start it here.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino, type Logger } from 'pino';
import type { Store } from '../store/store.js';
import { loadConfigFile, reloadedConfig, type GatewayConfig } from './config.js';
import { ExchangeLog } from './exchange-log.js';
import { WriteAheadLog } from './wal.js';
import { GatewayMetrics } from './metrics.js';
import { Analysis, type ExchangeAnalysis } from './analysis.js';
import { ExchangeStream } from '../live/exchange-stream.js';
import { liveKeys } from '../live/partition.js';
import { Gateway } from './server.js';
import { MemoryState, RedisState, type GatewayState } from './state.js';
import type { Watermark } from './degrade.js';
import { configuredWatermark } from './watermark.js';
import type { DetectorParams } from '../detect/params.js';
import { formatListen } from './listen.js';
import type { FinishedRequest } from './record.js';
import { ActionSchema, lowestActingRisk } from './policy.js';
import type { SeedStanding } from './state.js';
import type { TokenHolder } from './admin/auth.js';

export interface StartOptions {
  config: GatewayConfig;
  /** A store already open (tests); otherwise `config.storePath` is opened, or none. */
  store?: Store | null;
  adminToken?: string | null;
  logger?: Logger;
  /** A watermark hook of the caller's own; otherwise the config's `watermark`, if any. */
  watermark?: Watermark;
  detectorParams?: Partial<DetectorParams>;
  /** Reloaded on SIGHUP and when the file changes. */
  configPath?: string;
  /** Laid over the file on every reload (the command line's flags). */
  configOverrides?: Record<string, unknown>;
  /** Who may use the investigation API on the admin address; by default the admin token's holder. */
  tokenHolders?: readonly TokenHolder[];
}

export interface RunningGateway {
  gateway: Gateway;
  port: number;
  url: string;
  /** Where `/metrics`, `/readyz` and the admin routes answer. */
  adminPort: number;
  adminUrl: string;
  state: GatewayState;
  log: ExchangeLog;
  analysis: ExchangeAnalysis;
  metrics: GatewayMetrics;
  /** The write-ahead log; null without a store (a thin replica has one all the same). */
  wal: WriteAheadLog | null;
  close(): Promise<void>;
}

/** How long the config file must be left alone after a change before it is read again. */
const RELOAD_SETTLE_MS = 100;

/**
 * What a gateway started this way will not do, said once at start: each is a working
 * set-up for some test or trial, and a surprise in production.
 */
export function startWarnings(config: GatewayConfig, adminToken: string | null, hasStore: boolean): string[] {
  const out: string[] = [];
  if (config.keys.size === 0 && config.accountHeader === undefined) out.push('no API keys in the config ("keys"): every request will be refused with 401');
  if (adminToken === null) out.push('no admin token (DISTILLWATCH_ADMIN_TOKEN or DISTILLWATCH_ADMIN_TOKEN_FILE): /metrics and the admin routes will answer 401');
  if (!hasStore && config.analysis.mode === 'thread') out.push('no store ("storePath", --db or --store): exchanges are analysed but not kept');
  return out;
}

/** The investigation API as a node:http listener, its modules loaded on first use (see the store above). */
async function investigationApi(opts: Parameters<typeof import('../server/app.js').apiApp>[0]): Promise<(req: IncomingMessage, res: ServerResponse) => void> {
  const [{ getRequestListener }, { apiApp }] = await Promise.all([import('@hono/node-server'), import('../server/app.js')]);
  return getRequestListener(apiApp(opts).fetch);
}

export async function startGateway(opts: StartOptions): Promise<RunningGateway> {
  const config = opts.config;
  // Read before anything opens: a key that cannot be read stops the start.
  const watermark = opts.watermark ?? (config.watermark ? configuredWatermark(config.watermark) : undefined);
  // Logs carry ids, actions and timings; never keys, and prompt text only when enabled.
  const logger = opts.logger ?? pino({ level: process.env.DISTILLWATCH_LOG_LEVEL ?? 'info', base: { replica: config.replicaId } });
  const metrics = new GatewayMetrics();
  let gateway: Gateway | null = null;
  const live = config.analysis.mode === 'stream' ? config.analysis : null;
  // A thin replica holds no store: the linker does (config validation refuses storePath).
  // The store's drivers and the investigation API (tens of MB of heap, PDF rendering
  // included) are loaded only by a gateway that has a store: a thin replica's heap stays
  // small, and so do its garbage collector's pauses.
  const store = live !== null ? null : opts.store !== undefined ? opts.store : config.storePath ? await (await import('../store/open.js')).openStore(config.storePath) : null;
  const ownsStore = opts.store === undefined && store !== null;
  // Operator decisions live in the store; state (local and Redis) is their working copy.
  const decisions = async (): Promise<SeedStanding[]> => {
    if (store === null) return [];
    return (await store.currentDecisions()).map((d) => {
      const o = ActionSchema.safeParse(d.after.override);
      return { accountId: d.accountId, override: o.success ? o.data : null, blocked: d.after.blocked, at: Date.parse(d.at) };
    });
  };
  let state: GatewayState;
  if (config.redisUrl) {
    const redis = new RedisState({
      url: config.redisUrl,
      replicaId: config.replicaId,
      // A thin replica reads standings from memory: the linker's changes are pushed, and
      // the copies are dropped whenever the push channel is not known to be live.
      ...(live !== null ? { prefix: live.prefix, cacheMs: 60_000 } : {}),
      onAvailability: (up) => {
        metrics.redisUp.set(up ? 1 : 0);
        if (up) logger.info('redis reachable: shared state in use');
        else logger.warn({ failure_mode: gateway?.config.redisFailure ?? config.redisFailure }, 'redis unreachable: serving on local state');
      },
      ...(store !== null ? { seed: decisions } : {}),
      onResyncError: (e) => logger.warn({ err: e.message }, 'cannot resync redis after an outage: will try again'),
    });
    await redis.ready(2000).catch(() => logger.warn('redis not reachable at start'));
    state = redis;
  } else {
    state = new MemoryState();
  }
  await state.restore(await decisions());
  // Without a store nothing is kept, so nothing needs to survive a crash either.
  let wal: WriteAheadLog | null = null;
  let recovered: FinishedRequest[] = [];
  if (store !== null || live !== null) {
    const key = `gateway:${config.replicaId}`;
    // A thin replica settles what Redis took; what its log still holds is sent again (the store keeps one copy).
    const checkpoint = store === null ? 0 : ((await store.checkpoint({ key, path: key }))?.line ?? 0);
    const opened = await WriteAheadLog.open(
      {
        dir: config.durability.walDir ?? join(config.spoolDir, 'wal'),
        replicaId: config.replicaId,
        commitIntervalMs: config.durability.commitIntervalMs,
        redisAnswerMs: config.durability.redisAnswerMs,
        onHealth: (healthy, e) => {
          if (healthy) logger.info('write-ahead log writable again');
          else logger.error({ err: e?.message, log_failure: gateway?.config.logFailure }, 'cannot write the write-ahead log: exchanges are kept in memory only');
        },
      },
      checkpoint,
    );
    wal = opened.wal;
    recovered = opened.recovery.records;
    if (opened.recovery.setAside > 0) logger.warn({ lines: opened.recovery.setAside }, 'write-ahead log lines cut off by a crash set aside');
  }
  const log = new ExchangeLog({
    store,
    replicaId: config.replicaId,
    spoolDir: config.spoolDir,
    onError: (e) => logger.warn({ err: e.message }, 'exchange log: store or spool failed'),
    ...(wal ? { onDurable: (ids: string[]) => wal!.settle(ids), position: () => wal!.lowWater } : {}),
  });
  const stream = live !== null
    ? new ExchangeStream({
        redisUrl: config.redisUrl!,
        partitions: live.partitions,
        maxLen: live.maxLen,
        keys: liveKeys(live.prefix),
        wal,
        timing: { taken: (s) => metrics.streamTaken.add(s), roundTrip: (s) => metrics.streamRoundTrip.add(s) },
        onHealth: (healthy, e) => {
          if (healthy) logger.info('exchange streams writable again');
          else logger.warn({ err: e?.message }, 'cannot append to the exchange streams: exchanges kept in the write-ahead log until redis takes them');
        },
      })
    : null;
  const analysis: ExchangeAnalysis = stream ?? new Analysis(
    {
      linkIntervalMs: config.linkIntervalMs,
      publishRisk: lowestActingRisk(config.policy),
      logPrompts: config.logPrompts,
      ...(config.ipHashKey ? { ipHashKey: config.ipHashKey } : {}),
      ...(opts.detectorParams ? { params: opts.detectorParams } : {}),
    },
    {
      onRecorded(rows, logs, requests) {
        for (const r of rows) log.enqueue(r);
        if (wal && rows.length < requests.length) {
          // Requests that give no exchange (not JSON, unmappable) have nothing to wait for.
          const kept = new Set(rows.map((r) => r.id));
          wal.settle(requests.filter((f) => !kept.has(f.id)).map((f) => f.id));
        }
        if (logger.isLevelEnabled('info')) for (const l of logs) logger.info(l, 'exchange');
      },
      onRefused(logs) {
        if (logger.isLevelEnabled('info')) for (const l of logs) logger.info(l, 'request refused');
      },
      onFailure: (f) => logger.warn({ id: f.id, account: f.account, err: f.error }, 'exchange not mapped'),
      onRisk(updates) {
        for (const u of updates) {
          state.setRisk(u.accountId, u.risk, u.campaignId).catch((e: unknown) => logger.warn({ err: (e as Error).message }, 'cannot publish risk'));
          if (u.flag) {
            logger.warn({ account: u.accountId, campaign: u.flag.campaignId, reason: u.flag.reason }, 'account flagged');
            gateway?.cutAccount(u.accountId);
          }
        }
      },
      onWorkerError: (e) => logger.error({ err: e.message }, 'analysis worker failed'),
    },
  );
  // The same tokens and roles on the admin routes as on the investigation API.
  // DISTILLWATCH_ADMIN_TOKEN keeps meaning an admin token, beside the holders of the tokens file.
  const adminHolder = opts.adminToken && !opts.tokenHolders?.some((h) => h.token === opts.adminToken) ? [{ name: 'admin', role: 'admin' as const, token: opts.adminToken }] : [];
  const holders = [...(opts.tokenHolders ?? []), ...adminHolder];
  gateway = new Gateway({
    config,
    state,
    sharedState: config.redisUrl !== undefined,
    countRequests: live === null,
    log,
    wal,
    store,
    analysis,
    metrics,
    logger,
    holders,
    // With a store, the investigation API answers on the admin address too: one process holds
    // the store, and its decisions reach this replica's state (and through Redis, the others) at once.
    api:
      store !== null
        ? await investigationApi({
            store,
            holders,
            enforcement: state,
            logger,
            origin: config.replicaId,
          })
        : null,
    ...(watermark ? { watermark } : {}),
  });
  // What a crash left in the write-ahead log goes through the normal path before new traffic.
  for (const f of recovered) {
    if (stream !== null) stream.resend(f);
    else analysis.submit(f);
  }
  if (recovered.length > 0) logger.info({ exchanges: recovered.length }, 'write-ahead log replayed');
  let port: number;
  let adminPort: number;
  try {
    port = await gateway.listen();
    adminPort = await gateway.listenAdmin();
  } catch (e) {
    // Nothing was served: release what was opened so that the process can exit.
    await gateway.close();
    await analysis.close();
    await log.close();
    await wal?.close();
    await state.close();
    if (ownsStore) await store!.close();
    throw e;
  }

  for (const w of startWarnings(config, opts.adminToken ?? null, store !== null)) logger.warn(w);

  let watcher: FSWatcher | null = null;
  let settling: NodeJS.Timeout | null = null;
  const reload = () => {
    if (!opts.configPath) return;
    const r = loadConfigFile(opts.configPath, opts.configOverrides);
    if (!r.ok) return logger.error({ err: r.error }, 'config not reloaded');
    const { config: next, needRestart } = reloadedConfig(gateway!.config, r.config);
    gateway!.reload(next);
    analysis.setPublishRisk(lowestActingRisk(next.policy));
    if (needRestart.length > 0) logger.warn({ settings: needRestart }, 'config reloaded, but these settings only change on a restart');
    else logger.info('config reloaded');
  };
  if (opts.configPath) {
    process.on('SIGHUP', reload);
    // The folder is watched, not the file: an editor's atomic save, `sed -i` and a
    // Kubernetes ConfigMap update all replace the file by a rename, which ends a watch on
    // the file itself. A ConfigMap swaps its `..data` link rather than the file's name.
    // A file being written fires several events, the first while it is still empty or
    // half written: read it once the events have settled.
    const file = basename(opts.configPath);
    watcher = watch(dirname(opts.configPath), (_event, name) => {
      if (name !== null && name !== file && !name.startsWith('..')) return;
      if (settling) clearTimeout(settling);
      settling = setTimeout(() => {
        settling = null;
        reload();
      }, RELOAD_SETTLE_MS);
    });
  }
  const g = gateway;
  return {
    gateway: g,
    port,
    url: `http://${formatListen({ host: config.listen.host, port })}`,
    adminPort,
    adminUrl: `http://${formatListen({ host: config.adminListen.host, port: adminPort })}`,
    state,
    log,
    analysis,
    metrics,
    wal,
    async close() {
      watcher?.close();
      if (settling) clearTimeout(settling);
      if (opts.configPath) process.off('SIGHUP', reload);
      await g.close();
      await analysis.close();
      await log.close();
      await wal?.close();
      await state.close();
      if (ownsStore) await store!.close();
    },
  };
}
