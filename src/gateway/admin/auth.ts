/** Bearer tokens and their roles, checked before anything else of a request is looked at. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

function tokenMatches(given: string, expected: string): boolean {
  // Hash both so that the comparison is constant-time whatever the lengths.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** What a bearer of a token may do: viewers read, analysts also decide, admins do everything. */
export const ROLES = ['viewer', 'analyst', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** One token's holder: `name` is who the audit says did a thing. */
export interface TokenHolder {
  name: string;
  role: Role;
  token: string;
}

const RANK: Record<Role, number> = { viewer: 0, analyst: 1, admin: 2 };

/** Whether `role` may do what `needed` may. */
export const roleAllows = (role: Role, needed: Role): boolean => RANK[role] >= RANK[needed];

/** The holder of the request's bearer token, or null. Every token is compared, in constant time each. */
export function tokenHolder(headers: IncomingHttpHeaders | { authorization?: string | undefined }, holders: readonly TokenHolder[]): TokenHolder | null {
  const auth = headers.authorization ?? '';
  if (!auth.startsWith('Bearer ')) return null;
  const given = auth.slice(7);
  let found: TokenHolder | null = null;
  for (const h of holders) if (tokenMatches(given, h.token) && found === null) found = h;
  return found;
}
