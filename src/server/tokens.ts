/**
 * The server's tokens: DISTILLWATCH_ADMIN_TOKEN (or _FILE) is an admin token, as for the
 * gateway; DISTILLWATCH_TOKENS_FILE names a JSON file of more holders with their roles:
 * `[{"name": "ana", "role": "analyst", "token": "..."}]`. A file that cannot be read or is
 * malformed is an error: starting without the tokens meant would lock people out in silence.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { adminTokenFromEnv } from '../gateway/config.js';
import { ROLES, type TokenHolder } from '../gateway/admin/auth.js';

const TokensFileSchema = z.array(z.strictObject({ name: z.string().min(1), role: z.enum(ROLES), token: z.string().min(16) }));

export function tokensFromEnv(env: NodeJS.ProcessEnv = process.env): { ok: true; holders: TokenHolder[] } | { ok: false; error: string } {
  const admin = adminTokenFromEnv(env);
  if (!admin.ok) return admin;
  const holders: TokenHolder[] = admin.token !== null ? [{ name: 'admin', role: 'admin', token: admin.token }] : [];
  const file = env.DISTILLWATCH_TOKENS_FILE;
  if (!file) return { ok: true, holders };
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : e instanceof SyntaxError ? 'it is not JSON' : (e as Error).message;
    return { ok: false, error: `Cannot read the tokens file "${file}" (DISTILLWATCH_TOKENS_FILE): ${why}` };
  }
  const r = TokensFileSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    return { ok: false, error: `Cannot read the tokens file "${file}" (DISTILLWATCH_TOKENS_FILE): ${issue.path.length ? issue.path.map((k) => (typeof k === 'number' ? `entry ${k}` : `"${String(k)}"`)).join(' ') : 'the file'}: ${issue.message}` };
  }
  return { ok: true, holders: [...holders, ...r.data] };
}
