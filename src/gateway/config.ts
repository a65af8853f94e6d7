/**
 * Gateway configuration: validated once with zod, types derived from the schema. Secrets
 * (admin token) come from the environment or a file, never from the config body that may
 * be logged or committed.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { PolicySchema } from './policy.js';

export const GatewayConfigSchema = z.object({
  listen: z.object({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(8787) }).default({ host: '127.0.0.1', port: 8787 }),
  upstream: z.url(),
  /** API key -> account id. Keys absent from the map are refused unless `accountHeader` names the account. */
  keys: z.record(z.string(), z.string()).default({}),
  /** A header set by the provider's edge that carries the account id (trusted only behind that edge). */
  accountHeader: z.string().toLowerCase().optional(),
  upstreamTimeoutMs: z.number().int().positive().default(60_000),
  replicaId: z.string().default('gw1'),
  redisUrl: z.string().optional(),
  /** When Redis is unreachable: `open` serves with local state, `closed` refuses requests. */
  redisFailure: z.enum(['open', 'closed']).default('open'),
  storePath: z.string().optional(),
  spoolDir: z.string().default('gateway-spool'),
  logPrompts: z.boolean().default(false),
  ipHashKey: z.string().optional(),
  linkIntervalMs: z.number().int().positive().default(5_000),
  /**
   * How often in-flight streams are checked against their account's standing. Changes are
   * pushed to every replica at once; this is the safety net for a push that is lost.
   */
  flightRecheckMs: z.number().int().positive().default(2_000),
  policy: PolicySchema.default(PolicySchema.parse({})),
  /** The write-ahead log of finished exchanges (used when there is a store). */
  durability: z
    .object({
      /** @default "<spoolDir>/wal" */
      walDir: z.string().optional(),
      /** One write and fsync per this many ms: what a kill -9 can lose. */
      commitIntervalMs: z.number().int().min(0).max(1000).default(5),
    })
    .prefault({}),
  /** When exchanges cannot be written to disk (full disk): `serve` and count them, or `refuse` with 503. */
  logFailure: z.enum(['serve', 'refuse']).default('serve'),
  /** On SIGTERM, how long requests in flight may take to finish before they are cut. */
  drainTimeoutMs: z.number().int().min(0).default(25_000),
  connections: z
    .object({
      /** Most time a client may take to send a request's headers (slowloris). */
      headersTimeoutMs: z.number().int().positive().default(10_000),
      /** Most connections open at once from one client address; beyond, new ones are closed. */
      maxPerClient: z.number().int().positive().default(256),
    })
    .prefault({}),
});
export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;

export type ConfigResult = { ok: true; config: GatewayConfig } | { ok: false; error: string };

/** Parses a config object, naming the bad key in the error. */
export function parseConfig(value: unknown): ConfigResult {
  const r = GatewayConfigSchema.safeParse(value);
  if (r.success) return { ok: true, config: r.data };
  const issue = r.error.issues[0];
  return { ok: false, error: `Cannot read gateway config: "${issue?.path.join('.') ?? ''}" ${issue?.message ?? 'is invalid'}` };
}

/**
 * Reads a config file and lays `overrides` (the command line's flags) over it, so that a
 * reload keeps what the flags said.
 */
export function loadConfigFile(path: string, overrides: Record<string, unknown> = {}): ConfigResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return { ok: false, error: `Cannot read gateway config "${path}": ${(e as Error).message}` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `Cannot parse gateway config "${path}": ${(e as Error).message}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, error: `Cannot read gateway config "${path}": it must be a JSON object` };
  return parseConfig({ ...(value as Record<string, unknown>), ...overrides });
}

/**
 * Settings read once, when the gateway starts (connections, files, worker threads, record
 * ids): a reload cannot change them.
 */
export const RESTART_ONLY = ['listen', 'upstream', 'replicaId', 'redisUrl', 'storePath', 'spoolDir', 'logPrompts', 'ipHashKey', 'linkIntervalMs', 'flightRecheckMs', 'durability', 'connections'] as const;

/**
 * The config a reload puts in force: `next`, but with what only a restart can change kept
 * as it is, and those settings named so that the operator is told.
 */
export function reloadedConfig(current: GatewayConfig, next: GatewayConfig): { config: GatewayConfig; needRestart: string[] } {
  const config = { ...next };
  const needRestart: string[] = [];
  for (const k of RESTART_ONLY) {
    if (JSON.stringify(current[k]) !== JSON.stringify(next[k])) needRestart.push(k);
    (config as Record<string, unknown>)[k] = current[k];
  }
  return { config, needRestart };
}

/** The admin token from DISTILLWATCH_ADMIN_TOKEN or the file DISTILLWATCH_ADMIN_TOKEN_FILE names. */
export function adminTokenFromEnv(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.DISTILLWATCH_ADMIN_TOKEN) return env.DISTILLWATCH_ADMIN_TOKEN;
  if (env.DISTILLWATCH_ADMIN_TOKEN_FILE) return readFileSync(env.DISTILLWATCH_ADMIN_TOKEN_FILE, 'utf8').trim();
  return null;
}
