/**
 * The API's shapes as zod schemas: they validate requests and generate the OpenAPI document,
 * so the document cannot drift from what the server accepts and answers.
 */
import { z } from '@hono/zod-openapi';
import { DISMISS_REASONS, SEARCH_KINDS, TARGET_KINDS } from '../store/casework.js';
import { CAMPAIGN_SORTS } from '../investigate/campaigns.js';
import { REDACTIONS } from '../dossier/redact.js';
import { DOSSIER_FORMATS } from '../dossier/render.js';

export const ErrorSchema = z
  .object({ error: z.object({ type: z.enum(['authentication_error', 'permission_error', 'invalid_request_error', 'not_found_error', 'server_error']), message: z.string() }) })
  .openapi('Error');

const limit = (max: number, dflt: number) => z.coerce.number().int().min(1).max(max).default(dflt).openapi({ param: { in: 'query' } });
const offset = z.coerce.number().int().min(0).default(0);

export const PageQuery = z.object({ limit: limit(500, 50), offset });

export const CampaignQuerySchema = z.object({
  min_confidence: z.coerce.number().min(0).max(1).optional(),
  tactic: z.string().optional(),
  capability: z.string().optional(),
  decision: z.enum(['none', 'confirm', 'dismiss', 'allowlist', 'block', 'snooze']).optional(),
  sort: z.enum(CAMPAIGN_SORTS).default('confidence'),
  order: z.enum(['asc', 'desc']).default('desc'),
  limit: limit(500, 50),
  offset,
});

export const DecisionSummarySchema = z
  .object({ kind: z.string(), at: z.string(), actor: z.string(), note: z.string(), reason: z.string().optional(), until: z.string().optional() })
  .nullable()
  .openapi('DecisionSummary');

export const CampaignSummarySchema = z
  .object({
    id: z.string(),
    confidence: z.number(),
    accounts: z.number().int(),
    exchanges: z.number().int(),
    first_seen: z.string(),
    last_seen: z.string(),
    first_flagged_at: z.string().nullable(),
    tactics: z.array(z.string()),
    top_capability: z.string().nullable(),
    decision: DecisionSummarySchema,
  })
  .openapi('CampaignSummary');

export const page = <T extends z.ZodType>(item: T, name: string) => z.object({ total: z.number().int(), items: z.array(item) }).openapi(name);

const SharedIndicator = z.object({ kind: z.string(), value: z.string(), accounts: z.number().int() });

export const CampaignSchema = z
  .object({
    id: z.string(),
    confidence: z.number(),
    accounts: z.array(z.string()),
    exchanges: z.number().int(),
    first_seen: z.string(),
    last_seen: z.string(),
    first_flagged_at: z.string().optional(),
    capabilities: z.record(z.string(), z.number()),
    tactics: z.array(z.string()),
    indicators: z.object({
      ips: z.array(z.string()),
      asns: z.array(z.number()),
      payment_fingerprints: z.array(z.string()),
      templates: z.array(z.string()),
      user_agents: z.array(z.string()),
      harnesses: z.array(z.string()),
      subnets: z.array(z.string()),
    }),
    explanation: z.string(),
    links: z.record(z.string(), z.number()),
    shared_indicators: z.array(SharedIndicator).optional(),
  })
  .openapi('Campaign');

export const CampaignDetailSchema = z
  .object({
    campaign: CampaignSchema,
    decision: DecisionSummarySchema,
    members: z.array(
      z.object({
        account_id: z.string(),
        risk: z.number(),
        verdict: z.enum(['distillation', 'suspicious', 'benign']),
        exchanges: z.number().int(),
        reasons: z.array(z.string()),
        first_flagged_at: z.string().nullable(),
        decision: DecisionSummarySchema,
      }),
    ),
  })
  .openapi('CampaignDetail');

export const TimelineSchema = z
  .object({
    campaign_id: z.string(),
    activity: z.array(z.object({ hour: z.string(), verdict: z.enum(['distillation', 'suspicious', 'benign']), exchanges: z.number().int(), accounts: z.number().int() })),
    flags: z.array(z.object({ account_id: z.string().nullable(), at: z.string() })),
    capabilities: z.array(z.object({ hour: z.string(), capability: z.string(), exchanges: z.number().int(), elicitation: z.number() })),
  })
  .openapi('CampaignTimeline');

const ShadowCounts = { flag: z.number().int(), throttle: z.number().int(), degrade: z.number().int(), block: z.number().int() };
export const ShadowSchema = z
  .discriminatedUnion('available', [
    z.object({ available: z.literal(true), gateway: z.string(), mode: z.enum(['enforce', 'shadow']), since: z.string(), would_have: z.object(ShadowCounts), accounts: z.array(z.object({ account_id: z.string(), ...ShadowCounts })) }),
    z.object({ available: z.literal(false), reason: z.string() }),
  ])
  .openapi('Shadow');

/** Where a node is drawn, in the unit square: laid out once per scan on the server. */
const Placed = { x: z.number().min(0).max(1), y: z.number().min(0).max(1) };

export const GraphSchema = z
  .object({
    campaign_id: z.string(),
    nodes: z.array(
      z.discriminatedUnion('type', [
        z.object({ id: z.string(), type: z.literal('account'), verdict: z.enum(['distillation', 'suspicious', 'benign']), exchanges: z.number().int(), ...Placed }),
        z.object({ id: z.string(), type: z.literal('indicator'), kind: z.string(), value: z.string(), accounts: z.number().int(), ...Placed }),
      ]),
    ),
    edges: z.array(z.object({ source: z.string(), target: z.string() })),
  })
  .openapi('CampaignGraph');

export const OverviewSchema = z
  .object({
    generated_at: z.string(),
    exchanges: z.number().int(),
    accounts: z.number().int(),
    campaigns: z.array(CampaignSummarySchema),
    hourly: z.array(z.object({ hour: z.string(), exchanges: z.number().int() })),
    flags: z.array(z.object({ campaign_id: z.string(), at: z.string() })),
    capabilities: z.record(z.string(), z.number()),
    review_queue: z.number().int(),
  })
  .openapi('Overview');

export const AccountSchema = z
  .object({
    account_id: z.string(),
    risk: z.number(),
    verdict: z.enum(['distillation', 'suspicious', 'benign']),
    campaign_id: z.string().nullable(),
    first_flagged_at: z.string().nullable(),
    exchanges: z.number().int(),
    findings: z.array(z.string()),
    decision: DecisionSummarySchema,
    links: z.object({ campaign_id: z.string(), accounts: z.array(z.string()), shared_indicators: z.array(SharedIndicator) }).nullable(),
  })
  .openapi('Account');

export const ExchangePreviewSchema = z
  .object({
    id: z.string(),
    ts: z.string(),
    model: z.string(),
    capability: z.string(),
    elicitation: z.number(),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
    status: z.number().nullable(),
    output_tokens: z.number().nullable(),
    prompt_preview: z.string().nullable(),
  })
  .openapi('ExchangePreview');

export const SearchQuerySchema = z.object({ kind: z.enum(SEARCH_KINDS), value: z.string().min(1), limit: limit(1000, 100) });

export const SearchResultSchema = z
  .object({
    kind: z.enum(SEARCH_KINDS),
    value: z.string(),
    accounts: z.array(z.object({ account_id: z.string(), exchanges: z.number().int(), first_seen: z.string(), last_seen: z.string(), verdict: z.string(), campaign_id: z.string().nullable() })),
    campaigns: z.array(z.string()),
  })
  .openapi('SearchResult');

export const QueueItemSchema = z
  .object({ kind: z.enum(TARGET_KINDS), id: z.string(), flagged_at: z.string(), confidence: z.number(), accounts: z.number().int(), campaign_id: z.string().nullable() })
  .openapi('QueueItem');

const Target = z.object({ kind: z.enum(TARGET_KINDS), id: z.string().min(1) });
const note = z.string().max(4000).default('');

export const DecisionRequestSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ target: Target, kind: z.literal('confirm'), note }),
    z.strictObject({ target: Target, kind: z.literal('dismiss'), reason: z.enum(DISMISS_REASONS), note }),
    z.strictObject({ target: Target, kind: z.literal('allowlist'), note }),
    z.strictObject({ target: Target, kind: z.literal('block'), note }),
    z.strictObject({ target: Target, kind: z.literal('snooze'), until: z.iso.datetime({ offset: true }).refine((v) => Date.parse(v) > Date.now(), 'must be in the future'), note }),
  ])
  .openapi('DecisionRequest');

export const CaseDecisionSchema = z
  .object({
    seq: z.number().int(),
    target: Target,
    kind: z.enum(['confirm', 'dismiss', 'allowlist', 'block', 'snooze']),
    reason: z.enum(DISMISS_REASONS).optional(),
    until: z.string().optional(),
    at: z.string(),
    actor: z.string(),
    note: z.string(),
    marks: z.array(z.string()),
    accounts: z.array(z.string()),
  })
  .openapi('Decision');

const AccountDecisions = z.object({ override: z.string().nullable(), blocked: z.boolean() });

export const DecisionOutcomeSchema = z
  .object({ decision: CaseDecisionSchema, accounts: z.array(z.object({ account_id: z.string(), before: AccountDecisions, after: AccountDecisions })) })
  .openapi('DecisionOutcome');

export const AuditQuerySchema = z.object({ target_kind: z.enum(TARGET_KINDS).optional(), target_id: z.string().optional(), limit: limit(500, 100), offset });

export const AuditEntrySchema = z
  .object({ seq: z.number().int(), at: z.string(), actor: z.string(), role: z.string(), action: z.string(), target: Target, why: z.string(), before: z.unknown(), after: z.unknown() })
  .openapi('AuditEntry');

export const IdParam = (name: string) => z.object({ id: z.string().min(1).openapi({ param: { name: 'id', in: 'path' }, description: name }) });

export const DossierQuerySchema = z.object({
  format: z.enum(DOSSIER_FORMATS).default('html').openapi({ description: 'html (one self-contained file) or pdf (printed with Chromium)' }),
  redact: z.enum(REDACTIONS).default('mask').openapi({ description: 'prompt previews: mask (shortened, addresses, links, keys and numbers masked), omit (none shown) or none (as stored)' }),
  samples: z.coerce.number().int().min(0).max(100).default(10),
});
