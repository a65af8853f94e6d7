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
import { KIND_WEIGHT, kindOf, type IndicatorIndex, type IndicatorKind } from './indicators.js';

const STRONG_KINDS: ReadonlySet<IndicatorKind> = new Set(['payment', 'harness', 'system', 'template']);

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

  const genericKeys = new Set<string>();
  const isGeneric = (key: string, holders: ReadonlySet<string>): boolean => {
    if (holders.size > input.genericAccounts) return true;
    let suspects = 0;
    for (const h of holders) if (input.suspects.has(h)) suspects++;
    // A value most of whose users behave normally (a popular client, a common phrasing, a
    // shared NAT) says nothing about common control.
    return holders.size - suspects > Math.max(5, 2 * suspects);
  };
  for (const a of input.suspects) {
    for (const key of input.keysOf(a)) {
      const holders = input.index.holders(key);
      if (holders.size < 2) continue;
      const generic = genericKeys.has(key) || isGeneric(key, holders);
      if (generic) genericKeys.add(key);
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
      if (!generic && STRONG_KINDS.has(kindOf(key))) {
        // Non-suspects that share a specific harness or payment method join the graph: a quiet
        // account of a hydra is found through the loud ones it shares them with. A shared IP
        // or subnet is not enough to pull in an account that behaves normally (NATs, proxies, campuses).
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
    for (const a of com.accounts) for (const key of input.keysOf(a)) if (!genericKeys.has(key)) com.indicators.set(key, (com.indicators.get(key) ?? 0) + 1);
    for (const [key, n] of com.indicators) if (n < 2) com.indicators.delete(key);
  }
  const out: Community[] = [];
  for (const com of byCommunity.values()) out.push(...splitByStrongTies(com, input, genericKeys));
  return out;
}

/**
 * Louvain groups by affinity, and a weak tie (one shared subnet) can hang a benign group on
 * a campaign. What is reported must be held together by strong ties: a shared harness,
 * template, system prompt or payment method, or an IP shared by suspects. Union-find over
 * those ties splits a community into the groups that really are one operation.
 */
function splitByStrongTies(com: Community, input: LinkInput, genericKeys: ReadonlySet<string>): Community[] {
  const idx = new Map<string, number>();
  com.accounts.forEach((a, i) => idx.set(a, i));
  const parent = com.accounts.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  for (const key of com.indicators.keys()) {
    if (genericKeys.has(key)) continue;
    const kind = kindOf(key);
    // Templates and IPs tie suspects only: honest users send items of the same public problem
    // banks and share NATs; a client fingerprint, injected prompt or payment method ties anyone.
    const strong = STRONG_KINDS.has(kind) && kind !== 'template';
    if (!strong && kind !== 'ip' && kind !== 'template') continue;
    let first = -1;
    for (const h of input.index.holders(key)) {
      const i = idx.get(h);
      if (i === undefined || (!strong && !input.suspects.has(h))) continue;
      if (first < 0) first = i;
      else parent[find(i)] = find(first);
    }
  }
  const groups = new Map<number, string[]>();
  com.accounts.forEach((a, i) => {
    const r = find(i);
    const g = groups.get(r);
    if (g) g.push(a);
    else groups.set(r, [a]);
  });
  return [...groups.values()].map((accounts) => {
    const indicators = new Map<string, number>();
    for (const a of accounts) for (const key of input.keysOf(a)) if (!genericKeys.has(key)) indicators.set(key, (indicators.get(key) ?? 0) + 1);
    for (const [key, n] of indicators) if (n < 2) indicators.delete(key);
    return { accounts: accounts.sort(), indicators };
  });
}
