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
  INACTIVE,
  indicatorCounter,
  joinsOn,
  keyRole,
  rolesFromScratch,
  type Community,
  type KeyRole,
  type LinkParams,
  type LinkView,
} from './communities.js';
import { ComponentGraph, type KeptGraphSize } from './component-graph.js';
import { clustering, deferrable, stillDeferred, withoutLost, type Clustering } from './defer.js';
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

/** A component of the previous run, as the from-scratch linker remembers it for the deferral rule. */
interface PreviousComponent {
  size: number;
  /** Its last clustering, when it was large enough to keep one (defer.ts). */
  last: Clustering | null;
}

/**
 * Clusters the whole graph on every call: the reference the incremental linker is held to.
 * It remembers only which component each account was in on its previous call, with that
 * component's last clustering, to apply the deferral rule (defer.ts) from scratch.
 */
export class FullLinker extends LinkState implements Linker {
  private run = 0;
  private previous = new Map<AccountId, PreviousComponent>();

  keptGraphSize(): KeptGraphSize {
    return { keys: 0, holdings: 0, listed: 0 };
  }

  communities(): readonly Community[] {
    this.run++;
    const view: LinkView = { suspects: this.suspects, keysOf: this.keysOf, holders: this.holders };
    const roleOf = rolesFromScratch(this.index, this.suspects, this.params);
    const next = new Map<AccountId, PreviousComponent>();
    const out: Community[] = [];
    for (const accounts of componentsFrom([...this.suspects].sort(), view, roleOf)) {
      // Growth of one component of the previous run: no account here was in another, and those
      // of it that are not here (`lost`) are few enough for the deferral rule.
      let from: PreviousComponent | undefined;
      let grown = true;
      let kept = 0;
      let holdings = 0;
      for (const a of accounts) {
        holdings += this.keysOf(a).size;
        const q = this.previous.get(a);
        if (q === undefined) continue;
        if (from === undefined) from = q;
        else if (q !== from) grown = false;
        kept++;
      }
      const last = grown && from !== undefined ? from.last : null;
      const lost = from === undefined ? 0 : from.size - kept;
      let now: PreviousComponent;
      if (last !== null && stillDeferred(last, accounts.length, holdings, this.run, this.params, lost)) {
        const members = new Set(accounts);
        const shrunk = lost > 0 ? withoutLost(last, lost, (a) => members.has(a), indicatorCounter(view, roleOf)) : last;
        out.push(...shrunk.communities);
        now = { size: accounts.length, last: shrunk };
      } else {
        const communities = clusterComponent(accounts, view, roleOf, this.params);
        out.push(...communities);
        now = { size: accounts.length, last: deferrable(accounts.length, this.params) ? clustering(accounts.length, holdings, this.run, communities) : null };
      }
      for (const a of accounts) next.set(a, now);
    }
    this.previous = next;
    return canonicalOrder(out);
  }
}

/** One connected component as the incremental linker keeps it. */
interface Component {
  /** Sorted. */
  accounts: AccountId[];
  communities: Community[];
  /** Its graph kept between runs (large components only): re-clustering it costs its change. */
  graph: ComponentGraph | null;
  /** Keys its accounts hold, summed over them (what the deferral rule weighs). */
  holdings: number;
  /** Its last clustering, when it was large enough to keep one (defer.ts). */
  last: Clustering | null;
  /** Changed since `last` while deferred: clustering it now would give other communities. */
  stale: boolean;
}

/** Components of fewer accounts are clustered from their accounts' keys each time: cheap, and nothing kept. */
const KEEP_GRAPH_ACCOUNTS = 32;

/** Keys, most held first, whose tied holders may make the core of a component without a kept graph when it may have split. */
const CORE_KEYS = 32;

/** A component that may have split, kept standing on its core: what it had before. */
interface Shrunk {
  /** Accounts it had. */
  size: number;
  /** Of those, accounts in its core. */
  core: number;
}

/** What one trace of a linking run found: accounts traced key by key, and whole components it reached. */
interface Traced {
  accounts: AccountId[];
  reached: number[];
  /** The trace this one was merged into, when a later one reached a component it had taken in. */
  into: Traced | null;
}

/**
 * Keeps each key's role and each account's component, and on a call re-clusters only the
 * components touched since the last one. Changes that can only add ties (a new holding, a new
 * suspect, a key that ties more of its holders) grow components: they are traced from the
 * accounts that changed, and a component they reach is taken in whole, without tracing it
 * again. Changes that can remove ties (a suspect cleared, a key that ties fewer) may split a
 * component: it is traced again from all its accounts. A large component keeps its graph
 * (component-graph.ts), which a call updates from the keys it touched rather than rebuilds;
 * one that only grew may keep its last communities (defer.ts).
 */
export class IncrementalLinker extends LinkState implements Linker {
  private readonly suspectHolders = new Map<IndicatorKey, number>();
  private readonly roles = new Map<IndicatorKey, KeyRole>();
  private readonly dirtyKeys = new Set<IndicatorKey>();
  /** Accounts whose ties may have grown: traced from on the next call. */
  private readonly dirtyAccounts = new Set<AccountId>();
  /** Components that may have lost a tie: traced again whole on the next call. */
  private readonly broken = new Set<number>();
  /** Components whose accounts stay but whose content changed (evidence, a tie among them). */
  private readonly touched = new Set<number>();
  /** Account, key, account, key...: holdings added since the last call. */
  private readonly newHoldings: (AccountId | IndicatorKey)[] = [];
  /** Account → the component it is in; components by id, with their communities. */
  private readonly componentOf = new Map<AccountId, number>();
  private readonly components = new Map<number, Component>();
  /** Components that keep a last clustering (defer.ts): weighed on every call. */
  private readonly large = new Set<number>();
  private componentSeq = 0;
  private run = 0;
  private cached: Community[] = [];
  /** Components clustered by the last call (for tests and figures: 0 when nothing changed). */
  lastClustered = 0;
  /** Of those, components whose accounts were known unchanged, so not traced again. */
  lastGrownInPlace = 0;
  /** Of those, components clustered on their kept graph, brought up to date rather than rebuilt. */
  lastGraphsKept = 0;
  /** Components that changed on the last call but kept their last clustering (defer.ts). */
  lastDeferred = 0;
  /** Of those, components that lost accounts and kept that clustering without them. */
  lastDeferredLosing = 0;
  /** Components that may have split and stood on their core, the rest of their accounts traced again. */
  lastCores = 0;

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
   * the account is in a component and the key tied one of its accounts already. The key's
   * earlier tied holders were all in one component; holders it ties since (new holdings, new
   * suspects) are traced from or checked on their own, so one earlier tied holder tells.
   * (A key whose role changed on this call has dirtied its holders already.)
   * @param earlier how many of the key's holders held it before this call (the first ones: a set keeps its order)
   */
  private withinComponent(account: AccountId, key: IndicatorKey, earlier: number): number | undefined {
    const c = this.componentOf.get(account);
    if (c === undefined) return undefined;
    const role = this.roleOf(key);
    if (role.joins === 'none') return c;
    let i = 0;
    for (const h of this.index.holders(key)) {
      if (i++ >= earlier) break;
      if (h === account || this.dirtyAccounts.has(h) || !joinsOn(role, h, this)) continue;
      return this.componentOf.get(h) === c ? c : undefined;
    }
    return undefined;
  }

  protected override suspectChanged(account: AccountId, suspect: boolean): void {
    for (const key of this.keysOf(account)) {
      this.suspectHolders.set(key, (this.suspectHolders.get(key) ?? 0) + (suspect ? 1 : -1));
      this.dirtyKeys.add(key);
    }
    // A new suspect can only tie more; a cleared one may leave its component in pieces.
    const c = this.componentOf.get(account);
    if (!suspect && c !== undefined) this.broken.add(c);
    else this.dirtyAccounts.add(account);
  }

  private roleOf = (key: IndicatorKey): KeyRole => this.roles.get(key) ?? INACTIVE;

  communities(): readonly Community[] {
    this.run++;
    this.lastClustered = 0;
    this.lastGrownInPlace = 0;
    this.lastGraphsKept = 0;
    this.lastDeferred = 0;
    this.lastDeferredLosing = 0;
    this.lastCores = 0;
    const handled = new Set<number>();
    let changed = false;
    if (this.dirtyKeys.size > 0 || this.dirtyAccounts.size > 0 || this.newHoldings.length > 0 || this.broken.size > 0) {
      changed = this.update(handled);
    }
    // Large components nothing touched may still fall due: by the runs since their last
    // clustering, or by holdings that tie nothing (a from-scratch run weighs them every run).
    for (const c of this.large) {
      if (handled.has(c)) continue;
      const comp = this.components.get(c)!;
      if (stillDeferred(comp.last!, comp.accounts.length, comp.holdings, this.run, this.params)) continue;
      if (comp.stale) {
        this.recluster(c, comp, comp.graph !== null);
        changed = true;
      } else comp.last = clustering(comp.accounts.length, comp.holdings, this.run, comp.communities);
    }
    if (!changed) return this.cached;
    const all: Community[] = [];
    for (const c of this.components.values()) all.push(...c.communities);
    this.cached = canonicalOrder(all);
    return this.cached;
  }

  /** Brings the components up to date with what changed since the last call; false when no communities changed. */
  private update(handled: Set<number>): boolean {
    for (const key of this.dirtyKeys) this.updateRole(key);
    this.touchKeptGraphs();
    this.dirtyKeys.clear();
    const added = new Map<IndicatorKey, number>();
    for (let i = 1; i < this.newHoldings.length; i += 2) {
      const key = this.newHoldings[i] as IndicatorKey;
      added.set(key, (added.get(key) ?? 0) + 1);
    }
    for (let i = 0; i < this.newHoldings.length; i += 2) {
      const account = this.newHoldings[i] as AccountId;
      const c = this.componentOf.get(account);
      if (c !== undefined) this.components.get(c)!.holdings++;
      if (this.dirtyAccounts.has(account)) continue;
      const key = this.newHoldings[i + 1] as IndicatorKey;
      if (!this.holdingMatters(account, key)) continue;
      // A holding that ties accounts already in the account's component: same accounts, new
      // edges or evidence, so it is re-clustered without being traced again.
      const within = this.withinComponent(account, key, this.index.holders(key).size - added.get(key)!);
      if (within === undefined) this.dirtyAccounts.add(account);
      else this.touched.add(within);
    }
    this.newHoldings.length = 0;
    if (this.dirtyAccounts.size === 0 && this.touched.size === 0 && this.broken.size === 0) return false;
    // Components that may have split are traced again from all their accounts; the kept graph of
    // one goes to the component that most of its accounts are in afterwards.
    const former = new Map<AccountId, Component>();
    const formerOf = new Map<AccountId, number>();
    const seeds: AccountId[] = [];
    const shrunk = new Map<number, Shrunk>();
    let changed = false;
    for (const c of this.broken) {
      const comp = this.components.get(c);
      if (!comp) continue;
      changed = true;
      // A large component stands on the accounts its most held keys still tie together, and only
      // the others are traced again: an operation's component was traced whole whenever one
      // bystander on its networks was cleared (230,000 key visits at 7,600 accounts).
      const core = comp.accounts.length >= this.keepGraphAccounts ? this.coreOf(c, comp) : null;
      if (core !== null) {
        shrunk.set(c, { size: comp.accounts.length, core: core.size });
        this.lastCores++;
        for (const m of comp.accounts) {
          if (core.has(m)) continue;
          this.componentOf.delete(m);
          formerOf.set(m, c);
          comp.holdings -= this.keysOf(m).size;
          seeds.push(m);
        }
        comp.accounts = comp.accounts.filter((m) => core.has(m));
        continue;
      }
      this.dropComponent(c);
      for (const m of comp.accounts) {
        this.componentOf.delete(m);
        formerOf.set(m, c);
        if (comp.graph) former.set(m, comp);
        seeds.push(m);
      }
    }
    const formerSize = new Map<number, number>();
    for (const c of formerOf.values()) formerSize.set(c, (formerSize.get(c) ?? 0) + 1);
    for (const [c, sh] of shrunk) formerSize.set(c, sh.size);
    this.broken.clear();
    // Accounts whose ties only grew, by the component they are in (a component reached by a
    // trace has only these traced again: its other accounts' ties are as they were).
    const grownIn = new Map<number, AccountId[]>();
    for (const a of this.dirtyAccounts) {
      seeds.push(a);
      const c = this.componentOf.get(a);
      if (c === undefined) continue;
      const list = grownIn.get(c);
      if (list) list.push(a);
      else grownIn.set(c, [a]);
    }
    this.dirtyAccounts.clear();
    for (const t of this.trace(seeds, grownIn)) {
      if (t.accounts.length === 0 && t.reached.length === 1) {
        // Only new ties among one component's own accounts.
        this.touched.add(t.reached[0]!);
        continue;
      }
      this.settle(t, formerOf, formerSize, former, handled, shrunk);
      changed = true;
    }
    // Cores no trace came back to: what they lost is all their other accounts.
    for (const [c, sh] of shrunk) {
      const comp = this.components.get(c);
      if (!comp || handled.has(c)) continue;
      handled.add(c);
      this.deferOrRecluster(c, comp, sh.size - sh.core);
    }
    for (const c of this.touched) {
      const comp = this.components.get(c);
      if (!comp || handled.has(c)) continue;
      handled.add(c);
      // Same accounts: growth by definition.
      if (comp.last !== null && stillDeferred(comp.last, comp.accounts.length, comp.holdings, this.run, this.params)) {
        this.defer(comp);
        continue;
      }
      this.recluster(c, comp, true);
      this.lastGrownInPlace++;
      changed = true;
    }
    this.touched.clear();
    this.formerLast.clear();
    return changed;
  }

  /**
   * The components reached from `seeds`: accounts outside any standing component are traced
   * key by key; a standing component reached is taken in whole, and only its accounts in
   * `grownIn` (whose ties grew) are traced further.
   *
   * A key is not walked holder by holder. Its tied holders that stand in a component are all
   * in one (the key ties them, and components are what ties join), so one of them reaches
   * that component; its tied holders in none are accounts that changed since the last call
   * (new holders, new suspects, accounts of a component traced again), which are seeds
   * themselves, and a trace from one of them that comes to a key another trace took is
   * merged with that trace. So a trace costs what the changed accounts hold, not what their
   * keys' holders number: a harness key of an operation's 25,000 accounts was walked whole on
   * every call one of them gained a key.
   */
  private trace(seeds: readonly AccountId[], grownIn: ReadonlyMap<number, readonly AccountId[]>): Traced[] {
    const out: Traced[] = [];
    const visited = new Set<AccountId>();
    /** Standing components reached, with the trace that reached them. */
    const owner = new Map<number, Traced>();
    // With the paths it walked pointed at the root: a component traced again meets its
    // accounts one trace at a time, and chains of merged traces would make this quadratic.
    const root = (t: Traced): Traced => {
      let r = t;
      while (r.into !== null) r = r.into;
      while (t.into !== null && t.into !== r) {
        const next = t.into;
        t.into = r;
        t = next;
      }
      return r;
    };
    /** Keys walked, with the trace that walked them. */
    const keyOwner = new Map<IndicatorKey, Traced>();
    const seeded = new Set(seeds);
    for (const seed of seeds) {
      const sc = this.componentOf.get(seed);
      if (visited.has(seed) || (sc !== undefined && owner.has(sc))) continue;
      const t: Traced = { accounts: [], reached: [], into: null };
      const stack: AccountId[] = [];
      /**
       * Merges an earlier trace into this one, the shorter list appended to the longer: the
       * accounts of a component traced again are each a seed, met one by one.
       */
      const join = (o: Traced): void => {
        const r = root(o);
        if (r === t) return;
        if (r.accounts.length > t.accounts.length) [r.accounts, t.accounts] = [t.accounts, r.accounts];
        if (r.reached.length > t.reached.length) [r.reached, t.reached] = [t.reached, r.reached];
        for (const a of r.accounts) t.accounts.push(a);
        for (const x of r.reached) t.reached.push(x);
        r.accounts = [];
        r.reached = [];
        r.into = t;
      };
      const visit = (h: AccountId): void => {
        if (visited.has(h)) return;
        const c = this.componentOf.get(h);
        if (c === undefined) {
          visited.add(h);
          stack.push(h);
          return;
        }
        const o = owner.get(c);
        if (o !== undefined) {
          // Reached by an earlier trace, which took the component in whole without tracing its
          // accounts' ties: the two traces are one component.
          join(o);
          return;
        }
        owner.set(c, t);
        t.reached.push(c);
        for (const g of grownIn.get(c) ?? []) {
          visited.add(g);
          stack.push(g);
        }
      };
      visit(seed);
      while (stack.length > 0) {
        const a = stack.pop()!;
        let linked = false;
        for (const key of this.keysOf(a)) {
          const role = this.roleOf(key);
          if (!joinsOn(role, a, this)) continue;
          linked = true;
          const o = keyOwner.get(key);
          if (o !== undefined) {
            join(o);
            continue;
          }
          keyOwner.set(key, t);
          // One tied holder standing in a component reaches the component the key's standing
          // holders are in: they were tied by it before this call, so they are in one. A seed
          // is not such a holder: one the key has just come to tie (a role that widened from
          // suspects to all holders) may stand in another component, and is traced itself.
          for (const h of this.index.holders(key)) {
            if (h !== a && !seeded.has(h) && this.componentOf.has(h) && joinsOn(role, h, this)) {
              visit(h);
              break;
            }
          }
        }
        if (linked && !this.componentOf.has(a)) t.accounts.push(a);
      }
      out.push(t);
    }
    return out.filter((t) => t.into === null && (t.accounts.length > 0 || t.reached.length > 0));
  }

  /** Makes a trace's component: one that only grew takes the place of the one it grew from. */
  private settle(
    t: Traced,
    formerOf: Map<AccountId, number>,
    formerSize: Map<number, number>,
    former: Map<AccountId, Component>,
    handled: Set<number>,
    shrunk: ReadonlyMap<number, Shrunk>,
  ): void {
    t.accounts.sort();
    let holdings = 0;
    for (const a of t.accounts) holdings += this.keysOf(a).size;
    // Growth of one component: the one standing component it reached and no traced account of
    // another; or one component traced again, whose accounts are here but `lost` of them, and
    // nothing else.
    let grownFrom: number | null = null;
    let lost = 0;
    let fromFormer: number | null = null;
    let formerCount = 0;
    let mixed = t.reached.length > 1;
    for (const a of t.accounts) {
      const f = formerOf.get(a);
      if (f === undefined) continue;
      if (fromFormer === null) fromFormer = f;
      else if (f !== fromFormer) mixed = true;
      formerCount++;
    }
    if (!mixed) {
      // A core's own accounts that came back to it are growth too.
      if (t.reached.length === 1 && (fromFormer === null || fromFormer === t.reached[0]!)) grownFrom = t.reached[0]!;
      else if (t.reached.length === 0 && fromFormer !== null) {
        grownFrom = fromFormer;
        lost = formerSize.get(fromFormer)! - formerCount;
      }
    }
    // A standing component grown by new accounts keeps its id: the accounts it had are not set again.
    if (grownFrom !== null && t.reached.length === 1) {
      const c = grownFrom;
      const comp = this.components.get(c)!;
      handled.add(c);
      const sh = shrunk.get(c);
      for (const a of t.accounts) this.componentOf.set(a, c);
      comp.accounts = mergeSorted(comp.accounts, t.accounts);
      comp.holdings += holdings;
      this.deferOrRecluster(c, comp, sh === undefined ? 0 : sh.size - sh.core - formerCount);
      return;
    }
    // Otherwise a new component, from traced accounts and whole ones it took in.
    let accounts = t.accounts;
    for (const c of t.reached) {
      const taken = this.components.get(c)!;
      this.dropComponent(c);
      accounts = mergeSorted(accounts, taken.accounts);
      holdings += taken.holdings;
      if (taken.graph) for (const m of taken.accounts) former.set(m, taken);
    }
    const id = ++this.componentSeq;
    handled.add(id);
    for (const a of accounts) this.componentOf.set(a, id);
    const last = grownFrom !== null ? this.formerLast.get(grownFrom) ?? null : null;
    const comp: Component = { accounts, communities: [], graph: null, holdings, last: null, stale: false };
    this.components.set(id, comp);
    if (last !== null && stillDeferred(last, accounts.length, holdings, this.run, this.params, lost)) {
      if (lost > 0) this.lastDeferredLosing++;
      comp.last = lost > 0 ? withoutLost(last, lost, (a) => this.componentOf.get(a) === id, indicatorCounter(this, this.roleOf)) : last;
      comp.communities = comp.last.communities;
      // Its graph is moved to the accounts it has now, not when it is next clustered: an account
      // that left and comes back meanwhile would be taken for one that stayed, its new keys unseen.
      comp.graph = this.takeGraph(accounts, former);
      this.large.add(id);
      this.defer(comp);
      return;
    }
    let graph = this.takeGraph(accounts, former);
    const kept = graph !== null;
    if (graph === null && accounts.length >= this.keepGraphAccounts) graph = new ComponentGraph(accounts, this, this.roleOf);
    comp.graph = graph;
    this.recluster(id, comp, kept);
  }

  /**
   * A standing component that grew, and lost `lost` accounts since the last call: it keeps its
   * last clustering (without the accounts it lost) while the deferral rule allows, or is
   * clustered now.
   */
  private deferOrRecluster(c: number, comp: Component, lost: number): void {
    if (comp.last === null || !stillDeferred(comp.last, comp.accounts.length, comp.holdings, this.run, this.params, lost)) {
      this.recluster(c, comp, comp.graph !== null);
      return;
    }
    if (lost > 0) {
      this.lastDeferredLosing++;
      comp.last = withoutLost(comp.last, lost, (a) => this.componentOf.get(a) === c, indicatorCounter(this, this.roleOf));
      comp.communities = comp.last.communities;
      // Its graph is moved to the accounts it has now, not when it is next clustered: an account
      // that left and comes back meanwhile would be taken for one that stayed, its new keys unseen.
      if (comp.graph !== null && !sameAccounts(comp.graph.accounts, comp.accounts)) {
        comp.graph.rebase(comp.accounts, this);
        if (comp.graph.worn) comp.graph = null;
      }
    }
    this.defer(comp);
  }

  /**
   * The accounts of component `c` (which may have split) that are surely still tied together,
   * or null when they are fewer than half of it. With a kept graph: the largest set its keys
   * untouched since it was last brought up to date tie (their ties are as the graph holds
   * them). Without one: the accounts its most held keys tie, each key's tied holders joined by
   * its node, a key joining only through an account already in. Either way the core is
   * connected by construction; how it is found decides only how much of the component is
   * traced again.
   */
  private coreOf(c: number, comp: Component): Set<AccountId> | null {
    const inC = (a: AccountId): boolean => this.componentOf.get(a) === c;
    const core = comp.graph !== null ? new Set(comp.graph.untouchedCore(inC)) : this.mostHeldCore(c, comp);
    return core.size * 2 >= comp.accounts.length ? core : null;
  }

  /** The accounts of component `c` its most held keys tie together (see `coreOf`). */
  private mostHeldCore(c: number, comp: Component): Set<AccountId> {
    // The most held keys that tie, by their counts in the last clustering's communities (an
    // operation's community counts tens of thousands of keys: kept to the best few, not sorted).
    const held = new Map<IndicatorKey, number>();
    for (const com of comp.communities) for (const [key, n] of com.indicators) held.set(key, (held.get(key) ?? 0) + n);
    const best: [IndicatorKey, number][] = [];
    for (const [key, n] of held) {
      if (best.length === CORE_KEYS && n <= best[CORE_KEYS - 1]![1]) continue;
      if (this.roleOf(key).joins === 'none') continue;
      let i = best.length === CORE_KEYS ? CORE_KEYS - 1 : best.length;
      while (i > 0 && best[i - 1]![1] < n) {
        best[i] = best[i - 1]!;
        i--;
      }
      best[i] = [key, n];
    }
    const core = new Set<AccountId>();
    for (const [key] of best) {
      const role = this.roleOf(key);
      const tied: AccountId[] = [];
      let meets = core.size === 0;
      for (const h of this.index.holders(key)) {
        if (this.componentOf.get(h) !== c || !joinsOn(role, h, this)) continue;
        tied.push(h);
        if (!meets && core.has(h)) meets = true;
      }
      if (tied.length < 2 || !meets) continue;
      for (const h of tied) core.add(h);
    }
    return core;
  }

  /** Last clusterings of components traced again on this call, by their former id. */
  private readonly formerLast = new Map<number, Clustering | null>();

  private dropComponent(c: number): void {
    const comp = this.components.get(c);
    if (!comp) return;
    this.formerLast.set(c, comp.last);
    this.components.delete(c);
    this.large.delete(c);
  }

  /**
   * A component that changed keeps its last clustering's communities. Its graph stays: the
   * run's changes still reach it (`touchKeptGraphs`), and accounts that joined meanwhile are
   * taken in when it is next clustered (`recluster`), so that clustering costs what changed
   * rather than a graph built again over tens of thousands of accounts.
   */
  private defer(comp: Component): void {
    comp.stale = true;
    this.lastDeferred++;
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
   * or null when none holds at least
   * half of them and they at least half of it (or it has lost too many accounts since it was
   * built): a few accounts that split off an operation's component must not take its graph.
   * Each former graph is taken once.
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
    if (best === null || overlap * 2 < accounts.length || overlap * 2 < best.graph!.accounts.length) return null;
    const graph = best.graph!;
    for (const m of best.accounts) former.delete(m);
    if (sameAccounts(graph.accounts, accounts)) return graph;
    graph.rebase(accounts, this);
    return graph.worn ? null : graph;
  }

  /** Clusters a component now, and records the clustering when it is large enough to be deferred later. */
  private recluster(id: number, comp: Component, kept: boolean): void {
    // A kept graph of the component before it took in accounts (or lost some) is moved to them.
    if (comp.graph !== null && !sameAccounts(comp.graph.accounts, comp.accounts)) {
      comp.graph.rebase(comp.accounts, this);
      if (comp.graph.worn) {
        comp.graph = null;
        kept = false;
      }
    }
    if (comp.graph === null && comp.accounts.length >= this.keepGraphAccounts) comp.graph = new ComponentGraph(comp.accounts, this, this.roleOf);
    if (comp.graph) {
      comp.communities = comp.graph.cluster(this, this.roleOf, this.params);
      if (kept) this.lastGraphsKept++;
    } else {
      comp.communities = clusterComponent(comp.accounts, this, this.roleOf, this.params);
    }
    comp.stale = false;
    if (deferrable(comp.accounts.length, this.params)) {
      comp.last = clustering(comp.accounts.length, comp.holdings, this.run, comp.communities);
      this.large.add(id);
    } else {
      comp.last = null;
      this.large.delete(id);
    }
    this.lastClustered++;
  }

  /**
   * Hands this call's changes to the kept graphs they reach, whether or not their component is
   * re-clustered now: a graph must see every change to what its members hold before it is used.
   */
  private touchKeptGraphs(): void {
    const graphs: ComponentGraph[] = [];
    for (const c of this.components.values()) if (c.graph !== null) graphs.push(c.graph);
    if (graphs.length === 0) return;
    const graphOf = (a: AccountId): ComponentGraph | null => {
      const c = this.componentOf.get(a);
      return c === undefined ? null : (this.components.get(c)?.graph ?? null);
    };
    for (const key of this.dirtyKeys) {
      const holders = this.index.holders(key);
      // A key thousands of an operation's accounts hold is asked of the few graphs, not walked
      // holder by holder on every run one of them changes (a quarter of a million holders a run
      // on the first 1.5M lines of hydra-28m).
      if (holders.size > 4 * graphs.length) {
        for (const g of graphs) if (g.holds(key)) g.touchKey(key);
        continue;
      }
      let last: ComponentGraph | null = null;
      for (const h of holders) {
        const g = graphOf(h);
        if (g === null || g === last) continue;
        g.touchKey(key);
        last = g;
      }
    }
    for (let i = 0; i < this.newHoldings.length; i += 2) graphOf(this.newHoldings[i] as AccountId)?.touchAccount(this.newHoldings[i] as AccountId);
  }

  /**
   * Recomputes a key's role. When it ties fewer of its holders now, their components may split;
   * when it ties more, the newly tied holders are traced from; when only what it counts as
   * changed, the components holding it are touched.
   */
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
    for (const h of holders) {
      const was = joinsOn(before, h, this);
      const is = joinsOn(after, h, this);
      const c = this.componentOf.get(h);
      if (was && !is && c !== undefined) this.broken.add(c);
      else if (is && !was) this.dirtyAccounts.add(h);
      else if (c !== undefined) this.touched.add(c);
    }
  }
}

function mergeSorted(a: readonly AccountId[], b: readonly AccountId[]): AccountId[] {
  if (b.length === 0) return a.slice();
  if (a.length === 0) return b.slice();
  const out: AccountId[] = new Array<AccountId>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = a[i]! <= b[j]! ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
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
