/** The review queue: flagged campaigns and accounts nobody has decided on, oldest flag first. */
import type { ScanReport } from '../core/report.js';
import { inForce, targetKey, type CurrentDecisions } from './decisions.js';

export interface QueueItem {
  kind: 'campaign' | 'account';
  id: string;
  flagged_at: string;
  confidence: number;
  /** Members for a campaign, 1 for an account. */
  accounts: number;
  campaign_id: string | null;
}

export function reviewQueue(report: ScanReport, decisions: CurrentDecisions, now = Date.now()): QueueItem[] {
  const open = (kind: 'campaign' | 'account', id: string) => inForce(decisions.get(targetKey({ kind, id })), now) === undefined;
  const items: QueueItem[] = [];
  for (const c of report.campaigns) {
    if (c.first_flagged_at && open('campaign', c.id)) items.push({ kind: 'campaign', id: c.id, flagged_at: c.first_flagged_at, confidence: c.confidence, accounts: c.accounts.length, campaign_id: c.id });
  }
  for (const a of report.accounts) {
    // A campaign's member is reviewed with its campaign, which the queue lists until decided.
    if (!a.first_flagged_at || a.campaign_id || !open('account', a.account_id)) continue;
    items.push({ kind: 'account', id: a.account_id, flagged_at: a.first_flagged_at, confidence: a.risk, accounts: 1, campaign_id: null });
  }
  return items.sort((a, b) => a.flagged_at.localeCompare(b.flagged_at) || a.id.localeCompare(b.id));
}
