/**
 * A Linker keeps the account–indicator graph and answers with its communities. Two
 * implementations, one contract (see linker.case.test.ts): `FullLinker` clusters the whole
 * graph from scratch on every call; `IncrementalLinker` re-clusters only the components
 * that changed since the last call, so a linking run in which nothing changed costs nothing.
 * They must give the same communities on the same input; `VerifyingLinker` checks it.
 */
import type { AccountId } from '../core/ids.js';
import {
  canonicalOrder,
  clusterComponent,
  communityDifference,
  componentsFrom,
  findCommunities,
  INACTIVE,
  joinsOn,
  keyRole,
  type Community,
  type KeyRole,
  type LinkParams,
  type LinkView,
} from './communities.js';
import { ComponentGraph, type KeptGraphSize } from './component-graph.js';
import { IndicatorIndex, type IndicatorKey } from './indicators.js';

export interface Linker {
  /** Records that `account` holds `key`; false when it already did. */
  addKey(account: AccountId, key: IndicatorKey): boolean;
  /** Suspects take part in linking; other accounts only through their strong ties to suspects. */
  setSuspect(account: AccountId, suspect: boolean): void;
  isSuspect(account: AccountId): boolean;
  readonly suspects: ReadonlySet<AccountId>;
  keysOf(account: AccountId): ReadonlySet<IndicatorKey>;
  holders(key: IndicatorKey): ReadonlySet<AccountId>;
  /** Communities of the current graph, in canonical order (by first account). */
  communities(): readonly Community[];
  /** What the graphs kept between calls hold (nothing for a linker that keeps none). */
  keptGraphSize(): KeptGraphSize;
}

const NO_KEYS: ReadonlySet<IndicatorKey> = new Set();

/** Who holds what and who is a suspect: what both linkers keep. */
abstract class LinkState implements LinkView {
  protected readonly index = new IndicatorIndex();
  private readonly keys = new Map<AccountId, Set<IndicatorKey>>();
  readonly suspects = new Set<AccountId>();

  constructor(protected readonly params: LinkParams) {}

  addKey(account: AccountId, key: IndicatorKey): boolean {
    if (!this.index.add(key, account)) return false;
    let k = this.keys.get(account);
    if (!k) {
      k = new Set();
      this.keys.set(account, k);
    }
    k.add(key);
    this.keyAdded(account, key);
    return true;
  }

  setSuspect(account: AccountId, suspect: boolean): void {
    if (suspect === this.suspects.has(account)) return;
    if (suspect) this.suspects.add(account);
    else this.suspects.delete(account);
    this.suspectChanged(account, suspect);
  }

  protected keyAdded(_account: AccountId, _key: IndicatorKey): void {}
  protected suspectChanged(_account: AccountId, _suspect: boolean): void {}

  isSuspect(account: AccountId): boolean {
    return this.suspects.has(account);
  }
  keysOf = (account: AccountId): ReadonlySet<IndicatorKey> => this.keys.get(account) ?? NO_KEYS;
  holders = (key: IndicatorKey): ReadonlySet<AccountId> => this.index.holders(key);
}

/** Clusters the whole graph on every call: the reference the incremental linker is held to. */
export class FullLinker extends LinkState implements Linker {
  keptGraphSize(): KeptGraphSize {
    return { keys: 0, holdings: 0, listed: 0 };
  }

  communities(): readonly Community[] {
    return findCommunities({ ...this.params, suspects: this.suspects, keysOf: this.keysOf, index: this.index });
  }
}

/** One connected component as the incremental linker keeps it. */
interface Component {
  /** Sorted. */
  accounts: AccountId[];
  communities: Community[];
  /** Its graph kept between runs (large components only): re-clustering it costs its change. */
  graph: ComponentGraph | null;
}

/** Components of fewer accounts are clustered from their accounts' keys each time: cheap, and nothing kept. */
const KEEP_GRAPH_ACCOUNTS = 32;

/**
 * Keeps each key's role and each account's component, and on a call re-clusters only the
 * components touched since the last one: those of accounts that gained a key or became or
 * stopped being suspects, and of the holders of a key whose role changed. A large
 * component keeps its graph (component-graph.ts), which a call updates from the keys it
 * touched rather than rebuilds.
 */
export class IncrementalLinker extends LinkState implements Linker {
  private readonly suspectHolders = new Map<IndicatorKey, number>();
  private readonly roles = new Map<IndicatorKey, KeyRole>();
  private readonly dirtyKeys = new Set<IndicatorKey>();
  private readonly dirtyAccounts = new Set<AccountId>();
  /** Account, key, account, key...: holdings added since the last call. */
  private readonly newHoldings: (AccountId | IndicatorKey)[] = [];
  /** Account → the component it is in; components by id, with their communities. */
  private readonly componentOf = new Map<AccountId, number>();
  private readonly components = new Map<number, Component>();
  private componentSeq = 0;
  private cached: Community[] = [];
  /** Components clustered by the last call (for tests and figures: 0 when nothing changed). */
  lastClustered = 0;
  /** Of those, components whose accounts were known unchanged, so not traced again. */
  lastGrownInPlace = 0;
  /** Of those, components clustered on their kept graph, brought up to date rather than rebuilt. */
  lastGraphsKept = 0;

  /** @param keepGraphAccounts components of at least this many accounts keep their graph between calls */
  constructor(params: LinkParams, private readonly keepGraphAccounts = KEEP_GRAPH_ACCOUNTS) {
    super(params);
  }

  protected override keyAdded(account: AccountId, key: IndicatorKey): void {
    if (this.suspects.has(account)) this.suspectHolders.set(key, (this.suspectHolders.get(key) ?? 0) + 1);
    this.dirtyKeys.add(key);
    // Whether the new holding changes the account's component is known once roles are
    // updated: most new keys (a rotating account's next IP) tie nothing and count nowhere.
    this.newHoldings.push(account, key);
  }

  /**
   * Does a new holding change its account's component? When the key ties the account in,
   * or when another holder in the same component makes the key count as its evidence.
   * (A change of the key's role is handled with the key.)
   */
  private holdingMatters(account: AccountId, key: IndicatorKey): boolean {
    const role = this.roleOf(key);
    if (joinsOn(role, account, this)) return true;
    if (role.generic) return false;
    const c = this.componentOf.get(account);
    if (c === undefined) return false;
    for (const h of this.index.holders(key)) if (h !== account && this.componentOf.get(h) === c) return true;
    return false;
  }

  /**
   * The component a new holding leaves with the same accounts, or undefined when it may not:
   * the account is in a component and every holder the key ties is in that component too
   * (a key whose role changed on this call has dirtied its holders already).
   */
  private withinComponent(account: AccountId, key: IndicatorKey): number | undefined {
    const c = this.componentOf.get(account);
    if (c === undefined) return undefined;
    const role = this.roleOf(key);
    if (role.joins === 'none') return c;
    for (const h of this.index.holders(key)) if (joinsOn(role, h, this) && this.componentOf.get(h) !== c) return undefined;
    return c;
  }

  protected override suspectChanged(account: AccountId, suspect: boolean): void {
    for (const key of this.keysOf(account)) {
      this.suspectHolders.set(key, (this.suspectHolders.get(key) ?? 0) + (suspect ? 1 : -1));
      this.dirtyKeys.add(key);
    }
    this.dirtyAccounts.add(account);
  }

  private roleOf = (key: IndicatorKey): KeyRole => this.roles.get(key) ?? INACTIVE;

  communities(): readonly Community[] {
    this.lastClustered = 0;
    this.lastGrownInPlace = 0;
    this.lastGraphsKept = 0;
    if (this.dirtyKeys.size === 0 && this.dirtyAccounts.size === 0 && this.newHoldings.length === 0) return this.cached;
    for (const key of this.dirtyKeys) this.updateRole(key);
    this.touchKeptGraphs();
    this.dirtyKeys.clear();
    // Components whose only change is a new holding that ties accounts already in them: their
    // accounts are the same, so they are re-clustered without being traced again.
    const grown = new Set<number>();
    for (let i = 0; i < this.newHoldings.length; i += 2) {
      const account = this.newHoldings[i] as AccountId;
      if (this.dirtyAccounts.has(account)) continue;
      const key = this.newHoldings[i + 1] as IndicatorKey;
      if (!this.holdingMatters(account, key)) continue;
      const c = this.withinComponent(account, key);
      if (c === undefined) this.dirtyAccounts.add(account);
      else grown.add(c);
    }
    this.newHoldings.length = 0;
    if (this.dirtyAccounts.size === 0 && grown.size === 0) return this.cached;
    // Every account of a touched component is re-reached from the seeds: a component may
    // have split (a suspect left) or merged with others (a new tie).
    const seeds: AccountId[] = [];
    // A component traced again keeps the graph of the one it mostly was (the same accounts,
    // or a few more or fewer).
    const former = new Map<AccountId, Component>();
    for (const a of this.dirtyAccounts) {
      const c = this.componentOf.get(a);
      if (c === undefined) {
        seeds.push(a);
        continue;
      }
      const comp = this.components.get(c);
      if (!comp) continue;
      this.components.delete(c);
      if (comp.graph) for (const m of comp.accounts) former.set(m, comp);
      for (const m of comp.accounts) {
        this.componentOf.delete(m);
        seeds.push(m);
      }
    }
    this.dirtyAccounts.clear();
    // Components reached from the seeds may take in untouched ones (a new tie merges them).
    for (const accounts of componentsFrom(seeds, this, this.roleOf)) {
      for (const a of accounts) {
        const old = this.componentOf.get(a);
        if (old === undefined) continue;
        const taken = this.components.get(old);
        if (taken === undefined) continue;
        this.components.delete(old);
        if (taken.graph) for (const m of taken.accounts) former.set(m, taken);
      }
      const id = ++this.componentSeq;
      for (const a of accounts) this.componentOf.set(a, id);
      let graph = this.takeGraph(accounts, former);
      const kept = graph !== null;
      if (graph === null && accounts.length >= this.keepGraphAccounts) graph = new ComponentGraph(accounts, this, this.roleOf);
      const comp: Component = { accounts, communities: [], graph };
      this.components.set(id, comp);
      this.recluster(comp, kept);
    }
    // Grown components that the seeds did not take in: same accounts, new edges or evidence.
    for (const c of grown) {
      const comp = this.components.get(c);
      if (!comp) continue;
      this.recluster(comp, true);
      this.lastGrownInPlace++;
    }
    const all: Community[] = [];
    for (const c of this.components.values()) all.push(...c.communities);
    this.cached = canonicalOrder(all);
    return this.cached;
  }

  keptGraphSize(): KeptGraphSize {
    const total = { keys: 0, holdings: 0, listed: 0 };
    for (const c of this.components.values()) {
      const s = c.graph?.size();
      if (!s) continue;
      total.keys += s.keys;
      total.holdings += s.holdings;
      total.listed += s.listed;
    }
    return total;
  }

  /**
   * The kept graph of the former component that most of `accounts` were in, moved to them,
   * or null when none holds at least half of them (or it has lost too many accounts since it
   * was built). Each former graph is taken once.
   */
  private takeGraph(accounts: readonly AccountId[], former: Map<AccountId, Component>): ComponentGraph | null {
    let best: Component | null = null;
    let overlap = 0;
    const seen = new Set<Component>();
    for (const a of accounts) {
      const c = former.get(a);
      if (c === undefined || seen.has(c)) continue;
      seen.add(c);
      const n = c.graph!.overlap(accounts);
      if (n > overlap) {
        best = c;
        overlap = n;
      }
    }
    if (best === null || overlap * 2 < accounts.length) return null;
    const graph = best.graph!;
    for (const m of best.accounts) former.delete(m);
    if (sameAccounts(graph.accounts, accounts)) return graph;
    graph.rebase(accounts, this);
    return graph.worn ? null : graph;
  }

  private recluster(comp: Component, kept: boolean): void {
    if (comp.graph) {
      comp.communities = comp.graph.cluster(this, this.roleOf, this.params);
      if (kept) this.lastGraphsKept++;
    } else {
      comp.communities = clusterComponent(comp.accounts, this, this.roleOf, this.params);
    }
    this.lastClustered++;
  }

  /**
   * Hands this call's changes to the kept graphs they reach, whether or not their component is
   * re-clustered now: a graph must see every change to what its members hold before it is used.
   */
  private touchKeptGraphs(): void {
    const graphOf = (a: AccountId): ComponentGraph | null => {
      const c = this.componentOf.get(a);
      return c === undefined ? null : (this.components.get(c)?.graph ?? null);
    };
    for (const key of this.dirtyKeys) {
      let last: ComponentGraph | null = null;
      for (const h of this.index.holders(key)) {
        const g = graphOf(h);
        if (g === null || g === last) continue;
        g.touchKey(key);
        last = g;
      }
    }
    for (let i = 0; i < this.newHoldings.length; i += 2) graphOf(this.newHoldings[i] as AccountId)?.touchAccount(this.newHoldings[i] as AccountId);
  }

  /** Recomputes a key's role; when it changed, every account the change touches is dirty. */
  private updateRole(key: IndicatorKey): void {
    const holders = this.index.holders(key);
    const before = this.roleOf(key);
    const after = keyRole(key, holders.size, this.suspectHolders.get(key) ?? 0, this.params);
    if (after === INACTIVE) this.roles.delete(key);
    else this.roles.set(key, after);
    if (before.generic === after.generic && before.joins === after.joins) {
      // Same role: only tied holders that joined or left changed, and they are dirty already.
      // A key that ties nobody still counts in the indicators of components holding it,
      // through whichever holder was added (dirty as well).
      return;
    }
    // The key ties other holders now, or counts differently as evidence: every holder in a
    // component, or tied by it now, is touched.
    for (const h of holders) if (this.componentOf.has(h) || joinsOn(before, h, this) || joinsOn(after, h, this)) this.dirtyAccounts.add(h);
  }
}

function sameAccounts(a: readonly AccountId[], b: readonly AccountId[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Runs both linkers on the same input and fails on the first call where they differ. */
export class VerifyingLinker implements Linker {
  private readonly full: FullLinker;
  private readonly incremental: IncrementalLinker;
  constructor(params: LinkParams) {
    this.full = new FullLinker(params);
    this.incremental = new IncrementalLinker(params);
  }
  addKey(account: AccountId, key: IndicatorKey): boolean {
    this.full.addKey(account, key);
    return this.incremental.addKey(account, key);
  }
  setSuspect(account: AccountId, suspect: boolean): void {
    this.full.setSuspect(account, suspect);
    this.incremental.setSuspect(account, suspect);
  }
  isSuspect(account: AccountId): boolean {
    return this.incremental.isSuspect(account);
  }
  get suspects(): ReadonlySet<AccountId> {
    return this.incremental.suspects;
  }
  keysOf(account: AccountId): ReadonlySet<IndicatorKey> {
    return this.incremental.keysOf(account);
  }
  holders(key: IndicatorKey): ReadonlySet<AccountId> {
    return this.incremental.holders(key);
  }
  keptGraphSize(): KeptGraphSize {
    return this.incremental.keptGraphSize();
  }
  communities(): readonly Community[] {
    const got = this.incremental.communities();
    const want = this.full.communities();
    const diff = communityDifference(got, want);
    if (diff !== null) throw new Error(`Incremental linking differs from a from-scratch run: ${diff}`);
    return got;
  }
}

export type LinkerKind = 'full' | 'incremental' | 'verify';

export function createLinker(kind: LinkerKind, params: LinkParams): Linker {
  if (kind === 'full') return new FullLinker(params);
  if (kind === 'verify') return new VerifyingLinker(params);
  return new IncrementalLinker(params);
}
