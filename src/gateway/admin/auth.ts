/** The operator's bearer token, checked before anything else of a request is looked at. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

function tokenMatches(given: string, expected: string): boolean {
  // Hash both so that the comparison is constant-time whatever the lengths.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Whether the request carries the admin token; always false when no token is set. */
export function hasAdminToken(headers: IncomingHttpHeaders, token: string | null): boolean {
  const auth = headers.authorization ?? '';
  return token !== null && auth.startsWith('Bearer ') && tokenMatches(auth.slice(7), token);
}
