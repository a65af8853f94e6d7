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
  /**
   * Accounts that client ties (harness, system prompt, payment) must hold together before
   * they count as one operation's core, which a shared template or IP cannot merge with
   * another core. @default 3
   */
  minCoreAccounts?: number;
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
  const judged = new Map<string, boolean>();
  const isGeneric = (key: string, holders: ReadonlySet<string>): boolean => {
    let g = judged.get(key);
    if (g !== undefined) return g;
    if (holders.size > input.genericAccounts) g = true;
    else {
      let suspects = 0;
      for (const h of holders) if (input.suspects.has(h)) suspects++;
      // A value most of whose users behave normally (a popular client, a common phrasing, a
      // shared NAT) says nothing about common control.
      g = holders.size - suspects > Math.max(5, 2 * suspects);
    }
    judged.set(key, g);
    return g;
  };
  // Each indicator once: its eligible holders all attach to one indicator node.
  const keys = new Set<string>();
  for (const a of input.suspects) for (const key of input.keysOf(a)) keys.add(key);
  const eligible: string[] = [];
  for (const key of keys) {
    const holders = input.index.holders(key);
    if (holders.size < 2) continue;
    const generic = isGeneric(key, holders);
    if (generic) genericKeys.add(key);
    // A generic value (a big NAT, a popular client) only joins suspects. Non-suspects join
    // through a specific harness or payment method: a quiet account of a hydra is found
    // through the loud ones it shares them with. A shared IP or subnet is not enough to pull
    // in an account that behaves normally (NATs, proxies, campuses).
    const anyone = !generic && STRONG_KINDS.has(kindOf(key));
    eligible.length = 0;
    for (const h of holders) if (anyone || input.suspects.has(h)) eligible.push(h);
    if (eligible.length < 2) continue;
    const node = 'i:' + key;
    const weight = KIND_WEIGHT[kindOf(key)];
    g.addNode(node);
    for (const h of eligible) {
      const an = acct(h);
      if (!g.hasNode(an)) g.addNode(an);
      g.addEdge(an, node, { weight });
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
 * system prompt or payment method, or a template or IP shared by suspects. Union-find over
 * those ties splits a community into the groups that really are one operation.
 *
 * In two stages, because a template or an IP can be common to several operations (a public
 * elicitation template, a proxy provider's exit): first the client ties (harness, system
 * prompt, payment) make cores; then a template or IP joins its holders only when they do
 * not belong to two different cores. Two groups that each run their own client and meet
 * only on a public template are two operators, not one.
 */
function splitByStrongTies(com: Community, input: LinkInput, genericKeys: ReadonlySet<string>): Community[] {
  const idx = new Map<string, number>();
  com.accounts.forEach((a, i) => idx.set(a, i));
  const parent = com.accounts.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  const holdersInside = (key: string, suspectsOnly: boolean): number[] => {
    const out: number[] = [];
    for (const h of input.index.holders(key)) {
      const i = idx.get(h);
      if (i !== undefined && (!suspectsOnly || input.suspects.has(h))) out.push(i);
    }
    return out;
  };
  const unite = (held: readonly number[]): void => {
    for (let j = 1; j < held.length; j++) parent[find(held[j]!)] = find(held[0]!);
  };
  const weak: string[] = [];
  for (const key of com.indicators.keys()) {
    if (genericKeys.has(key)) continue;
    const kind = kindOf(key);
    // Templates and IPs tie suspects only: honest users send items of the same public problem
    // banks and share NATs; a client fingerprint, injected prompt or payment method ties anyone.
    if (kind === 'template' || kind === 'ip') {
      weak.push(key);
      continue;
    }
    if (!STRONG_KINDS.has(kind)) continue;
    unite(holdersInside(key, false));
  }
  // Cores: groups of at least `minCore` accounts held together by client ties alone.
  const size = new Map<number, number>();
  for (let i = 0; i < parent.length; i++) size.set(find(i), (size.get(find(i)) ?? 0) + 1);
  const core = parent.map((_, i) => ((size.get(find(i)) ?? 0) >= (input.minCoreAccounts ?? 3) ? find(i) : -1));
  for (const key of weak) {
    const held = holdersInside(key, true);
    const cores = new Set<number>();
    for (const i of held) if (core[i]! >= 0) cores.add(core[i]!);
    if (cores.size <= 1) unite(held);
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
