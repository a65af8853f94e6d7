/**
 * From shared indicators to groups of accounts under common control. The graph is
 * bipartite, accounts and the indicators they hold, so that a value shared by thousands of
 * accounts costs one node and a thousand edges rather than a million account pairs. Each
 * connected component is cut by Louvain into communities; the indicator nodes in a
 * community are its evidence.
 *
 * A component is clustered on its own, with nodes in sorted order and a freshly seeded
 * RNG, so that its communities depend only on its contents: an incremental linker that
 * re-clusters only the components that changed gets exactly what a from-scratch run gets.
 */
import { createRequire } from 'node:module';
import type { LouvainOptions } from 'graphology-communities-louvain';
import type { AccountId } from '../core/ids.js';
import { KIND_WEIGHT, kindOf, STRONG_KINDS, type IndicatorIndex, type IndicatorKey } from './indicators.js';
import type { DeferParams } from './defer.js';
import { LouvainGraph } from './louvain-graph.js';

// The package is CommonJS with an ES-style default in its types; require gives the function.
// It is given a LouvainGraph, which offers what it reads of a graphology graph (see there).
const louvain = createRequire(import.meta.url)('graphology-communities-louvain') as (
  graph: LouvainGraph,
  options?: LouvainOptions,
) => Record<string, number>;

export interface LinkParams extends DeferParams {
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

/** What the linking graph is built from: who holds what, and who is a suspect. */
export interface LinkView {
  suspects: ReadonlySet<AccountId>;
  keysOf: (account: AccountId) => Iterable<IndicatorKey>;
  holders: (key: IndicatorKey) => ReadonlySet<AccountId>;
}

/** A from-scratch run's input: the view's suspects and keys, with the index that gives holders. */
export interface LinkInput extends LinkParams, Pick<LinkView, 'suspects' | 'keysOf'> {
  index: IndicatorIndex;
}

export interface Community {
  /** Sorted. */
  accounts: AccountId[];
  /** Indicator keys inside the community, with how many of its accounts hold each. */
  indicators: Map<IndicatorKey, number>;
}

/**
 * What one indicator does in the graph. `generic`: a value most of whose users behave
 * normally, or shared by very many; it never counts as a community's evidence. `joins`:
 * which of its holders it ties together.
 */
export interface KeyRole {
  generic: boolean;
  joins: 'none' | 'suspects' | 'anyone';
}

export const INACTIVE: KeyRole = { generic: false, joins: 'none' };

/**
 * The role of a key from its holder counts. Only keys some suspect holds take part; a key
 * held by one account ties nothing.
 */
export function keyRole(key: IndicatorKey, holders: number, suspectHolders: number, p: LinkParams): KeyRole {
  if (suspectHolders === 0 || holders < 2) return INACTIVE;
  // A value most of whose users behave normally (a popular client, a common phrasing, a
  // shared NAT) says nothing about common control.
  const generic = holders > p.genericAccounts || holders - suspectHolders > Math.max(5, 2 * suspectHolders);
  // A generic value (a big NAT, a popular client) only joins suspects. Non-suspects join
  // through a specific harness or payment method: a quiet account of a hydra is found
  // through the loud ones it shares them with. A shared IP or subnet is not enough to pull
  // in an account that behaves normally (NATs, proxies, campuses).
  const anyone = !generic && STRONG_KINDS.has(kindOf(key));
  const tied = anyone ? holders : suspectHolders;
  return { generic, joins: tied >= 2 ? (anyone ? 'anyone' : 'suspects') : 'none' };
}

/** Does `account` hang on the node of a key with this role? */
export const joinsOn = (role: KeyRole, account: AccountId, view: LinkView): boolean =>
  role.joins === 'anyone' || (role.joins === 'suspects' && view.suspects.has(account));

/** Accounts tied to a key's node. */
function tiedBy(key: IndicatorKey, role: KeyRole, view: LinkView): AccountId[] {
  const out: AccountId[] = [];
  if (role.joins === 'none') return out;
  for (const h of view.holders(key)) if (joinsOn(role, h, view)) out.push(h);
  return out;
}

/**
 * The connected components reached from `seeds` (accounts not in the graph are skipped),
 * each as a sorted list of accounts. `visited` accounts are not entered again.
 */
export function componentsFrom(
  seeds: Iterable<AccountId>,
  view: LinkView,
  roleOf: (key: IndicatorKey) => KeyRole,
  visited = new Set<AccountId>(),
): AccountId[][] {
  const out: AccountId[][] = [];
  const seenKeys = new Set<IndicatorKey>();
  for (const seed of seeds) {
    if (visited.has(seed)) continue;
    const comp: AccountId[] = [];
    const stack = [seed];
    visited.add(seed);
    while (stack.length > 0) {
      const a = stack.pop()!;
      let linked = false;
      for (const key of view.keysOf(a)) {
        const role = roleOf(key);
        if (!joinsOn(role, a, view)) continue;
        linked = true;
        if (seenKeys.has(key)) continue;
        seenKeys.add(key);
        for (const h of view.holders(key)) {
          if (visited.has(h) || !joinsOn(role, h, view)) continue;
          visited.add(h);
          stack.push(h);
        }
      }
      if (linked) comp.push(a);
    }
    if (comp.length > 0) out.push(comp.sort());
  }
  return out;
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

/** Communities of one connected component (`accounts` sorted), a function of its contents only. */
export function clusterComponent(accounts: readonly AccountId[], view: LinkView, roleOf: (key: IndicatorKey) => KeyRole, p: LinkParams): Community[] {
  const g = new LouvainGraph();
  // Accounts are nodes 0..n-1 in sorted order, so holders sorted by index are sorted by id.
  const at = new Map<AccountId, number>();
  const names: string[] = [];
  for (const a of accounts) {
    const name = 'a:' + a;
    names.push(name);
    at.set(a, g.addNode(name));
  }
  // One pass over what the accounts hold, each key's role looked up once per holding: the keys
  // that tie (the graph's key nodes) and, per account, the keys that may count as a
  // community's evidence (not generic, held by someone else too), which every community and
  // every split of one is counted from without going through the accounts' keys again.
  const keys = new Set<IndicatorKey>();
  const evidence: IndicatorKey[][] = [];
  for (const a of accounts) {
    const own: IndicatorKey[] = [];
    for (const key of view.keysOf(a)) {
      const role = roleOf(key);
      if (joinsOn(role, a, view)) keys.add(key);
      if (countsAsEvidence(key, role, view)) own.push(key);
    }
    evidence.push(own);
  }
  const countIndicators = (members: readonly AccountId[]): Map<IndicatorKey, number> => indicatorsFrom(members.map((m) => evidence[at.get(m)!]!));
  // A key's tied holders, by account index, sorted in place: a typed array sorts numbers
  // natively, where an array with a comparator calls back for each comparison (a sentence
  // a hundred members hold is sorted on every run that re-clusters the component).
  let tied = new Int32Array(64);
  for (const key of [...keys].sort()) {
    const role = roleOf(key);
    const weight = KIND_WEIGHT[kindOf(key)];
    // The key names its own node: it starts with its kind, and no kind is the accounts' `a`.
    const node = g.addNode(key);
    const holders = view.holders(key);
    if (tied.length < holders.size) tied = new Int32Array(holders.size * 2);
    let n = 0;
    // Every holder tied by the key is in this component, by construction of the component.
    for (const h of holders) {
      if (!joinsOn(role, h, view)) continue;
      const i = at.get(h);
      if (i === undefined) throw new Error(`clusterComponent: ${h} is tied by ${key} but outside the component`);
      tied[n++] = i;
    }
    if (n > 1) tied.subarray(0, n).sort();
    for (let j = 0; j < n; j++) g.addEdge(tied[j]!, node, weight);
  }
  const assignment = louvainAssignment(g, p);
  const byCommunity = new Map<number, AccountId[]>();
  for (let i = 0; i < accounts.length; i++) {
    const a = accounts[i]!;
    const c = assignment[names[i]!]!;
    const list = byCommunity.get(c);
    if (list) list.push(a);
    else byCommunity.set(c, [a]);
  }
  const out: Community[] = [];
  // A community's indicators are what its accounts hold in common, whichever way Louvain
  // happened to cut the edges to a hub shared by every member.
  for (const members of byCommunity.values()) {
    const idx = new Map<AccountId, number>();
    members.forEach((a, i) => idx.set(a, i));
    const held = (key: IndicatorKey, suspectsOnly: boolean): number[] => {
      const found: number[] = [];
      for (const h of view.holders(key)) {
        const i = idx.get(h);
        if (i !== undefined && (!suspectsOnly || view.suspects.has(h))) found.push(i);
      }
      return found;
    };
    out.push(...splitByStrongTies({ accounts: members, indicators: countIndicators(members) }, held, countIndicators, p));
  }
  return out;
}

/** Whether a key an account holds may count as a community's evidence: not generic, held by someone else too. */
export const countsAsEvidence = (key: IndicatorKey, role: KeyRole, view: LinkView): boolean => !role.generic && !(role === INACTIVE && view.holders(key).size < 2);

/**
 * A community's indicators counted from its accounts' keys as they stand now, as a clustering
 * counts them: for a community that lost accounts since it was clustered (defer.ts).
 */
export function indicatorCounter(view: LinkView, roleOf: (key: IndicatorKey) => KeyRole): (accounts: readonly AccountId[]) => Map<IndicatorKey, number> {
  return (accounts) =>
    indicatorsFrom(
      accounts.map((a) => {
        const own: IndicatorKey[] = [];
        for (const key of view.keysOf(a)) if (countsAsEvidence(key, roleOf(key), view)) own.push(key);
        return own;
      }),
    );
}

/** Louvain's communities of a component's graph, node name → community, seeded the same on every call. */
export function louvainAssignment(g: LouvainGraph, p: LinkParams): Record<string, number> {
  return louvain(g, { getEdgeWeight: 'weight', resolution: p.resolution, rng: mulberry32(42) });
}

/**
 * Keys that at least two accounts hold, from each account's candidate keys (generic ones
 * already left out), with how many hold each.
 */
function indicatorsFrom(candidates: readonly (readonly IndicatorKey[])[]): Map<IndicatorKey, number> {
  const indicators = new Map<IndicatorKey, number>();
  for (const own of candidates) for (const key of own) indicators.set(key, (indicators.get(key) ?? 0) + 1);
  for (const [key, n] of indicators) if (n < 2) indicators.delete(key);
  return indicators;
}

/** Communities in one canonical order (by first account), whatever order components were clustered in. */
export function canonicalOrder(communities: Community[]): Community[] {
  return communities.sort((a, b) => (a.accounts[0]! < b.accounts[0]! ? -1 : a.accounts[0]! > b.accounts[0]! ? 1 : 0));
}

/** Each key's role computed from its holders when first asked, then remembered: a from-scratch run's roles. */
export function rolesFromScratch(index: IndicatorIndex, suspects: ReadonlySet<AccountId>, p: LinkParams): (key: IndicatorKey) => KeyRole {
  const roles = new Map<IndicatorKey, KeyRole>();
  return (key) => {
    let r = roles.get(key);
    if (r === undefined) {
      const holders = index.holders(key);
      let n = 0;
      for (const h of holders) if (suspects.has(h)) n++;
      r = keyRole(key, holders.size, n, p);
      roles.set(key, r);
    }
    return r;
  };
}

/** From scratch: every component of the suspects' graph, clustered. */
export function findCommunities(input: LinkInput): Community[] {
  const view: LinkView = { suspects: input.suspects, keysOf: input.keysOf, holders: (k) => input.index.holders(k) };
  const roleOf = rolesFromScratch(input.index, input.suspects, input);
  const out: Community[] = [];
  for (const comp of componentsFrom([...input.suspects].sort(), view, roleOf)) out.push(...clusterComponent(comp, view, roleOf, input));
  return canonicalOrder(out);
}

/** The first difference between two lists of communities, null when they are the same. */
export function communityDifference(a: readonly Community[], b: readonly Community[]): string | null {
  if (a.length !== b.length) return `${a.length} communities against ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.accounts.join(',') !== y.accounts.join(',')) return `community ${i}: accounts ${x.accounts.slice(0, 5).join(',')}… against ${y.accounts.slice(0, 5).join(',')}…`;
    if (x.indicators.size !== y.indicators.size) return `community ${i}: ${x.indicators.size} indicators against ${y.indicators.size}`;
    for (const [k, n] of x.indicators) if (y.indicators.get(k) !== n) return `community ${i}: indicator ${k} held ${n} against ${y.indicators.get(k) ?? 0}`;
  }
  return null;
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
export function splitByStrongTies(
  com: Community,
  /** The positions in `com.accounts` of the key's holders (suspects only, when asked); any order. */
  holdersInside: (key: IndicatorKey, suspectsOnly: boolean) => number[],
  countIndicators: (accounts: readonly AccountId[]) => Map<IndicatorKey, number>,
  p: LinkParams,
): Community[] {
  const parent = com.accounts.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  const unite = (held: readonly number[]): void => {
    for (let j = 1; j < held.length; j++) parent[find(held[j]!)] = find(held[0]!);
  };
  const weak: IndicatorKey[] = [];
  for (const key of com.indicators.keys()) {
    const kind = kindOf(key);
    // Templates and IPs tie suspects only: honest users send items of the same public problem
    // banks and share NATs; a client fingerprint, injected prompt or payment method ties anyone.
    if (kind === 'template' || kind === 'phrase' || kind === 'item' || kind === 'ip') {
      weak.push(key);
      continue;
    }
    if (!STRONG_KINDS.has(kind)) continue;
    unite(holdersInside(key, false));
  }
  // Cores: groups of at least `minCore` accounts held together by client ties alone.
  const size = new Map<number, number>();
  for (let i = 0; i < parent.length; i++) size.set(find(i), (size.get(find(i)) ?? 0) + 1);
  const minCore = p.minCoreAccounts ?? 3;
  const core = parent.map((_, i) => ((size.get(find(i)) ?? 0) >= minCore ? find(i) : -1));
  // Loose accounts first tie among themselves; then a loose account hangs on the one core it
  // shares a template or IP with, unless it is part of a loose group of its own: a bridge
  // between two groups must be a client tie (harness, injected prompt, payment), and the
  // text of a public bank's items that both send is not one (an adaptive operator that
  // splits a bank met the synchronized operator that walks it, as one campaign).
  const attach: [key: IndicatorKey, loose: number[], core: number][] = [];
  for (const key of weak) {
    // A shared sentence ties loose accounts only: an operator that already runs one client
    // is held by it, and a company's core must not be hung on a stranger by one sentence.
    const held = holdersInside(key, true);
    const cores = new Set<number>();
    for (const i of held) if (core[i]! >= 0) cores.add(core[i]!);
    const loose = held.filter((i) => core[i]! < 0);
    const text = kindOf(key) === 'phrase' || kindOf(key) === 'item';
    if (text || cores.size <= 1) unite(loose);
    if (!text && cores.size === 1) attach.push([key, loose, [...cores][0]!]);
  }
  const looseSize = new Map<number, number>();
  for (let i = 0; i < parent.length; i++) if (core[i]! < 0) looseSize.set(find(i), (looseSize.get(find(i)) ?? 0) + 1);
  // Sizes as they stand before any attaching, so that the order of the keys does not matter.
  const groupSize = parent.map((_, i) => (core[i]! < 0 ? looseSize.get(find(i))! : 0));
  for (const [key, loose, c] of attach) {
    const content = kindOf(key) === 'template';
    const joining = loose.filter((i) => !content || groupSize[i]! < minCore);
    if (joining.length > 0) unite([c, ...joining]);
  }
  const groups = new Map<number, AccountId[]>();
  // Most communities are one operation: the community itself, indicators already counted.
  const root = find(0);
  if (parent.every((_, i) => find(i) === root)) return [com];
  com.accounts.forEach((a, i) => {
    const r = find(i);
    const g = groups.get(r);
    if (g) g.push(a);
    else groups.set(r, [a]);
  });
  return [...groups.values()].map((accounts) => ({ accounts: accounts.sort(), indicators: countIndicators(accounts) }));
}
