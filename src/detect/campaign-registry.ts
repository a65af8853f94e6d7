/**
 * Flagged campaigns: their ids (stable across linking runs), merges when two turn out to be
 * one operation, and the harness marks that tie a replacement pool to a known campaign from
 * its first exchanges.
 */
import type { ExchangeFeatures } from '../core/features.js';
import { campaignId, type AccountId, type CampaignId } from '../core/ids.js';
import { HARNESS_KINDS, indicatorKey, kindOf, type IndicatorKey, type IndicatorKind } from '../link/indicators.js';
import type { Linker } from '../link/linker.js';
import type { AccountBook } from './account-book.js';
import type { AccountState } from './account-state.js';
import type { CampaignScore } from './campaign-score.js';

export interface CampaignState {
  id: CampaignId;
  firstFlaggedAt: number;
  score: CampaignScore;
  /** Indicator keys held by at least two members, with how many hold each. */
  indicators: Map<IndicatorKey, number>;
  /** Harness, system-prompt and template keys specific to this campaign (see signatures). */
  signature: Set<IndicatorKey>;
}

/** Kinds that say "the same client software or the same payer": what joins two flagged groups. */
const CLIENT_KINDS: ReadonlySet<IndicatorKind> = new Set(['harness', 'system', 'payment']);

export class CampaignRegistry {
  readonly campaigns = new Map<CampaignId, CampaignState>();
  /** Accounts flagged as members, per campaign. */
  private readonly memberCounts = new Map<CampaignId, number>();
  private seq = 0;
  /** signature key → campaign id, for tying new accounts to a known harness at once. */
  private readonly signatures = new Map<IndicatorKey, CampaignId>();
  /** Per unflagged account: campaign id → signature keys it has been seen using. */
  private readonly harnessMatches = new Map<AccountId, Map<CampaignId, Set<IndicatorKey>>>();
  /** Accounts flagged because they reused a flagged campaign's harness. */
  readonly harnessTied = new Set<AccountId>();

  constructor(
    private readonly book: AccountBook,
    private readonly linker: Linker,
    private readonly minCampaignAccounts: number,
  ) {}

  /** Counts an account newly flagged into a campaign. */
  joined(id: CampaignId): void {
    this.memberCounts.set(id, (this.memberCounts.get(id) ?? 0) + 1);
  }

  /**
   * Keeps campaign ids stable across linking runs: the id most members already carry. Given
   * the members' states, not their ids: a linking run has them at hand, and looking 25,000 ids
   * up in the book twice a run (here and in `record`) cost about a seventh of scoring the group.
   */
  idFor(members: readonly AccountState[]): CampaignId {
    const votes = new Map<CampaignId, number>();
    for (const s of members) {
      const c = s.campaignId;
      if (c) votes.set(c, (votes.get(c) ?? 0) + 1);
    }
    let best: CampaignId | null = null;
    let bestN = 0;
    for (const [c, n] of votes) if (n > bestN) [best, bestN] = [c, n];
    return best ?? campaignId(++this.seq);
  }

  /** Records a linking run's judgement of a flagged group. */
  record(id: CampaignId, at: number, score: CampaignScore, indicators: Map<IndicatorKey, number>, members: readonly AccountState[]): void {
    // A campaign new to this run that absorbs others keeps their earliest flag time.
    const mergedFlagTime = this.absorb(id, members);
    const existing = this.campaigns.get(id);
    this.campaigns.set(id, {
      id,
      firstFlaggedAt: Math.min(existing?.firstFlaggedAt ?? at, mergedFlagTime ?? at),
      score,
      indicators,
      signature: new Set(),
    });
  }

  /**
   * Linking runs see more as time goes on: two groups flagged apart early may turn out to be
   * one operation. Their accounts then move to the surviving id, which keeps the earliest flag
   * time; returns that time, or undefined when there was nothing to absorb.
   */
  private absorb(id: CampaignId, members: readonly AccountState[], tied: 'check client ties' | 'same signature' = 'check client ties'): number | undefined {
    const others = new Set<CampaignId>();
    // Each other campaign is weighed once, not once per member of it in the group.
    const weighed = new Set<CampaignId>();
    for (const s of members) {
      const c = s.campaignId;
      if (!c || c === id || weighed.has(c)) continue;
      weighed.add(c);
      if (tied === 'same signature' || this.tiedByClient(c, members)) others.add(c);
    }
    if (others.size === 0) return undefined;
    let earliest = this.campaigns.get(id)?.firstFlaggedAt ?? Infinity;
    for (const s of this.book.values()) {
      if (s.campaignId && others.has(s.campaignId)) {
        s.campaignId = id;
        this.joined(id);
      }
    }
    for (const o of others) {
      earliest = Math.min(earliest, this.campaigns.get(o)?.firstFlaggedAt ?? Infinity);
      this.campaigns.delete(o);
      this.memberCounts.delete(o);
    }
    const c = this.campaigns.get(id);
    if (c && earliest < c.firstFlaggedAt) c.firstFlaggedAt = earliest;
    return earliest;
  }

  /**
   * Is campaign `other` one operation with the rest of `accounts`? Only when one of its
   * accounts there shares a specific client with another account of the group: a harness,
   * an injected system prompt or a payment method. A public template or a shared exit hangs
   * a lone account of one operator on another's group now and then (on small seed 2, one
   * ban-evasion account in the hydra's group by the wrapper both copied), and that must not
   * fold one campaign into the other; the account stays in its own campaign.
   */
  private tiedByClient(other: CampaignId, members: readonly AccountState[]): boolean {
    const rest = new Set<AccountId>();
    const theirs: AccountId[] = [];
    for (const s of members) {
      if (s.campaignId === other) theirs.push(s.id);
      else rest.add(s.id);
    }
    for (const a of theirs) {
      for (const key of this.linker.keysOf(a)) {
        if (!CLIENT_KINDS.has(kindOf(key))) continue;
        const holders = this.linker.holders(key);
        // A client that many accounts in no campaign use (a popular SDK's defaults) is no tie.
        let outside = 0;
        for (const h of holders) if (!this.book.get(h)?.campaignId) outside++;
        if (outside > Math.max(2, 0.1 * members.length)) continue;
        for (const h of holders) if (rest.has(h)) return true;
      }
    }
    return false;
  }

  /** Harness marks that members share and few outsiders use: what a replacement pool keeps. */
  refreshSignatures(): void {
    this.signatures.clear();
    const merges: [CampaignId, CampaignId][] = [];
    for (const c of this.campaigns.values()) {
      c.signature.clear();
      const members = this.memberCounts.get(c.id) ?? 0;
      if (members < this.minCampaignAccounts) continue;
      for (const [key, holdersInside] of c.indicators) {
        if (!HARNESS_KINDS.has(kindOf(key))) continue;
        if (holdersInside < Math.max(2, 0.3 * members)) continue;
        // Outsiders are accounts in no campaign: another campaign using the same mark is the same operation.
        let outside = 0;
        for (const a of this.linker.holders(key)) if (!this.book.get(a)?.campaignId) outside++;
        if (outside > Math.max(2, 0.1 * members)) continue;
        c.signature.add(key);
        const other = this.signatures.get(key);
        // Two flagged groups with the same specific client (harness or injected prompt) are one
        // operation that linking cut in two. A template alone is not: operators copy public ones.
        if (other && other !== c.id) {
          if (kindOf(key) !== 'template') merges.push([other, c.id]);
        } else this.signatures.set(key, c.id);
      }
    }
    if (merges.length === 0) return;
    for (const [keep, gone] of merges) {
      if (!this.campaigns.has(keep) || !this.campaigns.has(gone)) continue;
      const [big, small] = (this.memberCounts.get(keep) ?? 0) >= (this.memberCounts.get(gone) ?? 0) ? [keep, gone] : [gone, keep];
      const moving = [...this.book.values()].filter((s) => s.campaignId === small);
      // Already proven one operation by the shared signature; the client-tie check would look
      // for ties from the moving accounts to the rest of `moving`, find none, merge nothing,
      // and this refresh would find the same pair again, without end.
      this.absorb(big, moving, 'same signature');
    }
    this.refreshSignatures();
  }

  /**
   * A fresh account that uses two kinds of a flagged campaign's specific harness marks (its
   * client and injected prompt, or either with its template) is that campaign's: returns the
   * campaign and the marks, or null.
   */
  matchHarness(s: AccountState, f: ExchangeFeatures): { campaign: CampaignId; marks: string } | null {
    if (this.signatures.size === 0) return null;
    const candidates: IndicatorKey[] = [
      indicatorKey('harness', f.harness_sig),
      indicatorKey('system', f.system_sig),
      indicatorKey('template', f.template_prefix),
      indicatorKey('template', f.template_suffix),
    ];
    for (const key of candidates) {
      const cid = this.signatures.get(key);
      if (!cid) continue;
      let byCampaign = this.harnessMatches.get(s.id);
      if (!byCampaign) {
        byCampaign = new Map();
        this.harnessMatches.set(s.id, byCampaign);
      }
      let matched = byCampaign.get(cid);
      if (!matched) {
        matched = new Set();
        byCampaign.set(cid, matched);
      }
      matched.add(key);
      // Two marks of two kinds. Templates alone can be a public bank's items, so the client or
      // injected prompt must match too. Two harness keys are one mark: the same sampling
      // settings with and without a bank item's tools; once the user agent is not logged they
      // are all a harness key holds, and an ordinary account on the same settings matched both.
      const kinds = new Set([...matched].map((k) => kindOf(k)));
      if (kinds.size >= 2 && [...kinds].some((k) => k !== 'template')) {
        this.harnessTied.add(s.id);
        this.harnessMatches.delete(s.id);
        return { campaign: cid, marks: [...matched].map((k) => kindOf(k)).join(' and ') };
      }
    }
    return null;
  }
}
