/** The overview: the scan's scale, its campaigns, exchanges per hour with the flag times, what was targeted. */
import type { ScanReport } from '../core/report.js';
import type { HourlyTotal } from '../store/casework.js';
import type { Store } from '../store/store.js';
import { summarise, type CampaignSummary } from './campaigns.js';
import { reviewQueue } from './queue.js';
import type { CurrentDecisions } from './decisions.js';

export interface Overview {
  generated_at: string;
  exchanges: number;
  accounts: number;
  /** Every campaign, highest confidence first: the overview charts them by confidence and size. */
  campaigns: CampaignSummary[];
  /** Exchanges per hour over the whole store. */
  hourly: HourlyTotal[];
  /** When each campaign was first flagged (event time). */
  flags: { campaign_id: string; at: string }[];
  /** Exchanges the campaigns spent on each capability, summed over campaigns. */
  capabilities: Record<string, number>;
  review_queue: number;
}

export async function overview(store: Pick<Store, 'hourlyTotals' | 'rolledTotals'>, report: ScanReport, decisions: CurrentDecisions, now = Date.now()): Promise<Overview> {
  const capabilities: Record<string, number> = {};
  for (const c of report.campaigns) {
    // A campaign's capabilities are shares of its exchanges; weighted by them, campaigns add up.
    for (const [k, share] of Object.entries(c.capabilities)) capabilities[k] = (capabilities[k] ?? 0) + Math.round((share ?? 0) * c.exchanges);
  }
  return {
    generated_at: report.generated_at,
    exchanges: report.input.exchanges,
    accounts: report.input.accounts,
    campaigns: report.campaigns.map((c) => summarise(c, decisions, now)).sort((a, b) => b.confidence - a.confidence || a.id.localeCompare(b.id)),
    hourly: (await store.rolledTotals(report.generated_at)) ?? (await store.hourlyTotals()),
    flags: report.campaigns.filter((c) => c.first_flagged_at).map((c) => ({ campaign_id: c.id, at: c.first_flagged_at! })).sort((a, b) => a.at.localeCompare(b.at)),
    capabilities,
    review_queue: reviewQueue(report, decisions, now).length,
  };
}
