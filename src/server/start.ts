/**
 * Starts the investigation server: the store, the tokens, the shared state decisions are
 * pushed through (Redis, as the gateways use), and the HTTP listener. Tests and the CLI both
 * start it here.
 */
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { pino, type Logger } from 'pino';
import type { Store } from '../store/store.js';
import { ActionSchema } from '../gateway/policy.js';
import { RedisState } from '../gateway/state.js';
import { formatListen, type ListenAddress } from '../gateway/listen.js';
import type { TokenHolder } from '../gateway/admin/auth.js';
import { apiApp } from './app.js';
import { dashboardHandler } from './dashboard.js';
import { gatewayShadow } from '../investigate/shadow.js';

export interface ServerOptions {
  store: Store;
  listen: ListenAddress;
  holders: readonly TokenHolder[];
  /** The gateways' Redis: decisions reach every replica through it within a second. */
  redisUrl?: string;
  logger?: Logger;
  /** The built dashboard's folder; `dist/web/` by default. */
  dashboardDir?: string;
  /** A gateway's admin address and a token it takes: the dashboard shows its shadow-mode counts. */
  gatewayAdmin?: { url: string; token: string | null };
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const logger = o.logger ?? pino({ level: process.env.DISTILLWATCH_LOG_LEVEL ?? 'info', base: { component: 'server' } });
  let redis: RedisState | null = null;
  if (o.redisUrl) {
    // Seeded from the store as a gateway seeds it, so a Redis restarted empty gets the decisions back.
    redis = new RedisState({
      url: o.redisUrl,
      replicaId: 'server',
      seed: async () =>
        (await o.store.currentDecisions()).map((d) => {
          const a = ActionSchema.safeParse(d.after.override);
          return { accountId: d.accountId, override: a.success ? a.data : null, blocked: d.after.blocked, at: Date.parse(d.at) };
        }),
      onAvailability: (up) => (up ? logger.info('redis reachable: decisions reach the gateways') : logger.warn('redis unreachable: decisions are kept and written back when it returns')),
    });
    await redis.ready(2000).catch(() => logger.warn('redis not reachable at start'));
  }
  if (o.holders.length === 0) logger.warn('no tokens (DISTILLWATCH_ADMIN_TOKEN or DISTILLWATCH_TOKENS_FILE): every API call will answer 401');
  const shadow = o.gatewayAdmin ? gatewayShadow(o.gatewayAdmin.url, o.gatewayAdmin.token) : null;
  const app = apiApp({ store: o.store, holders: o.holders, enforcement: redis, logger, origin: 'server', shadow });
  // The dashboard at `/`: any GET the API does not answer.
  app.get('*', dashboardHandler(o.dashboardDir));
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: o.listen.host, port: o.listen.port }, () => resolve(s));
    s.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${formatListen({ host: o.listen.host, port })}`,
    port,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await redis?.close();
    },
  };
}
