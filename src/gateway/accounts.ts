/** Who is calling: the account behind an API key, or the one the provider's edge names. */
import type { IncomingHttpHeaders } from 'node:http';
import type { KeyTable } from './keys.js';

export type Caller = { ok: true; accountId: string; apiKeyId: string } | { ok: false; reason: 'missing_key' | 'unknown_key' };

/** The key as sent by either SDK: `Authorization: Bearer` (OpenAI) or `x-api-key` (Anthropic). */
export function apiKeyOf(headers: IncomingHttpHeaders): string | null {
  const x = headers['x-api-key'];
  if (typeof x === 'string' && x) return x;
  const auth = headers.authorization;
  if (typeof auth === 'string' && auth.startsWith('Bearer ')) return auth.slice(7);
  return null;
}

/** A short non-secret id for a key, safe to log and store. */
export function keyIdOf(key: string): string {
  return 'key_' + key.slice(-4);
}

export function resolveCaller(headers: IncomingHttpHeaders, keys: KeyTable, accountHeader: string | undefined): Caller {
  if (accountHeader) {
    const a = headers[accountHeader];
    if (typeof a === 'string' && a) {
      const key = apiKeyOf(headers);
      return { ok: true, accountId: a, apiKeyId: key ? keyIdOf(key) : 'edge' };
    }
  }
  const key = apiKeyOf(headers);
  if (key === null) return { ok: false, reason: 'missing_key' };
  const accountId = keys.accountOf(key);
  if (accountId === undefined) return { ok: false, reason: 'unknown_key' };
  return { ok: true, accountId, apiKeyId: keyIdOf(key) };
}
