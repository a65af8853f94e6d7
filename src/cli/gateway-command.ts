/** `distillwatch gateway`: builds the config from the file and flags, starts, stops on signals. */
import { readFileSync } from 'node:fs';
import { adminTokenFromEnv, parseConfig } from '../gateway/config.js';
import { startGateway } from '../gateway/start.js';
import { UserError } from './errors.js';

export interface GatewayCommandOptions {
  config?: string;
  upstream?: string;
  listen: string;
  redis?: string;
  db?: string;
}

export async function runGatewayCommand(o: GatewayCommandOptions): Promise<void> {
  let base: Record<string, unknown> = {};
  if (o.config) {
    try {
      base = JSON.parse(readFileSync(o.config, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new UserError(`Cannot read gateway config "${o.config}": ${(e as Error).message}`);
    }
  }
  const [host, port] = o.listen.split(':');
  const value = {
    ...base,
    ...(o.upstream ? { upstream: o.upstream } : {}),
    ...(o.redis ? { redisUrl: o.redis } : {}),
    ...(o.db ? { storePath: o.db } : {}),
    listen: { host: host || '127.0.0.1', port: Number(port ?? 8787) },
  };
  const r = parseConfig(value);
  if (!r.ok) throw new UserError(r.error);
  const running = await startGateway({ config: r.config, adminToken: adminTokenFromEnv(), ...(o.config ? { configPath: o.config } : {}) });
  process.stderr.write(`gateway listening on ${running.url}, forwarding to ${r.config.upstream}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await running.close();
}
