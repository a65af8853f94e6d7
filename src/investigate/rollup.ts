/**
 * The rollup a scan writes after its report: each campaign member's exchanges per hour and
 * capability, the store's exchanges per hour, and each campaign's graph laid out. The
 * dashboard reads these instead of counting the store's exchanges on every page it opens
 * (a campaign page of a 1M-exchange store took seconds that way).
 */
import type { ScanReport } from '../core/report.js';
import type { Store } from '../store/store.js';
import { computeCampaignGraph } from './graph.js';

/** Writes the rollup for `report` (just saved as the latest), replacing the one before. */
export async function writeRollup(store: Pick<Store, 'saveRollup' | 'indicatorHoldings'>, report: ScanReport): Promise<void> {
  const graphs: { campaign_id: string; graph: unknown }[] = [];
  for (const c of report.campaigns) graphs.push({ campaign_id: c.id, graph: await computeCampaignGraph(store, report, c.id) });
  const verdicts = new Map(report.accounts.map((a) => [a.account_id, a.verdict]));
  const campaigns = report.campaigns.map((c) => ({ id: c.id, members: c.accounts.map((a) => ({ account_id: a, verdict: verdicts.get(a) ?? ('benign' as const) })) }));
  await store.saveRollup({ generatedAt: report.generated_at, campaigns, graphs });
}
