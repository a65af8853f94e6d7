/**
 * A campaign's account–indicator graph: its members, the indicators they share, and which
 * member holds which. The report counts holders per indicator; the store says who they are.
 */
import type { ScanReport } from '../core/report.js';
import { SEARCH_KINDS, type SearchKind } from '../store/casework.js';
import type { Store } from '../store/store.js';

export type GraphNode =
  | { id: string; type: 'account'; verdict: 'distillation' | 'suspicious' | 'benign'; exchanges: number }
  | { id: string; type: 'indicator'; kind: string; value: string; accounts: number };

export interface CampaignGraph {
  campaign_id: string;
  nodes: GraphNode[];
  /** Account id to indicator node id. */
  edges: { source: string; target: string }[];
}

const isSearchKind = (k: string): k is SearchKind => (SEARCH_KINDS as readonly string[]).includes(k);
/** An indicator's node id, as the engine keys indicators (`kind:value`). */
export const indicatorNodeId = (kind: string, value: string) => `${kind}:${value}`;

export async function campaignGraph(store: Pick<Store, 'indicatorHolders'>, report: ScanReport, id: string): Promise<CampaignGraph | null> {
  const c = report.campaigns.find((x) => x.id === id);
  if (!c) return null;
  const verdicts = new Map(report.accounts.map((a) => [a.account_id, a]));
  const members = new Set(c.accounts);
  const nodes: GraphNode[] = c.accounts.map((a) => ({ id: a, type: 'account', verdict: verdicts.get(a)?.verdict ?? 'benign', exchanges: verdicts.get(a)?.exchanges ?? 0 }));
  const edges: CampaignGraph['edges'] = [];
  // Bursts are shared times, not something an account holds: they stay in the report's table only.
  for (const s of (c.shared_indicators ?? []).filter((s) => isSearchKind(s.kind))) {
    const node = indicatorNodeId(s.kind, s.value);
    const holders = await store.indicatorHolders(s.kind as SearchKind, s.value, Math.max(1000, members.size * 4));
    const held = holders.filter((h) => members.has(h.account_id));
    if (held.length === 0) continue;
    nodes.push({ id: node, type: 'indicator', kind: s.kind, value: s.value, accounts: s.accounts });
    for (const h of held) edges.push({ source: h.account_id, target: node });
  }
  return { campaign_id: id, nodes, edges };
}
