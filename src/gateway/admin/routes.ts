/**
 * The operator routes as a table. Each route says whether it needs the admin token; the
 * token is checked before the path is decoded or the body read, so that nothing about a
 * request is acted on for a caller who has not proved who they are.
 */
import { hasAdminToken } from './auth.js';
import { adminError, json, type AdminAnswer, type AdminRequest } from './http.js';
import { changeAccount, showAccount, type AccountRouteDeps } from './accounts.js';
import { metricsText, type MetricsRouteDeps } from './metrics.js';
import { readiness, type ReadyRouteDeps } from './ready.js';
import { shadowView, type ShadowRouteDeps } from './shadow.js';

export type AdminRouteDeps = AccountRouteDeps & MetricsRouteDeps & ReadyRouteDeps & ShadowRouteDeps;

export interface AdminRoute {
  /** An exact path, or a prefix ending in `/` whose rest is the route's one parameter. */
  path: string;
  methods: readonly string[];
  /** Liveness probes cannot carry a secret; everything else can and must. */
  auth: boolean;
  handle(req: AdminRequest, param: string): Promise<AdminAnswer>;
}

export function adminRoutes(deps: AdminRouteDeps): AdminRoute[] {
  return [
    { path: '/healthz', methods: ['GET'], auth: false, handle: async () => json(200, { ok: true }) },
    { path: '/readyz', methods: ['GET'], auth: false, handle: async () => readiness(deps) },
    { path: '/metrics', methods: ['GET'], auth: true, handle: () => metricsText(deps) },
    { path: '/admin/shadow', methods: ['GET'], auth: true, handle: async () => shadowView(deps) },
    {
      path: '/admin/accounts/',
      methods: ['GET', 'PUT'],
      auth: true,
      handle: async (req, accountId) => (req.method === 'PUT' ? changeAccount(deps, accountId, await req.body()) : showAccount(deps, accountId)),
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
export async function dispatchAdmin(routes: readonly AdminRoute[], adminToken: string | null, req: AdminRequest): Promise<AdminAnswer | null> {
  const path = req.rawPath;
  const route = routes.find((r) => (r.path.endsWith('/') ? path.startsWith(r.path) && path.length > r.path.length : path === r.path));
  if (route === undefined) return null;
  if (route.auth && !hasAdminToken(req.headers, adminToken)) return adminError(401, 'authentication_error', 'Admin token required');
  if (!route.methods.includes(req.method)) return adminError(405, 'invalid_request_error', `Cannot ${req.method} ${route.path}`);
  const param = route.path.endsWith('/') ? decodeParam(path.slice(route.path.length)) : '';
  if (param === null) return adminError(400, 'invalid_request_error', 'Cannot read the path: it is not valid percent-encoding');
  return route.handle(req, param);
}
