/** `distillwatch gateway`: builds the config from the file and flags, starts, stops on signals. */
import { adminTokenFromEnv, loadConfigFile, parseConfig } from '../gateway/config.js';
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
  const [host, port] = o.listen.split(':');
  // The flags win over the file, at start and on every reload.
  const flags: Record<string, unknown> = {
    ...(o.upstream ? { upstream: o.upstream } : {}),
    ...(o.redis ? { redisUrl: o.redis } : {}),
    ...(o.db ? { storePath: o.db } : {}),
    listen: { host: host || '127.0.0.1', port: Number(port ?? 8787) },
  };
  const r = o.config ? loadConfigFile(o.config, flags) : parseConfig(flags);
  if (!r.ok) throw new UserError(r.error);
  // Listened for before anything starts: a signal that comes during start-up, or just after
  // the line below is read, must stop the gateway cleanly too, not kill it.
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const running = await startGateway({ config: r.config, adminToken: adminTokenFromEnv(), ...(o.config ? { configPath: o.config, configOverrides: flags } : {}) });
  process.stderr.write(`gateway listening on ${running.url}, forwarding to ${r.config.upstream}\n`);
  await stopped;
  await running.close();
}
