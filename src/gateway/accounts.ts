/** Who is calling: the account behind an API key, or the one the provider's edge names. */
import type { IncomingHttpHeaders } from 'node:http';
import type { KeyTable } from './keys.js';

export type CallerRefusal = 'missing_key' | 'unknown_key' | 'key_mismatch';
export type Caller = { ok: true; accountId: string; apiKeyId: string } | { ok: false; reason: CallerRefusal };

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

/**
 * The caller of a request. `edgeAccount` is the account the trusted edge named, or
 * undefined when the edge named none or the request did not come through the edge (a
 * header from anyone else is only text a client typed, and is not read).
 *
 * The edge has authenticated the caller, so its account stands even for a key the
 * gateway does not list; a key the gateway lists for another account is refused rather
 * than guessed between. `connection` (the request's socket) lets the key's hash be reused
 * by the connection's next requests.
 */
export function resolveCaller(headers: IncomingHttpHeaders, keys: KeyTable, edgeAccount: string | undefined, connection?: object): Caller {
  const key = apiKeyOf(headers);
  const keyAccount = key === null ? undefined : connection === undefined ? keys.accountOf(key) : keys.accountOfOn(key, connection);
  if (edgeAccount) {
    if (keyAccount !== undefined && keyAccount !== edgeAccount) return { ok: false, reason: 'key_mismatch' };
    return { ok: true, accountId: edgeAccount, apiKeyId: key ? keyIdOf(key) : 'edge' };
  }
  if (key === null) return { ok: false, reason: 'missing_key' };
  if (keyAccount === undefined) return { ok: false, reason: 'unknown_key' };
  return { ok: true, accountId: keyAccount, apiKeyId: keyIdOf(key) };
}

/** The account header's value when the request came from the trusted edge. */
export function edgeAccountOf(headers: IncomingHttpHeaders, accountHeader: string | undefined, fromEdge: boolean): string | undefined {
  if (!fromEdge || !accountHeader) return undefined;
  const a = headers[accountHeader];
  return typeof a === 'string' && a ? a : undefined;
}
