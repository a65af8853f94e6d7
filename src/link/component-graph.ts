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
 *
 * Members are numbered by slot: an account keeps its slot while it is a member, and one that
 * joins takes a new one, so a component that takes in or loses accounts renumbers nothing.
 * Louvain's graph wants the members in account order (their rank); `rank` maps a slot to it,
 * and every key's tied list is kept in rank order, which members joining or leaving do not
 * change (ranks of the members that stay keep their order).
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
  /** Sorted: by rank. */
  private members: readonly AccountId[];
  /** Member → its slot. */
  private readonly slotOf = new Map<AccountId, number>();
  /** Per slot: the Louvain node's name of its account (`a:` and the id); made once per slot. */
  private readonly slotName: string[] = [];
  /** Per slot: its member's rank, -1 for a slot whose account left. */
  private rank = new Int32Array(0);
  /** Per rank: the member's slot. */
  private slotAt = new Int32Array(0);
  /** Per slot: whether its member is a suspect (read again at every `cluster`). */
  private suspect: boolean[] = [];
  /** Every key a member holds, by number. */
  private readonly keyId = new Map<IndicatorKey, number>();
  private readonly keyNames: IndicatorKey[] = [];
  private readonly weight: number[] = [];
  /** May count as a community's evidence: not generic, held by someone else too. */
  private readonly evidence: boolean[] = [];
  /** Slots of the members the key ties (its node's edges), in rank order; empty when not a node. */
  private readonly tied: Int32Array[] = [];
  /** Slots of the members holding the key, in the order of its holders; kept only for evidence keys. */
  private readonly inside: number[][] = [];
  /** Per slot, the numbers of the keys its member holds, in the order it holds them (none once it left). */
  private readonly held: number[][] = [];
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
    this.slotAt = new Int32Array(accounts.length);
    for (let i = 0; i < accounts.length; i++) {
      const slot = this.newSlot(accounts[i]!, view, false);
      this.rank[slot] = i;
      this.slotAt[i] = slot;
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
    const n = this.slotName.length;
    // By slot; a slot whose account left is never kept.
    const kept = new Uint8Array(n);
    for (let r = 0; r < this.members.length; r++) kept[this.slotAt[r]!] = keep(this.members[r]!) ? 1 : 0;
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
      for (let j = 0; j < tied.length; j++) if (kept[tied[j]!] === 0) continue keys;
      const r = find(tied[0]!);
      for (let j = 1; j < tied.length; j++) {
        const q = find(tied[j]!);
        if (q !== r) parent[q] = r;
      }
    }
    // Members met in rank order, so that a tie between two sets goes the same way whatever the slots.
    const size = new Int32Array(n);
    let best = -1;
    for (let r = 0; r < this.members.length; r++) {
      const i = this.slotAt[r]!;
      if (kept[i] === 0) continue;
      const root = find(i);
      size[root] = size[root]! + 1;
      if (best < 0 || size[root]! > size[best]!) best = root;
    }
    const core: AccountId[] = [];
    if (best < 0 || size[best]! < 2) return core;
    for (let r = 0; r < this.members.length; r++) {
      const i = this.slotAt[r]!;
      if (kept[i] === 1 && find(i) === best) core.push(this.members[r]!);
    }
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
    for (let r = 0; r < this.members.length; r++) holdings += this.held[this.slotAt[r]!]!.length;
    return { keys: this.keyNames.length, holdings, listed };
  }

  /** How many of `accounts` (sorted) are members: what taking the graph over for them would save. */
  overlap(accounts: readonly AccountId[]): number {
    let n = 0;
    for (const a of accounts) if (this.slotOf.has(a)) n++;
    return n;
  }

  /** Whether moving to another set of accounts still pays, or leaves too many keys nobody here holds. */
  get worn(): boolean {
    return this.departed > this.members.length / 2;
  }

  /**
   * The graph of a component that took in or lost accounts (a new tie, a suspect that left):
   * members that stay keep their slots, and only the ranks are set again (a walk of both sorted
   * lists); accounts that came take new slots, and the keys of accounts that came or went are
   * refreshed on the next `cluster`. Every other key's list holds members that stay, and they
   * keep their order, so nothing is renumbered or sorted (that walk of every key's lists, on
   * every change of an operation's 25,000 accounts, was a quarter of the linker's time).
   */
  rebase(accounts: readonly AccountId[], view: LinkView): void {
    const before = this.members;
    const slotAt = new Int32Array(accounts.length);
    let i = 0;
    for (let j = 0; j < accounts.length; j++) {
      const a = accounts[j]!;
      while (i < before.length && before[i]! < a) this.leave(before[i]!, this.slotAt[i++]!);
      let slot: number;
      if (i < before.length && before[i] === a) slot = this.slotAt[i++]!;
      else slot = this.newSlot(a, view, true);
      this.rank[slot] = j;
      slotAt[j] = slot;
    }
    while (i < before.length) this.leave(before[i]!, this.slotAt[i++]!);
    this.members = accounts;
    this.slotAt = slotAt;
  }

  /** A slot for an account that joins, its keys to be refreshed (`pending`) when the graph is in use already. */
  private newSlot(a: AccountId, view: LinkView, pending: boolean): number {
    const slot = this.slotName.length;
    this.slotOf.set(a, slot);
    this.slotName.push('a:' + a);
    this.suspect.push(view.suspects.has(a));
    if (slot >= this.rank.length) {
      const grown = new Int32Array(Math.max(16, slot * 2));
      grown.set(this.rank);
      this.rank = grown;
    }
    const own: number[] = [];
    for (const key of view.keysOf(a)) {
      own.push(this.idOf(key));
      if (pending) this.pendingKeys.add(key);
    }
    this.held.push(own);
    this.pendingAccounts.delete(a);
    return slot;
  }

  /** `a`, the member of `slot`, left: its keys are refreshed on the next `cluster`, its slot is never used again. */
  private leave(a: AccountId, slot: number): void {
    this.departed++;
    for (const id of this.held[slot]!) this.pendingKeys.add(this.keyNames[id]!);
    this.slotOf.delete(a);
    this.held[slot] = [];
    this.rank[slot] = -1;
  }

  /** Communities as `clusterComponent` makes them on the same accounts, after bringing the graph up to date. */
  cluster(view: LinkView, roleOf: (key: IndicatorKey) => KeyRole, p: LinkParams): Community[] {
    this.sync(view, roleOf);
    const g = new LouvainGraph();
    // Members are Louvain's first nodes, in rank order: node r is the member of rank r.
    const { slotAt, rank } = this;
    for (let r = 0; r < this.members.length; r++) g.addNode(this.slotName[slotAt[r]!]!);
    for (const id of this.nodes) {
      const node = g.addNode(this.keyNames[id]!);
      const tied = this.tied[id]!;
      const weight = this.weight[id]!;
      for (let j = 0; j < tied.length; j++) g.addEdge(rank[tied[j]!]!, node, weight);
    }
    const assignment = louvainAssignment(g, p);
    // Each community's members by rank, in rank order.
    const byCommunity = new Map<number, number[]>();
    for (let r = 0; r < this.members.length; r++) {
      const c = assignment[this.slotName[slotAt[r]!]!]!;
      const list = byCommunity.get(c);
      if (list) list.push(r);
      else byCommunity.set(c, [r]);
    }
    // By slot: a member's place in the community being split.
    const position = new Int32Array(this.slotName.length).fill(-1);
    const countIndicators = (members: readonly AccountId[]): Map<IndicatorKey, number> => this.countIndicators(members.map((a) => this.slotOf.get(a)!));
    const out: Community[] = [];
    for (const ranks of byCommunity.values()) {
      const slots = ranks.map((r) => slotAt[r]!);
      slots.forEach((m, j) => (position[m] = j));
      const held = (key: IndicatorKey, suspectsOnly: boolean): number[] => {
        const found: number[] = [];
        for (const m of this.inside[this.keyId.get(key)!]!) if (position[m]! >= 0 && (!suspectsOnly || this.suspect[m])) found.push(position[m]!);
        return found;
      };
      const com = { accounts: ranks.map((r) => this.members[r]!), indicators: this.countIndicators(slots) };
      out.push(...splitByStrongTies(com, held, countIndicators, p));
      for (const m of slots) position[m] = -1;
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
        const i = this.slotOf.get(h);
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
    this.tied[id] = tied === null ? NONE : this.inRankOrder(tied);
    return tied !== null;
  }

  /** Slots sorted by their members' ranks. */
  private inRankOrder(slots: readonly number[]): Int32Array {
    const sorted = new Int32Array(slots.length);
    for (let j = 0; j < slots.length; j++) sorted[j] = this.rank[slots[j]!]!;
    sorted.sort();
    for (let j = 0; j < sorted.length; j++) sorted[j] = this.slotAt[sorted[j]!]!;
    return sorted;
  }

  private sync(view: LinkView, roleOf: (key: IndicatorKey) => KeyRole): void {
    for (let r = 0; r < this.members.length; r++) this.suspect[this.slotAt[r]!] = view.suspects.has(this.members[r]!);
    for (const a of this.pendingAccounts) {
      const i = this.slotOf.get(a);
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
   * Keys that at least two of `members` (slots, in rank order) hold as evidence, with how many
   * hold each, in the order a from-scratch count first meets them (members in order, each's
   * keys in order).
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
