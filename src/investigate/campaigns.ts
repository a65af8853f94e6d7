/** Campaign views: the list (filter, sort, page), one campaign with its members, its timeline. */
import type { AccountReport, CampaignReport, ScanReport } from '../core/report.js';
import type { HourlyActivity, HourlyCapability, HourlyVerdictActivity, Page } from '../store/casework.js';
import type { Store } from '../store/store.js';
import { decisionSummary, inForce, targetKey, type CurrentDecisions } from './decisions.js';

export const CAMPAIGN_SORTS = ['confidence', 'accounts', 'exchanges', 'first_seen', 'last_seen'] as const;
export type CampaignSort = (typeof CAMPAIGN_SORTS)[number];

export interface CampaignQuery {
  minConfidence?: number;
  tactic?: string;
  capability?: string;
  /** `none` for campaigns nobody decided on yet. */
  decision?: string;
  sort: CampaignSort;
  order: 'asc' | 'desc';
  limit: number;
  offset: number;
}

export interface CampaignSummary {
  id: string;
  confidence: number;
  accounts: number;
  exchanges: number;
  first_seen: string;
  last_seen: string;
  first_flagged_at: string | null;
  tactics: string[];
  top_capability: string | null;
  decision: ReturnType<typeof decisionSummary>;
}

const sortKey: Record<CampaignSort, (c: CampaignReport) => number | string> = {
  confidence: (c) => c.confidence,
  accounts: (c) => c.accounts.length,
  exchanges: (c) => c.exchanges,
  first_seen: (c) => c.first_seen,
  last_seen: (c) => c.last_seen,
};

function topCapability(c: CampaignReport): string | null {
  const top = Object.entries(c.capabilities).sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))[0];
  return top ? top[0] : null;
}

export function summarise(c: CampaignReport, decisions: CurrentDecisions, now: number): CampaignSummary {
  return {
    id: c.id,
    confidence: c.confidence,
    accounts: c.accounts.length,
    exchanges: c.exchanges,
    first_seen: c.first_seen,
    last_seen: c.last_seen,
    first_flagged_at: c.first_flagged_at ?? null,
    tactics: c.tactics,
    top_capability: topCapability(c),
    decision: decisionSummary(inForce(decisions.get(targetKey({ kind: 'campaign', id: c.id })), now)),
  };
}

export function listCampaigns(report: ScanReport, decisions: CurrentDecisions, q: CampaignQuery, now = Date.now()): Page<CampaignSummary> {
  const matching = report.campaigns
    .filter((c) => q.minConfidence === undefined || c.confidence >= q.minConfidence)
    .filter((c) => q.tactic === undefined || (c.tactics as string[]).includes(q.tactic))
    .filter((c) => q.capability === undefined || (c.capabilities as Record<string, number>)[q.capability] !== undefined)
    .map((c) => summarise(c, decisions, now))
    .filter((s) => q.decision === undefined || (s.decision?.kind ?? 'none') === q.decision);
  const key = sortKey[q.sort];
  const byId = new Map(report.campaigns.map((c) => [c.id, c]));
  const sign = q.order === 'asc' ? 1 : -1;
  matching.sort((a, b) => {
    const ka = key(byId.get(a.id)!);
    const kb = key(byId.get(b.id)!);
    return (ka < kb ? -1 : ka > kb ? 1 : 0) * sign || a.id.localeCompare(b.id);
  });
  return { total: matching.length, items: matching.slice(q.offset, q.offset + q.limit) };
}

export interface CampaignDetail {
  campaign: CampaignReport;
  decision: ReturnType<typeof decisionSummary>;
  members: (Pick<AccountReport, 'account_id' | 'risk' | 'verdict' | 'exchanges' | 'reasons'> & { first_flagged_at: string | null; decision: ReturnType<typeof decisionSummary> })[];
}

export function campaignDetail(report: ScanReport, decisions: CurrentDecisions, id: string, now = Date.now()): CampaignDetail | null {
  const c = report.campaigns.find((x) => x.id === id);
  if (!c) return null;
  const verdicts = new Map(report.accounts.map((a) => [a.account_id, a]));
  return {
    campaign: c,
    decision: decisionSummary(inForce(decisions.get(targetKey({ kind: 'campaign', id })), now)),
    members: c.accounts.map((accountId) => {
      const v = verdicts.get(accountId);
      return {
        account_id: accountId,
        risk: v?.risk ?? 0,
        verdict: v?.verdict ?? 'benign',
        exchanges: v?.exchanges ?? 0,
        reasons: v?.reasons ?? [],
        first_flagged_at: v?.first_flagged_at ?? null,
        decision: decisionSummary(inForce(decisions.get(targetKey({ kind: 'account', id: accountId })), now)),
      };
    }),
  };
}

/** Member-hours summed per hour and verdict (the rollup's shape, for a store without one). */
function byVerdict(rows: readonly HourlyActivity[], verdicts: ReadonlyMap<string, HourlyVerdictActivity['verdict']>): HourlyVerdictActivity[] {
  const by = new Map<string, HourlyVerdictActivity>();
  for (const r of rows) {
    const verdict = verdicts.get(r.account_id) ?? 'benign';
    const key = `${r.hour} ${verdict}`;
    const t = by.get(key) ?? by.set(key, { hour: r.hour, verdict, exchanges: 0, accounts: 0 }).get(key)!;
    t.exchanges += r.exchanges;
    t.accounts += 1;
  }
  return [...by.values()].sort((a, b) => a.hour.localeCompare(b.hour) || a.verdict.localeCompare(b.verdict));
}

export interface CampaignTimeline {
  campaign_id: string;
  /**
   * The members' exchanges per hour (UTC) by their verdict, with how many were active: a
   * campaign of hundreds of members over weeks has too many member-hours to send a browser.
   */
  activity: HourlyVerdictActivity[];
  /** When the campaign, then each member, was flagged (event time). */
  flags: { account_id: string | null; at: string }[];
  /** The members' exchanges per hour per capability, with their mean elicitation score. */
  capabilities: HourlyCapability[];
}

/** From the scan's rollup when there is one for this report (investigate/rollup.ts), else from the exchanges. */
export async function campaignTimeline(store: Pick<Store, 'hourlyActivity' | 'hourlyCapabilities' | 'rolledTimeline'>, report: ScanReport, id: string): Promise<CampaignTimeline | null> {
  const c = report.campaigns.find((x) => x.id === id);
  if (!c) return null;
  const members = new Set(c.accounts);
  const flags: CampaignTimeline['flags'] = [];
  if (c.first_flagged_at) flags.push({ account_id: null, at: c.first_flagged_at });
  for (const a of report.accounts) if (members.has(a.account_id) && a.first_flagged_at) flags.push({ account_id: a.account_id, at: a.first_flagged_at });
  flags.sort((a, b) => a.at.localeCompare(b.at));
  const rolled = await store.rolledTimeline(report.generated_at, id);
  if (rolled !== null) return { campaign_id: id, activity: rolled.activity, flags, capabilities: rolled.capabilities };
  const verdicts = new Map(report.accounts.map((a) => [a.account_id, a.verdict]));
  return { campaign_id: id, activity: byVerdict(await store.hourlyActivity(c.accounts), verdicts), flags, capabilities: await store.hourlyCapabilities(c.accounts) };
}
