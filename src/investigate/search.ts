/** Search by indicator: the accounts whose exchanges carry it, and the campaigns that list it. */
import type { ScanReport } from '../core/report.js';
import type { IndicatorHolder, SearchKind } from '../store/casework.js';
import type { Store } from '../store/store.js';

export interface SearchResult {
  kind: SearchKind;
  value: string;
  accounts: (IndicatorHolder & { verdict: string; campaign_id: string | null })[];
  campaigns: string[];
}

function campaignListsIt(c: ScanReport['campaigns'][number], kind: SearchKind, value: string): boolean {
  const ind = c.indicators;
  switch (kind) {
    case 'ip': return ind.ips.includes(value);
    case 'subnet': return ind.subnets.includes(value);
    case 'asn': return ind.asns.map(String).includes(value);
    case 'payment': return ind.payment_fingerprints.includes(value);
    case 'user_agent': return ind.user_agents.includes(value);
    case 'harness': return ind.harnesses.includes(value);
    case 'system': return ind.harnesses.includes('system:' + value);
    case 'template': return ind.templates.includes(value);
  }
}

export async function searchIndicator(store: Pick<Store, 'indicatorHolders'>, report: ScanReport, kind: SearchKind, value: string, limit: number): Promise<SearchResult> {
  const verdicts = new Map(report.accounts.map((a) => [a.account_id, a]));
  const holders = await store.indicatorHolders(kind, value, limit);
  return {
    kind,
    value,
    accounts: holders.map((h) => ({ ...h, verdict: verdicts.get(h.account_id)?.verdict ?? 'benign', campaign_id: verdicts.get(h.account_id)?.campaign_id ?? null })),
    campaigns: report.campaigns.filter((c) => campaignListsIt(c, kind, value)).map((c) => c.id),
  };
}
