/** Account views: its verdict and findings, its links (campaign and the indicators it shares). */
import type { AccountReport, ScanReport } from '../core/report.js';
import { decisionSummary, inForce, targetKey, type CurrentDecisions } from './decisions.js';

export interface AccountDetail {
  account_id: string;
  risk: number;
  verdict: AccountReport['verdict'];
  campaign_id: string | null;
  first_flagged_at: string | null;
  exchanges: number;
  /** The engine's findings on the account, each stating its measured value. */
  findings: string[];
  decision: ReturnType<typeof decisionSummary>;
  /** What ties the account to others: its campaign's fellow members and the indicators they share. */
  links: { campaign_id: string; accounts: string[]; shared_indicators: { kind: string; value: string; accounts: number }[] } | null;
}

export function accountDetail(report: ScanReport, decisions: CurrentDecisions, accountId: string, inStore: boolean, now = Date.now()): AccountDetail | null {
  const v = report.accounts.find((a) => a.account_id === accountId);
  if (!v && !inStore) return null;
  const campaign = v?.campaign_id ? report.campaigns.find((c) => c.id === v.campaign_id) : undefined;
  return {
    account_id: accountId,
    risk: v?.risk ?? 0,
    verdict: v?.verdict ?? 'benign',
    campaign_id: v?.campaign_id ?? null,
    first_flagged_at: v?.first_flagged_at ?? null,
    exchanges: v?.exchanges ?? 0,
    findings: v?.reasons ?? [],
    decision: decisionSummary(inForce(decisions.get(targetKey({ kind: 'account', id: accountId })), now)),
    links: campaign
      ? { campaign_id: campaign.id, accounts: campaign.accounts.filter((a) => a !== accountId), shared_indicators: campaign.shared_indicators ?? [] }
      : null,
  };
}
