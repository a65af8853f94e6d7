/**
 * A campaign's account–indicator graph: its members, the indicators they share, and which
 * member holds which, each node with where it is drawn. The report counts holders per
 * indicator; the store says who they are. A scan's rollup keeps every campaign's graph laid
 * out (investigate/rollup.ts); a store without one gets it computed here.
 */
import type { ScanReport } from '../core/report.js';
import { SEARCH_KINDS, type SearchKind } from '../store/casework.js';
import type { Store } from '../store/store.js';
import { layoutGraph } from './graph-layout.js';

type NodeBody = { id: string; type: 'account'; verdict: 'distillation' | 'suspicious' | 'benign'; exchanges: number } | { id: string; type: 'indicator'; kind: string; value: string; accounts: number };
/** `x` and `y` in the unit square: where the node is drawn. */
export type GraphNode = NodeBody & { x: number; y: number };

export interface CampaignGraph {
  campaign_id: string;
  nodes: GraphNode[];
  /** Account id to indicator node id. */
  edges: { source: string; target: string }[];
}

/**
 * Members laid out by force, the most active first: as many as the dashboard draws of a
 * campaign (`MAX_MEMBERS_DRAWN` in web/graph.tsx, by the same order). The others are placed
 * beside the indicators they share with them (graph-layout.ts).
 */
export const LAID_OUT_MEMBERS = 300;

const isSearchKind = (k: string): k is SearchKind => (SEARCH_KINDS as readonly string[]).includes(k);
/** An indicator's node id, as the engine keys indicators (`kind:value`). */
export const indicatorNodeId = (kind: string, value: string) => `${kind}:${value}`;

/** The graph from the store's exchanges, laid out: what the rollup keeps. */
export async function computeCampaignGraph(store: Pick<Store, 'indicatorHoldings'>, report: ScanReport, id: string): Promise<CampaignGraph | null> {
  const c = report.campaigns.find((x) => x.id === id);
  if (!c) return null;
  const verdicts = new Map(report.accounts.map((a) => [a.account_id, a]));
  const nodes: NodeBody[] = c.accounts.map((a) => ({ id: a, type: 'account', verdict: verdicts.get(a)?.verdict ?? 'benign', exchanges: verdicts.get(a)?.exchanges ?? 0 }));
  // Bursts are shared times, not something an account holds: they stay in the report's table only.
  const shared = (c.shared_indicators ?? []).filter((s): s is typeof s & { kind: SearchKind } => isSearchKind(s.kind));
  const holdings = await store.indicatorHoldings(c.accounts, shared);
  const edges = holdings.map((h) => ({ source: h.account_id, target: indicatorNodeId(shared[h.indicator]!.kind, shared[h.indicator]!.value) }));
  const drawn = new Set(holdings.map((h) => h.indicator));
  shared.forEach((s, i) => {
    if (drawn.has(i)) nodes.push({ id: indicatorNodeId(s.kind, s.value), type: 'indicator', kind: s.kind, value: s.value, accounts: s.accounts });
  });
  const at = layoutGraph(nodes.map((n) => n.id), edges, coreOf(nodes, edges));
  return { campaign_id: id, nodes: nodes.map((n) => ({ ...n, ...at.get(n.id)! })), edges };
}

/** The members laid out by force (the most active, as the dashboard picks them) and the indicators they hold; undefined when that is every node. */
function coreOf(nodes: readonly NodeBody[], edges: readonly { source: string; target: string }[]): Set<string> | undefined {
  const accounts = nodes.filter((n): n is Extract<NodeBody, { type: 'account' }> => n.type === 'account');
  if (accounts.length <= LAID_OUT_MEMBERS) return undefined;
  const core = new Set(
    accounts
      .sort((a, b) => b.exchanges - a.exchanges || a.id.localeCompare(b.id))
      .slice(0, LAID_OUT_MEMBERS)
      .map((a) => a.id),
  );
  for (const e of edges) if (core.has(e.source)) core.add(e.target);
  return core;
}

/** The graph as the API serves it: from the rollup of the report when there is one. */
export async function campaignGraph(store: Pick<Store, 'indicatorHoldings' | 'rolledGraph'>, report: ScanReport, id: string): Promise<CampaignGraph | null> {
  if (!report.campaigns.some((x) => x.id === id)) return null;
  const rolled = await store.rolledGraph(report.generated_at, id);
  return rolled !== null ? (rolled as CampaignGraph) : computeCampaignGraph(store, report, id);
}
