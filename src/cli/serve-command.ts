/** `distillwatch serve`: the investigation API over a store, until a signal stops it. */
import { parseListen } from '../gateway/listen.js';
import { startServer } from '../server/start.js';
import { tokensFromEnv } from '../server/tokens.js';
import { UserError } from './errors.js';
import { openCommandStore, storeUrlOf } from './store-option.js';

export interface ServeCommandOptions {
  db?: string;
  store?: string;
  listen: string;
  redis?: string;
  gatewayAdmin?: string;
}

export async function runServeCommand(o: ServeCommandOptions): Promise<void> {
  const listen = parseListen(o.listen);
  if (!listen.ok) throw new UserError(`--listen: ${listen.error}`);
  const tokens = tokensFromEnv();
  if (!tokens.ok) throw new UserError(tokens.error);
  let gatewayAdmin: { url: string; token: string | null } | undefined;
  if (o.gatewayAdmin !== undefined) {
    if (!URL.canParse(o.gatewayAdmin) || !/^https?:$/.test(new URL(o.gatewayAdmin).protocol)) throw new UserError(`--gateway-admin: "${o.gatewayAdmin}" is not an http(s) URL such as http://127.0.0.1:8788`);
    // Any role reads the shadow counts; the admin token serves when no other is given.
    gatewayAdmin = { url: o.gatewayAdmin, token: process.env.DISTILLWATCH_GATEWAY_TOKEN ?? tokens.holders.find((h) => h.role === 'admin')?.token ?? null };
  }
  const store = await openCommandStore(storeUrlOf(o, 'distillwatch.duckdb'));
  let server;
  try {
    server = await startServer({ store, listen: listen.value, holders: tokens.holders, ...(o.redis ? { redisUrl: o.redis } : {}), ...(gatewayAdmin ? { gatewayAdmin } : {}) });
  } catch (e) {
    await store.close();
    const code = (e as { code?: string }).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') throw new UserError(`Cannot listen on "${o.listen}": ${code === 'EADDRINUSE' ? 'the address is in use' : 'permission denied'}`);
    throw e;
  }
  process.stdout.write(`distillwatch serve: API at ${server.url}/api/v1 (OpenAPI at ${server.url}/api/v1/openapi.json)\n`);
  const stop = () => {
    void server.close().then(() => store.close()).then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
