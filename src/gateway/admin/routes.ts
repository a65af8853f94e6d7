/**
 * The operator routes as a table. Each route says which role each of its methods needs, as
 * the investigation API's roles go (viewers read, analysts also decide, admins do all); the
 * token is checked before the path is decoded or the body read, so that nothing about a
 * request is acted on for a caller who has not proved who they are.
 */
import { roleAllows, tokenHolder, type Role, type TokenHolder } from './auth.js';
import { adminError, json, type AdminAnswer, type AdminRequest } from './http.js';
import { changeAccount, showAccount, type AccountRouteDeps } from './accounts.js';
import { metricsText, type MetricsRouteDeps } from './metrics.js';
import { readiness, type ReadyRouteDeps } from './ready.js';
import { shadowView, type ShadowRouteDeps } from './shadow.js';

export type AdminRouteDeps = AccountRouteDeps & MetricsRouteDeps & ReadyRouteDeps & ShadowRouteDeps;

export interface AdminRoute {
  /** An exact path, or a prefix ending in `/` whose rest is the route's one parameter. */
  path: string;
  /**
   * The role each method needs; null for liveness probes, which cannot carry a secret
   * (everything else can and must).
   */
  methods: Readonly<Record<string, Role>> | null;
  handle(req: AdminRequest, param: string, holder: TokenHolder | null): Promise<AdminAnswer>;
}

export function adminRoutes(deps: AdminRouteDeps): AdminRoute[] {
  return [
    { path: '/healthz', methods: null, handle: async () => json(200, { ok: true }) },
    { path: '/readyz', methods: null, handle: async () => readiness(deps) },
    { path: '/metrics', methods: { GET: 'viewer' }, handle: () => metricsText(deps) },
    { path: '/admin/shadow', methods: { GET: 'viewer' }, handle: async () => shadowView(deps) },
    {
      path: '/admin/accounts/',
      // Changing an account's override or block is a decision: an analyst's, as in the API.
      methods: { GET: 'viewer', PUT: 'analyst' },
      handle: async (req, accountId, holder) => (req.method === 'PUT' ? changeAccount(deps, accountId, await req.body(), holder) : showAccount(deps, accountId)),
    },
  ];
}

function decodeParam(raw: string): string | null {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

/** Answers one operator request from the table; null when no route has the path. */
export async function dispatchAdmin(routes: readonly AdminRoute[], holders: readonly TokenHolder[], req: AdminRequest): Promise<AdminAnswer | null> {
  const path = req.rawPath;
  const route = routes.find((r) => (r.path.endsWith('/') ? path.startsWith(r.path) && path.length > r.path.length : path === r.path));
  if (route === undefined) return null;
  let holder: TokenHolder | null = null;
  if (route.methods !== null) {
    holder = tokenHolder(req.headers, holders);
    if (holder === null) return adminError(401, 'authentication_error', 'A bearer token is required');
    const needed = route.methods[req.method];
    if (needed === undefined) return adminError(405, 'invalid_request_error', `Cannot ${req.method} ${route.path}`);
    if (!roleAllows(holder.role, needed)) return adminError(403, 'permission_error', `The ${holder.role} role cannot ${req.method} ${route.path}: it needs ${needed}`);
  } else if (req.method !== 'GET') return adminError(405, 'invalid_request_error', `Cannot ${req.method} ${route.path}`);
  const param = route.path.endsWith('/') ? decodeParam(path.slice(route.path.length)) : '';
  if (param === null) return adminError(400, 'invalid_request_error', 'Cannot read the path: it is not valid percent-encoding');
  return route.handle(req, param, holder);
}
