/**
 * The investigation API (`/api/v1`) as a Hono app: routes declared with their zod schemas,
 * which validate requests and make the OpenAPI 3.1 document at `/api/v1/openapi.json`.
 * Dependencies come in as arguments, so tests and other servers mount the same app.
 */
import { OpenAPIHono, createRoute, z, type RouteConfig } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';
import type { ScanReport } from '../core/report.js';
import { roleAllows, tokenHolder, type Role, type TokenHolder } from '../gateway/admin/auth.js';
import type { GatewayState } from '../gateway/state.js';
import { campaignDetail, campaignTimeline, listCampaigns } from '../investigate/campaigns.js';
import { accountDetail } from '../investigate/accounts.js';
import { campaignGraph } from '../investigate/graph.js';
import { overview } from '../investigate/overview.js';
import { searchIndicator } from '../investigate/search.js';
import { reviewQueue } from '../investigate/queue.js';
import { currentDecisions } from '../investigate/decisions.js';
import { decide, type DecisionRequest } from '../investigate/decide.js';
import { renderDossier } from '../dossier/render.js';
import type { ShadowSource } from '../investigate/shadow.js';
import * as S from './schemas.js';

export interface ApiDeps {
  store: Store;
  holders: readonly TokenHolder[];
  /** Where decisions are pushed to the gateways; null when no shared state is configured. */
  enforcement: Pick<GatewayState, 'setOverride' | 'setBlocked'> | null;
  logger: Logger;
  /** Names this server in the account decisions it records. */
  origin: string;
  /** A gateway's shadow-mode tally (would-have counts); absent when none was named. */
  shadow?: ShadowSource | null;
}

type Env = { Variables: { holder: TokenHolder } };
type ErrorType = z.infer<typeof S.ErrorSchema>['error']['type'];

const EMPTY_REPORT: ScanReport = { generated_at: '', input: { exchanges: 0, accounts: 0, bad_records: 0 }, campaigns: [], accounts: [] };

const errorBody = (type: ErrorType, message: string) => ({ error: { type, message } });
const errors = {
  400: { description: 'Bad input: the message names the field', content: { 'application/json': { schema: S.ErrorSchema } } },
  401: { description: 'No valid token', content: { 'application/json': { schema: S.ErrorSchema } } },
  403: { description: 'The token\'s role may not do this', content: { 'application/json': { schema: S.ErrorSchema } } },
  404: { description: 'No such id', content: { 'application/json': { schema: S.ErrorSchema } } },
} as const;
const ok = <T extends z.ZodType>(schema: T, description: string) => ({ 200: { description, content: { 'application/json': { schema } } } });

/** Names the first bad field of a request, e.g. `"reason" must be one of ...`. */
function invalidMessage(target: string, error: z.ZodError): string {
  const issue = error.issues[0]!;
  const where = issue.path.length > 0 ? `"${issue.path.join('.')}"` : target === 'json' ? 'the body' : `the ${target}`;
  if (issue.code === 'unrecognized_keys') return `Invalid ${target === 'json' ? 'body' : target}: unknown key ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  return `Invalid ${target === 'json' ? 'body' : target}: ${where}: ${issue.message}`;
}

export function apiApp(deps: ApiDeps): OpenAPIHono<Env> {
  const app = new OpenAPIHono<Env>({
    defaultHook: (result, c) => {
      if (!result.success) return c.json(errorBody('invalid_request_error', invalidMessage(result.target, result.error as z.ZodError)), 400);
      return undefined;
    },
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });

  app.get('/healthz', (c) => c.json({ ok: true }));
  // Every API route needs a token; the role is checked per route (`needs`).
  app.use('/api/v1/*', async (c, next) => {
    const holder = tokenHolder({ authorization: c.req.header('authorization') }, deps.holders);
    if (holder === null) return c.json(errorBody('authentication_error', 'A bearer token is required'), 401);
    c.set('holder', holder);
    await next();
  });
  app.onError((e, c) => {
    // Hono's JSON body reader refuses a body that is not JSON with a 400 of its own.
    if (e instanceof HTTPException && e.status === 400) return c.json(errorBody('invalid_request_error', 'Invalid body: it is not JSON'), 400);
    // The cause goes to the log; the caller gets a bare error, never internals.
    deps.logger.error({ err: e.message, path: c.req.path }, 'api request failed');
    return c.json(errorBody('server_error', 'The server failed to answer; see its log'), 500);
  });

  const route = <R extends RouteConfig>(r: R) => createRoute({ ...r, security: [{ bearer: [] }] });
  const report = async () => (await deps.store.latestReport()) ?? EMPTY_REPORT;
  // Campaign decisions follow their members to the campaign that has them in this report.
  const decisions = async () => currentDecisions(await deps.store.caseDecisions(), await report());
  const forbidden = (c: Context<Env>, needed: Role) =>
    roleAllows(c.get('holder').role, needed) ? null : c.json(errorBody('permission_error', `The ${c.get('holder').role} role cannot do this: it needs ${needed}`), 403);

  app.openapi(
    route({ method: 'get', path: '/api/v1/campaigns', summary: 'Campaigns of the latest scan, filtered, sorted and paged', request: { query: S.CampaignQuerySchema }, responses: { ...ok(S.page(S.CampaignSummarySchema, 'CampaignPage'), 'A page of campaigns'), 400: errors[400], 401: errors[401] } }),
    async (c) => {
      const q = c.req.valid('query');
      const page = listCampaigns(await report(), await decisions(), {
        ...(q.min_confidence !== undefined ? { minConfidence: q.min_confidence } : {}),
        ...(q.tactic !== undefined ? { tactic: q.tactic } : {}),
        ...(q.capability !== undefined ? { capability: q.capability } : {}),
        ...(q.decision !== undefined ? { decision: q.decision } : {}),
        sort: q.sort,
        order: q.order,
        limit: q.limit,
        offset: q.offset,
      });
      return c.json(page, 200);
    },
  );

  app.openapi(
    route({ method: 'get', path: '/api/v1/campaigns/{id}', summary: 'A campaign with its members, indicators, capabilities, tactics, explanation and decision', request: { params: S.IdParam('Campaign id') }, responses: { ...ok(S.CampaignDetailSchema, 'The campaign'), 401: errors[401], 404: errors[404] } }),
    async (c) => {
      const { id } = c.req.valid('param');
      const d = campaignDetail(await report(), await decisions(), id);
      if (d === null) return c.json(errorBody('not_found_error', `No campaign "${id}" in the latest scan`), 404);
      return c.json(d, 200);
    },
  );

  app.openapi(
    route({ method: 'get', path: '/api/v1/campaigns/{id}/timeline', summary: "The members' exchanges per hour (UTC) and the flag times", request: { params: S.IdParam('Campaign id') }, responses: { ...ok(S.TimelineSchema, 'The timeline'), 401: errors[401], 404: errors[404] } }),
    async (c) => {
      const { id } = c.req.valid('param');
      const t = await campaignTimeline(deps.store, await report(), id);
      if (t === null) return c.json(errorBody('not_found_error', `No campaign "${id}" in the latest scan`), 404);
      return c.json(t, 200);
    },
  );

  app.openapi(
    route({
      method: 'get',
      path: '/api/v1/campaigns/{id}/dossier',
      summary: "The campaign's evidence dossier for a policy or legal team: one self-contained HTML document, or PDF",
      request: { params: S.IdParam('Campaign id'), query: S.DossierQuerySchema },
      responses: {
        200: { description: 'The dossier', content: { 'text/html': { schema: z.string() }, 'application/pdf': { schema: z.string().openapi({ format: 'binary' }) } } },
        400: errors[400],
        401: errors[401],
        404: errors[404],
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const q = c.req.valid('query');
      const r = await renderDossier(deps.store, id, q.format, { redaction: q.redact, samples: q.samples });
      if (!r.ok && r.code === 'pdf_failed') throw new Error(r.message);
      if (!r.ok) return c.json(errorBody('not_found_error', `No campaign "${id}" in the latest scan`), 404);
      const name = `dossier-${id.replace(/[^\w.-]/g, '_')}.${r.format}`;
      return c.body(typeof r.body === 'string' ? r.body : new Uint8Array(r.body), 200, { 'content-type': r.contentType, 'content-disposition': `inline; filename="${name}"` });
    },
  );

  app.openapi(
    route({ method: 'get', path: '/api/v1/campaigns/{id}/graph', summary: 'The account–indicator graph: members, the indicators they share, and who holds which', request: { params: S.IdParam('Campaign id') }, responses: { ...ok(S.GraphSchema, 'The graph'), 401: errors[401], 404: errors[404] } }),
    async (c) => {
      const { id } = c.req.valid('param');
      const g = await campaignGraph(deps.store, await report(), id);
      if (g === null) return c.json(errorBody('not_found_error', `No campaign "${id}" in the latest scan`), 404);
      return c.json(g, 200);
    },
  );

  app.openapi(
    route({ method: 'get', path: '/api/v1/overview', summary: 'The scan at a glance: scale, campaigns, exchanges per hour with the flag times, capabilities targeted, the review queue length', responses: { ...ok(S.OverviewSchema, 'The overview'), 401: errors[401] } }),
    async (c) => c.json(await overview(deps.store, await report(), await decisions()), 200),
  );

  app.openapi(
    route({ method: 'get', path: '/api/v1/shadow', summary: "Shadow mode: what the gateway's policy would have done (flag, throttle, degrade, block) without enforcing it, and the accounts it would have acted on most", responses: { ...ok(S.ShadowSchema, 'The would-have counts, or why there are none'), 401: errors[401] } }),
    async (c) => c.json(deps.shadow ? await deps.shadow() : { available: false as const, reason: 'No gateway named: start serve with --gateway-admin URL to show its shadow counts' }, 200),
  );

  app.openapi(
    route({ method: 'get', path: '/api/v1/accounts/{id}', summary: 'An account with its findings (measured values), decision and links', request: { params: S.IdParam('Account id') }, responses: { ...ok(S.AccountSchema, 'The account'), 401: errors[401], 404: errors[404] } }),
    async (c) => {
      const { id } = c.req.valid('param');
      const r = await report();
      const inStore = r.accounts.some((a) => a.account_id === id) || (await deps.store.hasAccount(id));
      const a = accountDetail(r, await decisions(), id, inStore);
      if (a === null) return c.json(errorBody('not_found_error', `No account "${id}" in the store`), 404);
      return c.json(a, 200);
    },
  );

  app.openapi(
    route({ method: 'get', path: '/api/v1/accounts/{id}/exchanges', summary: "An account's exchanges, newest first: metadata and prompt previews only", request: { params: S.IdParam('Account id'), query: S.PageQuery }, responses: { ...ok(S.page(S.ExchangePreviewSchema, 'ExchangePage'), 'A page of exchanges'), 400: errors[400], 401: errors[401], 404: errors[404] } }),
    async (c) => {
      const { id } = c.req.valid('param');
      const q = c.req.valid('query');
      if (!(await deps.store.hasAccount(id))) return c.json(errorBody('not_found_error', `No account "${id}" in the store`), 404);
      return c.json(await deps.store.accountExchanges(id, q), 200);
    },
  );

  app.openapi(
    route({ method: 'get', path: '/api/v1/search', summary: 'Accounts and campaigns holding an indicator (IP, subnet, ASN, payment fingerprint, user agent, harness, system or template signature)', request: { query: S.SearchQuerySchema }, responses: { ...ok(S.SearchResultSchema, 'Who holds it'), 400: errors[400], 401: errors[401] } }),
    async (c) => {
      const q = c.req.valid('query');
      return c.json(await searchIndicator(deps.store, await report(), q.kind, q.value, q.limit), 200);
    },
  );

  app.openapi(
    route({ method: 'get', path: '/api/v1/review-queue', summary: 'Flagged campaigns and accounts awaiting a decision, oldest flag first', responses: { ...ok(z.object({ total: z.number().int(), items: z.array(S.QueueItemSchema) }).openapi('ReviewQueue'), 'The queue'), 401: errors[401] } }),
    async (c) => {
      const items = reviewQueue(await report(), await decisions());
      return c.json({ total: items.length, items }, 200);
    },
  );

  app.openapi(
    route({ method: 'get', path: '/api/v1/decisions', summary: 'Every decision made, oldest first', responses: { ...ok(z.object({ items: z.array(S.CaseDecisionSchema) }).openapi('DecisionList'), 'The decisions'), 401: errors[401] } }),
    async (c) => c.json({ items: await deps.store.caseDecisions() }, 200),
  );

  app.openapi(
    route({
      method: 'post',
      path: '/api/v1/decisions',
      summary: 'Decide on a campaign or an account (analyst or admin); audited, and pushed to the gateways',
      request: { body: { content: { 'application/json': { schema: S.DecisionRequestSchema } }, required: true } },
      responses: { ...ok(S.DecisionOutcomeSchema, 'The decision and what it changed per account'), 400: errors[400], 401: errors[401], 403: errors[403], 404: errors[404] },
    }),
    async (c) => {
      const denied = forbidden(c, 'analyst');
      if (denied) return denied;
      const body = c.req.valid('json') as DecisionRequest;
      const r = await decide({ store: deps.store, report: await deps.store.latestReport(), enforcement: deps.enforcement, origin: deps.origin }, c.get('holder'), body);
      if (!r.ok) return c.json(errorBody('not_found_error', r.message), 404);
      deps.logger.info({ actor: c.get('holder').name, kind: body.kind, target: body.target, accounts: r.accounts.length }, 'decision made');
      return c.json({ decision: r.decision, accounts: r.accounts }, 200);
    },
  );

  app.openapi(
    route({ method: 'get', path: '/api/v1/audit', summary: 'The audit of every change, newest first: who, when, what, why, before and after', request: { query: S.AuditQuerySchema }, responses: { ...ok(S.page(S.AuditEntrySchema, 'AuditPage'), 'A page of the audit'), 400: errors[400], 401: errors[401] } }),
    async (c) => {
      const q = c.req.valid('query');
      const target = q.target_kind !== undefined && q.target_id !== undefined ? { kind: q.target_kind, id: q.target_id } : undefined;
      return c.json(await deps.store.auditLog({ ...(target ? { target } : {}), limit: q.limit, offset: q.offset }), 200);
    },
  );

  app.doc31('/api/v1/openapi.json', { openapi: '3.1.0', info: { title: 'DistillWatch investigation API', version: '1' } });
  return app;
}
