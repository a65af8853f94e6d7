/** `distillwatch gateway`: builds the config from the file and flags, starts, stops on signals. */
import { adminTokenFromEnv, loadConfigFile, parseConfig } from '../gateway/config.js';
import { ListenError, parseListen } from '../gateway/listen.js';
import { startGateway } from '../gateway/start.js';
import { WatermarkKeyError } from '../gateway/watermark.js';
import { hashedKeyEntry } from '../gateway/keys.js';
import { UserError } from './errors.js';
import { storeUrlOf } from './store-option.js';
import { tokensFromEnv } from '../server/tokens.js';

export interface GatewayCommandOptions {
  config?: string;
  upstream?: string;
  /** Absent unless given: only a flag the user wrote may override the file. */
  listen?: string;
  adminListen?: string;
  redis?: string;
  db?: string;
  store?: string;
}

function listenFlag(flag: string, key: 'listen' | 'adminListen', text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  const r = parseListen(text);
  if (!r.ok) throw new UserError(`${flag}: ${r.error}`);
  return { [key]: r.value };
}

export async function runGatewayCommand(o: GatewayCommandOptions): Promise<void> {
  // The flags win over the file, at start and on every reload; a setting no flag names
  // comes from the file, then from the config's defaults.
  const flags: Record<string, unknown> = {
    ...(o.upstream ? { upstream: o.upstream } : {}),
    ...(o.redis ? { redisUrl: o.redis } : {}),
    ...(o.db !== undefined || o.store !== undefined ? { storePath: storeUrlOf(o) } : {}),
    ...listenFlag('--listen', 'listen', o.listen),
    ...listenFlag('--admin-listen', 'adminListen', o.adminListen),
  };
  const token = adminTokenFromEnv();
  if (!token.ok) throw new UserError(token.error);
  // The investigation API on the admin address takes the same tokens as `serve`.
  const tokens = tokensFromEnv();
  if (!tokens.ok) throw new UserError(tokens.error);
  const r = o.config ? loadConfigFile(o.config, flags) : parseConfig(flags);
  if (!r.ok) throw new UserError(r.error);
  // Listened for before anything starts: a signal that comes during start-up, or just after
  // the line below is read, must stop the gateway cleanly too, not kill it.
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  let running;
  try {
    running = await startGateway({ config: r.config, adminToken: token.token, tokenHolders: tokens.holders, ...(o.config ? { configPath: o.config, configOverrides: flags } : {}) });
  } catch (e) {
    if (e instanceof ListenError || e instanceof WatermarkKeyError) throw new UserError(e.message);
    throw e;
  }
  process.stderr.write(`gateway listening on ${running.url}, forwarding to ${r.config.upstream}; metrics and admin on ${running.adminUrl}\n`);
  await stopped;
  await running.close();
}

/**
 * `distillwatch gateway hash-key`: the key comes on stdin, never as an argument that the
 * shell history and the process list would keep. One final newline (from `echo`) is not
 * part of the key.
 */
export async function runHashKeyCommand(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const key = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (key === '') throw new UserError('Cannot hash the key: stdin is empty (pipe the key in: printf %s "$KEY" | distillwatch gateway hash-key)');
  if (/[\r\n]/.test(key)) throw new UserError('Cannot hash the key: stdin holds more than one line');
  process.stdout.write(hashedKeyEntry(key) + '\n');
}
