/**
 * Gateway configuration: validated once with zod, types derived from the schema. Secrets
 * (admin token) come from the environment or a file, never from the config body that may
 * be logged or committed.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { PolicySchema } from './policy.js';
import { KeyTable } from './keys.js';
import { TrustedEdge } from './edge.js';

/** Strict objects: a misspelt key is an error at start, not a setting silently ignored. */
export const GatewayConfigSchema = z.strictObject({
  listen: z.strictObject({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(8787) }).default({ host: '127.0.0.1', port: 8787 }),
  /**
   * Where `/metrics`, `/readyz` and the admin routes listen: loopback by default, apart
   * from the clients' port, so that exposing the proxy exposes none of them.
   */
  adminListen: z.strictObject({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(8788) }).default({ host: '127.0.0.1', port: 8788 }),
  upstream: z.url(),
  /**
   * API key -> account id; a key is written plain or as `sha256:<hex>` of the key
   * (`distillwatch gateway hash-key`). Keys absent from the map are refused unless the
   * trusted edge names the account.
   */
  keys: z
    .record(z.string(), z.string())
    .default({})
    .transform((entries, ctx) => {
      const t = KeyTable.from(entries);
      if (t.ok) return t.value;
      ctx.addIssue({ code: 'custom', message: t.error });
      return z.NEVER;
    }),
  /**
   * A header set by the provider's edge that carries the account id. Read only on
   * connections from `edge.trustedAddresses`; the edge must strip it from clients' requests.
   */
  accountHeader: z.string().toLowerCase().optional(),
  /**
   * The provider's edge. Only connections from these addresses (CIDR) may name their account
   * (`accountHeader`) or carry edge metadata (`x-distillwatch-edge`).
   */
  edge: z
    .strictObject({
      trustedAddresses: z
        .array(z.string())
        .min(1)
        .transform((cidrs, ctx) => {
          const t = TrustedEdge.from(cidrs);
          if (t.ok) return t.value;
          ctx.addIssue({ code: 'custom', message: t.error });
          return z.NEVER;
        }),
    })
    .optional(),
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
  /**
   * Where finished exchanges are analysed. `thread`: in a worker thread of this process,
   * which also holds the store (one machine). `stream`: a thin replica; exchanges are
   * appended to `partitions` Redis streams (by account) for `distillwatch worker` processes,
   * and standings come back from `distillwatch linker` through the shared state.
   */
  analysis: z
    .discriminatedUnion('mode', [
      z.strictObject({ mode: z.literal('thread') }),
      z.strictObject({
        mode: z.literal('stream'),
        /** Must be the same on every gateway, worker and linker of a deployment. */
        partitions: z.number().int().min(1).max(1024).default(8),
        /** Approximate cap on each partition stream, in requests (entries hold a flush's batch each; see live/exchange-stream.ts). */
        maxLen: z.number().int().min(1000).default(1_000_000),
        /** Key prefix shared with the workers and the linker. */
        prefix: z.string().default('dw:'),
      }),
    ])
    .default({ mode: 'thread' }),
  policy: PolicySchema.default(PolicySchema.parse({})),
  /** The write-ahead log of finished exchanges (used when there is a store). */
  durability: z
    .strictObject({
      /** @default "<spoolDir>/wal" */
      walDir: z.string().optional(),
      /** One write and fsync per this many ms: what a kill -9 can lose. */
      commitIntervalMs: z.number().int().min(0).max(1000).default(5),
      /**
       * A thin replica: how long Redis gets to answer for an exchange handed to it (its XADD
       * in the kernel's socket buffer, which a kill -9 of the gateway no longer loses) before
       * the log writes and fsyncs it all the same.
       */
      redisAnswerMs: z.number().int().min(0).max(10000).default(50),
    })
    .prefault({}),
  /**
   * The output watermark: answers marked with a key derived from the master key in
   * `keyFile` (the account's campaign's key, so that a test names the campaign). `apply`:
   * `flagged` marks members of flagged campaigns and degraded accounts, `suspicious` also
   * any account the policy acts on, `all` every answer.
   */
  watermark: z.strictObject({ keyFile: z.string().min(1), apply: z.enum(['flagged', 'suspicious', 'all']).default('flagged') }).optional(),
  /** When exchanges cannot be written to disk (full disk): `serve` and count them, or `refuse` with 503. */
  logFailure: z.enum(['serve', 'refuse']).default('serve'),
  /** On SIGTERM, how long requests in flight may take to finish before they are cut. */
  drainTimeoutMs: z.number().int().min(0).default(25_000),
  connections: z
    .strictObject({
      /** Most time a client may take to send a request's headers (slowloris). */
      headersTimeoutMs: z.number().int().positive().default(10_000),
      /** Most connections open at once from one client address; beyond, new ones are closed. */
      maxPerClient: z.number().int().positive().default(256),
    })
    .prefault({}),
}).superRefine((c, ctx) => {
  // Without the edge's addresses, the header would be believed from anyone.
  if (c.analysis.mode === 'stream') {
    // The streams and the standings both live in Redis; the store belongs to the linker.
    if (c.redisUrl === undefined) ctx.addIssue({ code: 'custom', path: ['analysis'], message: 'mode "stream" needs "redisUrl": the exchange streams and the standings live in Redis' });
    if (c.storePath !== undefined) ctx.addIssue({ code: 'custom', path: ['storePath'], message: 'is not used with "analysis.mode" "stream": the linker holds the store (distillwatch linker --db)' });
  }
  if (c.accountHeader !== undefined && c.edge === undefined) ctx.addIssue({ code: 'custom', path: ['accountHeader'], message: 'needs "edge.trustedAddresses": the header is believed only from the provider\'s edge' });
});
export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;

export type ConfigResult = { ok: true; config: GatewayConfig } | { ok: false; error: string };

/** Parses a config object, naming the bad key in the error. */
export function parseConfig(value: unknown, source?: string): ConfigResult {
  const where = source === undefined ? '' : ` "${source}"`;
  const r = GatewayConfigSchema.safeParse(value);
  if (r.success) return { ok: true, config: r.data };
  return { ok: false, error: `Cannot read gateway config${where}: ${describeIssue(r.error.issues[0])}` };
}

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (issue === undefined) return 'it is invalid';
  const at = issue.path.join('.');
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => `"${at ? at + '.' : ''}${k}"`).join(', ');
    return `unknown key${issue.keys.length > 1 ? 's' : ''} ${keys}`;
  }
  return `"${at}" ${issue.message}`;
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
  return parseConfig({ ...(value as Record<string, unknown>), ...overrides }, path);
}

/**
 * Settings read once, when the gateway starts (connections, files, worker threads, record
 * ids): a reload cannot change them.
 */
export const RESTART_ONLY = ['listen', 'adminListen', 'upstream', 'replicaId', 'redisUrl', 'storePath', 'spoolDir', 'logPrompts', 'ipHashKey', 'linkIntervalMs', 'flightRecheckMs', 'durability', 'connections', 'watermark', 'analysis'] as const;

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

/**
 * The admin token from DISTILLWATCH_ADMIN_TOKEN or the file DISTILLWATCH_ADMIN_TOKEN_FILE
 * names; null when neither is set. A file that cannot be read, or is empty, is an error:
 * starting without the token the operator meant to set would lock them out in silence.
 */
export function adminTokenFromEnv(env: NodeJS.ProcessEnv = process.env): { ok: true; token: string | null } | { ok: false; error: string } {
  if (env.DISTILLWATCH_ADMIN_TOKEN) return { ok: true, token: env.DISTILLWATCH_ADMIN_TOKEN };
  const file = env.DISTILLWATCH_ADMIN_TOKEN_FILE;
  if (!file) return { ok: true, token: null };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder' : (e as Error).message;
    return { ok: false, error: `Cannot read the admin token file "${file}" (DISTILLWATCH_ADMIN_TOKEN_FILE): ${why}` };
  }
  const token = text.trim();
  if (token === '') return { ok: false, error: `Cannot read the admin token file "${file}" (DISTILLWATCH_ADMIN_TOKEN_FILE): it is empty` };
  return { ok: true, token };
}
