/**
 * One component's linking graph kept between linking runs, so that re-clustering it costs
 * what changed, not its size.
 *
 * The largest operation's component (hundreds of accounts, tens of thousands of keys) is
 * dirty on nearly every run because a few of its members gained a tie. `clusterComponent`
 * (communities.ts) rebuilds everything it needs from the accounts' keys each time: each
 * key's role, its tied holders found and sorted, the tying keys sorted, each account's
 * evidence. This keeps those, by number, for one fixed set of accounts, and refreshes only
 * the keys a run touched; a run's communities come out exactly as `clusterComponent` makes
 * them (same Louvain graph, nodes and edges in the same order; same counting), which
 * `VerifyingLinker` and linker.case.test.ts check against a from-scratch run.
 *
 * What a component's communities depend on, and how each reaches the kept graph:
 * - its accounts: fixed; another set of accounts means another graph;
 * - what each account holds: new holdings are appended from the account's keys, in the order
 *   it holds them (`touchAccount`);
 * - each key's role, its holders and which of them are suspects: every change to them
 *   dirties the key in the linker, which hands it to the graphs of its holders (`touchKey`);
 * - which members are suspects: read again on every run.
 */
import type { AccountId } from '../core/ids.js';
import { countsAsEvidence, joinsOn, splitByStrongTies, type Community, type KeyRole, type LinkParams, type LinkView, louvainAssignment } from './communities.js';
import { KIND_WEIGHT, kindOf, type IndicatorKey } from './indicators.js';
import { LouvainGraph } from './louvain-graph.js';

const NONE = new Int32Array(0);

export interface KeptGraphSize {
  keys: number;
  holdings: number;
  /** Member numbers in the keys' tied and holder lists. */
  listed: number;
}

export class ComponentGraph {
  /** Sorted. */
  private members: readonly AccountId[];
  private at = new Map<AccountId, number>();
  private names: string[];
  private suspect: boolean[];
  /** Every key a member holds, by number. */
  private readonly keyId = new Map<IndicatorKey, number>();
  private readonly keyNames: IndicatorKey[] = [];
  private readonly weight: number[] = [];
  /** May count as a community's evidence: not generic, held by someone else too. */
  private readonly evidence: boolean[] = [];
  /** Members the key ties (its node's edges), sorted by member number; empty when not a node. */
  private readonly tied: Int32Array[] = [];
  /** Members holding the key, in the order of its holders; kept only for evidence keys. */
  private readonly inside: number[][] = [];
  /** Per member, the numbers of the keys it holds, in the order it holds them. */
  private held: number[][] = [];
  /** The key nodes, by number, in the order of their names. */
  private nodes: number[] = [];
  private readonly pendingKeys = new Set<IndicatorKey>();
  private readonly pendingAccounts = new Set<AccountId>();
  /** Accounts that left since the graph was built: their keys stay in the table, held by nobody here. */
  private departed = 0;
  /** Scratch for counting indicators: zero between uses. */
  private counts = new Int32Array(0);

  constructor(accounts: readonly AccountId[], view: LinkView, roleOf: (key: IndicatorKey) => KeyRole) {
    this.members = accounts;
    this.names = accounts.map((a, i) => {
      this.at.set(a, i);
      return 'a:' + a;
    });
    this.suspect = accounts.map((a) => view.suspects.has(a));
    for (let i = 0; i < accounts.length; i++) {
      const own: number[] = [];
      for (const key of view.keysOf(accounts[i]!)) own.push(this.idOf(key));
      this.held.push(own);
    }
    const nodeNames: IndicatorKey[] = [];
    for (let id = 0; id < this.keyNames.length; id++) if (this.refresh(id, view, roleOf)) nodeNames.push(this.keyNames[id]!);
    this.nodes = nodeNames.sort().map((k) => this.keyId.get(k)!);
  }

  /** `key`, held by a member, changed (a holder, its role, a holder's suspicion). */
  touchKey(key: IndicatorKey): void {
    this.pendingKeys.add(key);
  }

  /**
   * Whether a member holds `key`, or held it: a departed member's keys stay in the table, and a
   * member's keys since the graph was brought up to date are not in it yet (they are refreshed
   * with the member, `touchAccount`). So touching every graph that answers yes for a changed
   * key reaches every graph the key's holders are in.
   */
  holds(key: IndicatorKey): boolean {
    return this.keyId.has(key);
  }

  /**
   * The largest set of members that keys untouched since the graph was last brought up to date
   * tie together, as the graph holds their ties: such a key's role, holders and suspects are as
   * they were, so the members it ties are tied now. Keys tying a member for which `keep` says no
   * are left out, so the set is connected among the members `keep` accepts.
   */
  untouchedCore(keep: (account: AccountId) => boolean): AccountId[] {
    const n = this.members.length;
    const kept = new Uint8Array(n);
    for (let i = 0; i < n; i++) kept[i] = keep(this.members[i]!) ? 1 : 0;
    const parent = new Int32Array(n);
    for (let i = 0; i < n; i++) parent[i] = i;
    const find = (i: number): number => {
      while (parent[i] !== i) {
        parent[i] = parent[parent[i]!]!;
        i = parent[i]!;
      }
      return i;
    };
    keys: for (let id = 0; id < this.keyNames.length; id++) {
      const tied = this.tied[id]!;
      if (tied.length < 2 || this.pendingKeys.has(this.keyNames[id]!)) continue;
      for (let j = 0; j < tied.length; j++) if (tied[j]! < 0 || kept[tied[j]!] === 0) continue keys;
      const r = find(tied[0]!);
      for (let j = 1; j < tied.length; j++) {
        const q = find(tied[j]!);
        if (q !== r) parent[q] = r;
      }
    }
    const size = new Int32Array(n);
    let best = -1;
    for (let i = 0; i < n; i++) {
      if (kept[i] === 0) continue;
      const r = find(i);
      size[r] = size[r]! + 1;
      if (best < 0 || size[r]! > size[best]!) best = r;
    }
    const core: AccountId[] = [];
    if (best < 0 || size[best]! < 2) return core;
    for (let i = 0; i < n; i++) if (kept[i] === 1 && find(i) === best) core.push(this.members[i]!);
    return core;
  }

  /** `account`, a member, holds new keys. */
  touchAccount(account: AccountId): void {
    this.pendingAccounts.add(account);
  }

  get accounts(): readonly AccountId[] {
    return this.members;
  }

  /** What the graph holds, for an estimate of its bytes: keys, holdings, and member numbers in the keys' lists. */
  size(): KeptGraphSize {
    let listed = 0;
    for (let id = 0; id < this.keyNames.length; id++) listed += this.tied[id]!.length + this.inside[id]!.length;
    let holdings = 0;
    for (const own of this.held) holdings += own.length;
    return { keys: this.keyNames.length, holdings, listed };
  }

  /** How many of `accounts` (sorted) are members: what taking the graph over for them would save. */
  overlap(accounts: readonly AccountId[]): number {
    let n = 0;
    for (const a of accounts) if (this.at.has(a)) n++;
    return n;
  }

  /** Whether moving to another set of accounts still pays, or leaves too many keys nobody here holds. */
  get worn(): boolean {
    return this.departed > this.members.length / 2;
  }

  /**
   * The graph of a component that took in or lost accounts (a new tie, a suspect that left):
   * members renumbered in place, the keys of accounts that came or went refreshed on the next
   * `cluster`. Every other key's lists hold only members that stay, so renumbering keeps them
   * sorted.
   */
  rebase(accounts: readonly AccountId[], view: LinkView): void {
    const at = new Map<AccountId, number>();
    accounts.forEach((a, i) => at.set(a, i));
    const renumber = new Int32Array(this.members.length).fill(-1);
    for (let i = 0; i < this.members.length; i++) {
      const j = at.get(this.members[i]!);
      if (j !== undefined) renumber[i] = j;
      else {
        this.departed++;
        for (const id of this.held[i]!) this.pendingKeys.add(this.keyNames[id]!);
      }
    }
    const held: number[][] = [];
    for (const a of accounts) {
      const i = this.at.get(a);
      if (i !== undefined) {
        held.push(this.held[i]!);
        continue;
      }
      const own: number[] = [];
      for (const key of view.keysOf(a)) {
        own.push(this.idOf(key));
        this.pendingKeys.add(key);
      }
      held.push(own);
      this.pendingAccounts.delete(a);
    }
    for (let id = 0; id < this.keyNames.length; id++) {
      const tied = this.tied[id]!;
      for (let j = 0; j < tied.length; j++) tied[j] = renumber[tied[j]!]!;
      const inside = this.inside[id]!;
      for (let j = 0; j < inside.length; j++) inside[j] = renumber[inside[j]!]!;
    }
    this.members = accounts;
    this.at = at;
    this.names = accounts.map((a) => 'a:' + a);
    this.suspect = accounts.map((a) => view.suspects.has(a));
    this.held = held;
  }

  /** Communities as `clusterComponent` makes them on the same accounts, after bringing the graph up to date. */
  cluster(view: LinkView, roleOf: (key: IndicatorKey) => KeyRole, p: LinkParams): Community[] {
    this.sync(view, roleOf);
    const g = new LouvainGraph();
    for (const name of this.names) g.addNode(name);
    for (const id of this.nodes) {
      const node = g.addNode(this.keyNames[id]!);
      const tied = this.tied[id]!;
      const weight = this.weight[id]!;
      for (let j = 0; j < tied.length; j++) g.addEdge(tied[j]!, node, weight);
    }
    const assignment = louvainAssignment(g, p);
    const byCommunity = new Map<number, number[]>();
    for (let i = 0; i < this.members.length; i++) {
      const c = assignment[this.names[i]!]!;
      const list = byCommunity.get(c);
      if (list) list.push(i);
      else byCommunity.set(c, [i]);
    }
    const position = new Int32Array(this.members.length).fill(-1);
    const countIndicators = (members: readonly AccountId[]): Map<IndicatorKey, number> => this.countIndicators(members.map((a) => this.at.get(a)!));
    const out: Community[] = [];
    for (const members of byCommunity.values()) {
      members.forEach((m, j) => (position[m] = j));
      const held = (key: IndicatorKey, suspectsOnly: boolean): number[] => {
        const found: number[] = [];
        for (const m of this.inside[this.keyId.get(key)!]!) if (position[m]! >= 0 && (!suspectsOnly || this.suspect[m])) found.push(position[m]!);
        return found;
      };
      const com = { accounts: members.map((m) => this.members[m]!), indicators: this.countIndicators(members) };
      out.push(...splitByStrongTies(com, held, countIndicators, p));
      for (const m of members) position[m] = -1;
    }
    return out;
  }

  private idOf(key: IndicatorKey): number {
    let id = this.keyId.get(key);
    if (id === undefined) {
      id = this.keyNames.length;
      this.keyId.set(key, id);
      this.keyNames.push(key);
      this.weight.push(KIND_WEIGHT[kindOf(key)]);
      this.evidence.push(false);
      this.tied.push(NONE);
      this.inside.push([]);
    }
    return id;
  }

  /** Recomputes what a key does in this component; true when it is a node. */
  private refresh(id: number, view: LinkView, roleOf: (key: IndicatorKey) => KeyRole): boolean {
    const key = this.keyNames[id]!;
    const role = roleOf(key);
    const holders = view.holders(key);
    const evidence = countsAsEvidence(key, role, view);
    this.evidence[id] = evidence;
    const inside: number[] = [];
    let tied: number[] | null = null;
    let outside: AccountId | null = null;
    if (evidence || role.joins !== 'none') {
      for (const h of holders) {
        const i = this.at.get(h);
        if (evidence && i !== undefined) inside.push(i);
        if (!joinsOn(role, h, view)) continue;
        if (i === undefined) outside = h;
        else (tied ??= []).push(i);
      }
    }
    // A key that ties none of the members (a member holds it without being a suspect) is no
    // node here, whoever else it ties; one that ties a member ties only members.
    if (tied !== null && outside !== null) throw new Error(`ComponentGraph: ${outside} is tied by ${key} but outside the component`);
    this.inside[id] = inside;
    this.tied[id] = tied === null ? NONE : Int32Array.from(tied).sort();
    return tied !== null;
  }

  private sync(view: LinkView, roleOf: (key: IndicatorKey) => KeyRole): void {
    for (let i = 0; i < this.members.length; i++) this.suspect[i] = view.suspects.has(this.members[i]!);
    for (const a of this.pendingAccounts) {
      const i = this.at.get(a);
      if (i === undefined) continue;
      const own = this.held[i]!;
      let skip = own.length;
      // Keys are only ever added to an account, at the end of its set.
      for (const key of view.keysOf(a)) {
        if (skip > 0) {
          skip--;
          continue;
        }
        own.push(this.idOf(key));
        this.pendingKeys.add(key);
      }
    }
    this.pendingAccounts.clear();
    if (this.pendingKeys.size === 0) return;
    const added: IndicatorKey[] = [];
    let removed = false;
    for (const key of this.pendingKeys) {
      const id = this.keyId.get(key);
      if (id === undefined) continue;
      const was = this.tied[id]!.length > 0;
      const is = this.refresh(id, view, roleOf);
      if (is && !was) added.push(key);
      else if (was && !is) removed = true;
    }
    this.pendingKeys.clear();
    if (removed) this.nodes = this.nodes.filter((id) => this.tied[id]!.length > 0);
    if (added.length > 0) this.nodes = this.mergeNodes(added.sort());
  }

  /** The nodes with `added` (sorted names, none a node yet) merged in by name. */
  private mergeNodes(added: readonly IndicatorKey[]): number[] {
    const out: number[] = [];
    let j = 0;
    for (const id of this.nodes) {
      const name = this.keyNames[id]!;
      while (j < added.length && added[j]! < name) out.push(this.keyId.get(added[j++]!)!);
      out.push(id);
    }
    while (j < added.length) out.push(this.keyId.get(added[j++]!)!);
    return out;
  }

  /**
   * Keys that at least two of `members` hold as evidence, with how many hold each, in the
   * order a from-scratch count first meets them (members in order, each's keys in order).
   */
  private countIndicators(members: readonly number[]): Map<IndicatorKey, number> {
    if (this.counts.length < this.keyNames.length) this.counts = new Int32Array(this.keyNames.length * 2);
    const counts = this.counts;
    const met: number[] = [];
    for (const m of members) {
      for (const id of this.held[m]!) {
        if (!this.evidence[id]) continue;
        const n = counts[id]!;
        counts[id] = n + 1;
        if (n === 0) met.push(id);
      }
    }
    const indicators = new Map<IndicatorKey, number>();
    for (const id of met) {
      if (counts[id]! >= 2) indicators.set(this.keyNames[id]!, counts[id]!);
      counts[id] = 0;
    }
    return indicators;
  }
}
