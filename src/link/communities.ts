/**
 * From shared indicators to groups of accounts under common control. The graph is
 * bipartite, accounts and the indicators they hold, so that a value shared by thousands of
 * accounts costs one node and a thousand edges rather than a million account pairs. Louvain
 * then cuts it into communities; the indicator nodes in a community are its evidence.
 */
import { UndirectedGraph } from 'graphology';
import { createRequire } from 'node:module';
import type { LouvainOptions } from 'graphology-communities-louvain';
import type { AbstractGraph } from 'graphology-types';
import { KIND_WEIGHT, kindOf, type IndicatorIndex } from './indicators.js';

// The package is CommonJS with an ES-style default in its types; require gives the function.
const louvain = createRequire(import.meta.url)('graphology-communities-louvain') as (
  graph: AbstractGraph,
  options?: LouvainOptions,
) => Record<string, number>;

export interface LinkInput {
  /** Accounts that take part: the suspects. */
  suspects: ReadonlySet<string>;
  /** Indicator keys each account holds. */
  keysOf: (account: string) => Iterable<string>;
  index: IndicatorIndex;
  /** An indicator held by more accounts than this is generic: it only joins suspects. */
  genericAccounts: number;
  resolution: number;
}

export interface Community {
  accounts: string[];
  /** Indicator keys inside the community, with how many of its accounts hold each. */
  indicators: Map<string, number>;
}

/** Seeded so that the same input always gives the same communities. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function findCommunities(input: LinkInput): Community[] {
  const g = new UndirectedGraph();
  const acct = (a: string): string => 'a:' + a;

  for (const a of input.suspects) {
    for (const key of input.keysOf(a)) {
      const holders = input.index.holders(key);
      if (holders.size < 2) continue;
      const generic = holders.size > input.genericAccounts;
      let linked = 0;
      for (const other of holders) {
        if (other === a) continue;
        // A generic value (a big NAT, a popular client) says little: only suspects may meet there.
        if (generic && !input.suspects.has(other)) continue;
        linked++;
        break;
      }
      if (linked === 0) continue;
      const node = 'i:' + key;
      if (!g.hasNode(node)) g.addNode(node);
      if (!g.hasNode(acct(a))) g.addNode(acct(a));
      if (!g.hasEdge(acct(a), node)) g.addEdge(acct(a), node, { weight: KIND_WEIGHT[kindOf(key)] });
      if (!generic) {
        // Non-suspects that share a specific indicator join the graph: a quiet account of a
        // hydra is found through the loud ones it shares a payment method or harness with.
        for (const other of holders) {
          if (other === a || input.suspects.has(other)) continue;
          if (!g.hasNode(acct(other))) g.addNode(acct(other));
          if (!g.hasEdge(acct(other), node)) g.addEdge(acct(other), node, { weight: KIND_WEIGHT[kindOf(key)] });
        }
      }
    }
  }
  if (g.order === 0 || g.size === 0) return [];

  const assignment = louvain(g, { getEdgeWeight: 'weight', resolution: input.resolution, rng: mulberry32(42) });
  const byCommunity = new Map<number, Community>();
  g.forEachNode((node) => {
    const c = assignment[node]!;
    let com = byCommunity.get(c);
    if (!com) {
      com = { accounts: [], indicators: new Map() };
      byCommunity.set(c, com);
    }
    if (node.startsWith('a:')) com.accounts.push(node.slice(2));
  });
  // A community's indicators are what its accounts hold in common, whichever way Louvain
  // happened to cut the edges to a hub shared by every member.
  for (const com of byCommunity.values()) {
    for (const a of com.accounts) for (const key of input.keysOf(a)) com.indicators.set(key, (com.indicators.get(key) ?? 0) + 1);
    for (const [key, n] of com.indicators) if (n < 2) com.indicators.delete(key);
  }
  return [...byCommunity.values()].filter((c) => c.accounts.length > 0).map((c) => ({ ...c, accounts: c.accounts.sort() }));
}
