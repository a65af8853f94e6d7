/**
 * The detection engine: fed exchanges in event-time order, by the scanner (replaying the
 * store) and by the gateway (live). It keeps per-account behaviour, an index of shared
 * indicators, and every `linkIntervalMs` of event time it scores accounts, links suspects
 * into campaigns and flags them. Because linking only ever sees exchanges before the tick,
 * the time at which an account is flagged is the time a live deployment would have flagged it.
 */
import type { ExchangeFeatures } from '../core/features.js';
import { findCommunities, type Community } from '../link/communities.js';
import { scoreCampaign, type CampaignScore, type Member } from '../link/campaign-score.js';
import { burstKey, HABIT_MIN_USES, HARNESS_KINDS, IndicatorIndex, kindOf } from '../link/indicators.js';
import { AccountState } from './account-state.js';
import { scoreAccount, type AccountScore } from './account-score.js';
import { describe as describeFinding, type Finding } from './findings.js';
import { DEFAULT_PARAMS, DetectorParamsSchema, type DetectorParams } from './params.js';
import type { Verdict } from '../core/report.js';

const HOUR = 3_600_000;

export interface CampaignState {
  id: string;
  firstFlaggedAt: number;
  score: CampaignScore;
  /** Indicator keys held by at least two members, with how many hold each. */
  indicators: Map<string, number>;
  /** Harness, system-prompt and template keys specific to this campaign (see signatures). */
  signature: Set<string>;
}

/** A flagged campaign as reported: its state rescored on its current members, with their networks and clients. */
export interface CampaignView extends CampaignState {
  /** ASNs and user agents used by at least two members, with how many members use each, most shared first. */
  asns: [number, number][];
  userAgents: [string, number][];
  /**
   * Members that first appeared after the campaign was flagged and were tied to it by its
   * harness while most earlier members had gone quiet: a replacement pool.
   */
  replacementAccounts: number;
}

export interface AccountVerdict {
  accountId: string;
  risk: number;
  verdict: Verdict;
  campaignId: string | null;
  flaggedAt: number | null;
  reasons: string[];
  exchanges: number;
}

export interface FlagEvent {
  accountId: string;
  at: number;
  campaignId: string | null;
  reason: string;
}

export interface EngineOptions {
  params?: Partial<DetectorParams>;
  /** Called when an account is first flagged (the gateway acts on it). */
  onFlag?: (e: FlagEvent) => void;
}

export class DetectionEngine {
  readonly params: DetectorParams;
  private readonly accounts = new Map<string, AccountState>();
  private readonly scores = new Map<string, AccountScore>();
  private readonly keys = new Map<string, Set<string>>();
  private readonly index = new IndicatorIndex();
  private readonly modelFirstSeen = new Map<string, number>();
  private readonly campaigns = new Map<string, CampaignState>();
  /** signature key → campaign id, for tying new accounts to a known harness at once. */
  private readonly signatures = new Map<string, string>();
  /** Per unflagged account: campaign id → signature keys it has been seen using. */
  private readonly harnessMatches = new Map<string, Map<string, Set<string>>>();
  private readonly suspects = new Set<string>();
  private nextTick = -Infinity;
  private lastTs = -Infinity;
  private campaignSeq = 0;
  private readonly onFlag: ((e: FlagEvent) => void) | undefined;
  exchanges = 0;
  linkRuns = 0;

  constructor(opts: EngineOptions = {}) {
    this.params = DetectorParamsSchema.parse({ ...DEFAULT_PARAMS, ...(opts.params ?? {}) });
    this.onFlag = opts.onFlag;
  }

  /** Feeds one exchange. Exchanges must come in event-time order (ties in any order). */
  observe(f: ExchangeFeatures): void {
    if (f.ts >= this.nextTick) {
      if (this.nextTick !== -Infinity) this.tick(Math.floor(f.ts / this.params.linkIntervalMs) * this.params.linkIntervalMs);
      this.nextTick = (Math.floor(f.ts / this.params.linkIntervalMs) + 1) * this.params.linkIntervalMs;
    }
    this.exchanges++;
    if (f.ts > this.lastTs) this.lastTs = f.ts;
    if (!this.modelFirstSeen.has(f.model)) this.modelFirstSeen.set(f.model, f.ts);

    let s = this.accounts.get(f.account_id);
    if (!s) {
      s = new AccountState(f.account_id);
      this.accounts.set(f.account_id, s);
    }
    s.observe(f);
    this.indexExchange(s, f);
    if (s.flaggedAt === null && this.signatures.size > 0) this.matchHarness(s, f);
  }

  private addKey(account: string, key: string): void {
    if (!this.index.add(key, account)) return;
    // Linking sees suspects' keys and those keys' holders; any other key changes nothing.
    if (this.suspects.has(account) || this.heldBySuspect(key)) this.linkInputVersion++;
    let k = this.keys.get(account);
    if (!k) {
      k = new Set();
      this.keys.set(account, k);
    }
    k.add(key);
  }

  private indexExchange(s: AccountState, f: ExchangeFeatures): void {
    const a = f.account_id;
    if (f.ip !== null && s.ips.items.size <= this.params.linkIpsPerAccount && s.ips.items.has(f.ip)) this.addKey(a, 'ip:' + f.ip);
    if (f.subnet !== null && s.subnets.items.has(f.subnet) && s.subnets.items.size <= 16) this.addKey(a, 'subnet:' + f.subnet);
    if (f.payment_fp !== null) this.addKey(a, 'payment:' + f.payment_fp);
    if (s.n === 1) {
      const b = burstKey(f);
      if (b) this.addKey(a, b);
    }
    // Harness and templates count once they are a habit of the account, not a one-off.
    if (f.harness_sig && (s.harnesses.counts.get(f.harness_sig) ?? 0) >= HABIT_MIN_USES) this.addKey(a, 'harness:' + f.harness_sig);
    if (f.system_sig && (s.systems.counts.get(f.system_sig) ?? 0) >= HABIT_MIN_USES) this.addKey(a, 'system:' + f.system_sig);
    // A template is a habit when it wraps a good share of the account's different prompts.
    const templateUses = Math.max(HABIT_MIN_USES, 0.2 * s.n);
    if ((s.prefixes.counts.get(f.template_prefix) ?? 0) >= templateUses) this.addKey(a, 'template:' + f.template_prefix);
    if ((s.suffixes.counts.get(f.template_suffix) ?? 0) >= templateUses) this.addKey(a, 'template:' + f.template_suffix);
  }

  /** A fresh account that uses two of a flagged campaign's specific harness marks is that campaign's. */
  private matchHarness(s: AccountState, f: ExchangeFeatures): void {
    const candidates: [string, string][] = [
      ['harness:' + f.harness_sig, ''],
      ['system:' + f.system_sig, ''],
      ['template:' + f.template_prefix, ''],
      ['template:' + f.template_suffix, ''],
    ];
    for (const [key] of candidates) {
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
      // Templates alone can be a public bank's items; the client or injected prompt must match too.
      if (matched.size >= 2 && [...matched].some((k) => kindOf(k) !== 'template')) {
        const marks = [...matched].map((k) => kindOf(k)).join(' and ');
        this.flag(s, f.ts, cid, `reuses the ${marks} of campaign ${cid} from its first exchanges`);
        this.harnessTied.add(s.id);
        this.harnessMatches.delete(s.id);
        return;
      }
    }
  }

  private flag(s: AccountState, at: number, campaignId: string | null, reason: string): void {
    if (s.flaggedAt !== null) return;
    s.flaggedAt = at;
    s.campaignId = campaignId;
    if (campaignId) this.memberCounts.set(campaignId, (this.memberCounts.get(campaignId) ?? 0) + 1);
    this.flagReasons.set(s.id, reason);
    this.onFlag?.({ accountId: s.id, at, campaignId, reason });
  }
  private readonly flagReasons = new Map<string, string>();
  /** Accounts flagged because they reused a flagged campaign's harness. */
  private readonly harnessTied = new Set<string>();

  private rescore(): void {
    for (const s of this.accounts.values()) {
      if (!s.dirty) continue;
      s.dirty = false;
      const score = scoreAccount(s, this.params);
      this.scores.set(s.id, score);
      const suspect = score.risk >= this.params.suspectRisk;
      if (suspect !== this.suspects.has(s.id)) {
        if (suspect) this.suspects.add(s.id);
        else this.suspects.delete(s.id);
        this.linkInputVersion++;
      }
    }
  }

  private scoreOf(id: string): AccountScore {
    return this.scores.get(id) ?? { risk: 0, findings: [], families: new Set() };
  }

  /** Runs scoring and linking as of event time `at` (exclusive). */
  tick(at: number): void {
    this.linkRuns++;
    this.rescore();
    const p = this.params;
    const communities = this.communities();
    const headHour = Math.floor((at - 1) / HOUR);
    for (const com of communities) {
      if (com.accounts.length < p.minCampaignAccounts) continue;
      const members = this.membersOf(com.accounts);
      const score = scoreCampaign(com, members, p, { headHour, modelFirstSeen: this.modelFirstSeen });
      if (score.confidence < p.campaignConfidence) continue;
      const id = this.campaignIdFor(com.accounts);
      this.absorbCampaigns(id, com.accounts);
      const existing = this.campaigns.get(id);
      this.campaigns.set(id, {
        id,
        firstFlaggedAt: Math.min(existing?.firstFlaggedAt ?? at, this.mergedFlagTime.get(id) ?? at),
        score,
        indicators: com.indicators,
        signature: new Set(),
      });
      for (const m of members) {
        if (m.state.flaggedAt !== null) continue;
        if (this.involved(m, com)) {
          this.flag(m.state, at, id, `member of campaign ${id} (confidence ${score.confidence.toFixed(2)})`);
        }
      }
    }
    // An account alone can be acted on only with strong evidence of several kinds, content among them.
    for (const id of this.suspects) {
      const s = this.accounts.get(id)!;
      if (s.flaggedAt !== null) continue;
      const sc = this.scoreOf(id);
      if (sc.risk >= p.aloneDistillationRisk && sc.families.size >= p.aloneDistillationFamilies && harvests(sc) && fraudLifecycle(sc) && sustained(s, p)) {
        this.flag(s, at, null, `account alone: ${sc.families.size} kinds of evidence, risk ${sc.risk.toFixed(2)}`);
      }
    }
    this.refreshSignatures();
  }

  /**
   * The linking graph changes only when an account gains an indicator or a suspect comes or
   * goes; in between (most hours of a long scan), the last communities still hold, and
   * community detection, which is deterministic, need not run again.
   */
  private communities(): Community[] {
    if (this.linkedVersion === this.linkInputVersion) return this.lastCommunities;
    const p = this.params;
    this.lastCommunities = findCommunities({
      suspects: this.suspects,
      keysOf: (a) => this.keys.get(a) ?? [],
      index: this.index,
      genericAccounts: p.genericIndicatorAccounts,
      resolution: p.louvainResolution,
      minCoreAccounts: p.minCampaignAccounts,
    });
    this.linkedVersion = this.linkInputVersion;
    return this.lastCommunities;
  }
  private heldBySuspect(key: string): boolean {
    for (const a of this.index.holders(key)) if (this.suspects.has(a)) return true;
    return false;
  }
  private linkInputVersion = 0;
  private linkedVersion = -1;
  private lastCommunities: Community[] = [];

  private membersOf(ids: readonly string[]): Member[] {
    return ids.map((a) => ({ state: this.accounts.get(a)!, score: this.scoreOf(a) }));
  }

  /**
   * Is a member of a flagged group part of the operation, or a bystander that shares an IP
   * with it? It must behave at least a little like the group, or share its harness or payment.
   */
  private involved(m: Member, com: Community): boolean {
    let templates = 0;
    let client = 0;
    let network = 0;
    for (const key of this.keys.get(m.state.id) ?? []) {
      const kind = kindOf(key);
      if ((com.indicators.get(key) ?? 0) < 3) continue;
      if (kind === 'payment') return true;
      if (kind === 'template') templates++;
      else if (HARNESS_KINDS.has(kind)) client++;
      else if (kind === 'ip') network++;
    }
    // Two marks of one harness, one of them the client itself (its parameters or injected
    // prompt). Shared templates alone can be a public problem bank that an evaluation run or
    // a customer also sends; then the account must also behave like the group.
    if (client >= 1 && client + templates >= 2) return true;
    if (templates >= 2 && harvests(m.score)) return true;
    // The group's client sent from the group's egress, by an account that is itself automated
    // or fresh at full throughput: a relay passes diverse real prompts, so its content says
    // nothing and its harness, infrastructure and lifecycle must (a bystander on a shared
    // cloud IP with a common client lacks the behaviour).
    if (client >= 1 && network >= 1 && m.score.risk >= this.params.suspiciousRisk && m.score.families.size >= 2) return true;
    // Joined only through the network: it must behave like the group on its own account.
    return m.score.risk >= this.params.suspiciousRisk && m.score.families.size >= 2 && harvests(m.score);
  }

  /**
   * Linking runs see more as time goes on: two groups flagged apart early may turn out to be
   * one operation. Their accounts then move to the surviving id, which keeps the earliest flag time.
   */
  private absorbCampaigns(id: string, accounts: readonly string[]): void {
    const others = new Set<string>();
    for (const a of accounts) {
      const c = this.accounts.get(a)?.campaignId;
      if (c && c !== id) others.add(c);
    }
    if (others.size === 0) return;
    let earliest = this.campaigns.get(id)?.firstFlaggedAt ?? Infinity;
    for (const s of this.accounts.values()) {
      if (s.campaignId && others.has(s.campaignId)) {
        s.campaignId = id;
        this.memberCounts.set(id, (this.memberCounts.get(id) ?? 0) + 1);
      }
    }
    for (const o of others) {
      earliest = Math.min(earliest, this.campaigns.get(o)?.firstFlaggedAt ?? Infinity);
      this.campaigns.delete(o);
      this.memberCounts.delete(o);
    }
    const c = this.campaigns.get(id);
    if (c && earliest < c.firstFlaggedAt) c.firstFlaggedAt = earliest;
    this.mergedFlagTime.set(id, earliest);
  }
  private readonly mergedFlagTime = new Map<string, number>();

  /** Keeps campaign ids stable across linking runs: the id most members already carry. */
  private campaignIdFor(accounts: readonly string[]): string {
    const votes = new Map<string, number>();
    for (const a of accounts) {
      const c = this.accounts.get(a)?.campaignId;
      if (c) votes.set(c, (votes.get(c) ?? 0) + 1);
    }
    let best: string | null = null;
    let bestN = 0;
    for (const [c, n] of votes) if (n > bestN) [best, bestN] = [c, n];
    return best ?? `cmp_${++this.campaignSeq}`;
  }

  /** Harness marks that members share and few outsiders use: what a replacement pool keeps. */
  private refreshSignatures(): void {
    this.signatures.clear();
    const merges: [string, string][] = [];
    for (const c of this.campaigns.values()) {
      c.signature.clear();
      const members = this.memberCounts.get(c.id) ?? 0;
      if (members < this.params.minCampaignAccounts) continue;
      for (const [key, holdersInside] of c.indicators) {
        if (!HARNESS_KINDS.has(kindOf(key))) continue;
        if (holdersInside < Math.max(2, 0.3 * members)) continue;
        // Outsiders are accounts in no campaign: another campaign using the same mark is the same operation.
        let outside = 0;
        for (const a of this.index.holders(key)) if (!this.accounts.get(a)?.campaignId) outside++;
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
      const moving = [...this.accounts.values()].filter((s) => s.campaignId === small).map((s) => s.id);
      this.absorbCampaigns(big, moving);
      const kept = this.campaigns.get(big);
      if (kept) kept.firstFlaggedAt = Math.min(kept.firstFlaggedAt, this.mergedFlagTime.get(big) ?? Infinity);
    }
    this.refreshSignatures();
  }

  /** Accounts flagged as members, per campaign. */
  private readonly memberCounts = new Map<string, number>();

  /** Finishes the stream: one last linking run after the last exchange. */
  finish(): void {
    if (this.lastTs > -Infinity) this.tick(this.lastTs + 1);
  }

  /** The current verdict on one account (the gateway asks this on every request). */
  verdictOf(accountId: string): AccountVerdict | null {
    const s = this.accounts.get(accountId);
    if (!s) return null;
    if (s.dirty) {
      this.scores.set(s.id, scoreAccount(s, this.params));
      s.dirty = false;
    }
    return this.verdictFor(s);
  }

  private verdictFor(s: AccountState): AccountVerdict {
    const sc = this.scoreOf(s.id);
    const reasons: string[] = [];
    const flagReason = this.flagReasons.get(s.id);
    // The flag's reason is as it stood then; the campaign's findings below are as they stand now.
    if (flagReason) reasons.push(`when flagged (${s.flaggedAt === null ? '?' : new Date(s.flaggedAt).toISOString().slice(0, 16) + 'Z'}): ${flagReason}`);
    if (s.campaignId) {
      const c = this.campaigns.get(s.campaignId);
      if (c) for (const f of topFindings(c.score.findings, 3)) reasons.push(`campaign ${c.id} now: ${describeFinding(f)}`);
    }
    for (const f of topFindings(sc.findings, 5)) reasons.push(describeFinding(f));
    let verdict: Verdict = 'benign';
    if (s.flaggedAt !== null) verdict = 'distillation';
    else if (sc.risk >= this.params.suspiciousRisk && sc.families.size >= 2 && harvests(sc) && fraudLifecycle(sc) && sustained(s, this.params)) verdict = 'suspicious';
    const risk = s.flaggedAt !== null ? Math.max(sc.risk, this.campaigns.get(s.campaignId ?? '')?.score.confidence ?? 0) : sc.risk;
    return { accountId: s.id, risk, verdict, campaignId: s.campaignId, flaggedAt: s.flaggedAt, reasons, exchanges: s.n };
  }

  /** Every account that is not benign, riskiest first. */
  verdicts(): AccountVerdict[] {
    const out: AccountVerdict[] = [];
    for (const s of this.accounts.values()) {
      const v = this.verdictFor(s);
      if (v.verdict !== 'benign') out.push(v);
    }
    return out.sort((a, b) => b.risk - a.risk || a.accountId.localeCompare(b.accountId));
  }

  /** Flagged campaigns, rescored on their current members, largest first. */
  campaignList(): CampaignView[] {
    const out: CampaignView[] = [];
    const headHour = Math.floor(this.lastTs / HOUR);
    const byCampaign = new Map<string, string[]>();
    for (const s of this.accounts.values()) {
      if (!s.campaignId) continue;
      const list = byCampaign.get(s.campaignId);
      if (list) list.push(s.id);
      else byCampaign.set(s.campaignId, [s.id]);
    }
    for (const c of this.campaigns.values()) {
      const ids = (byCampaign.get(c.id) ?? []).sort();
      if (ids.length === 0) continue;
      const indicators = new Map<string, number>();
      for (const a of ids) for (const k of this.keys.get(a) ?? []) indicators.set(k, (indicators.get(k) ?? 0) + 1);
      for (const [k, n] of indicators) if (n < 2) indicators.delete(k);
      const members = this.membersOf(ids);
      const score = scoreCampaign({ accounts: ids, indicators }, members, this.params, { headHour, modelFirstSeen: this.modelFirstSeen });
      const replacementAccounts = this.replacementPool(members, c.firstFlaggedAt);
      if (replacementAccounts > 0 && !score.tactics.includes('ban_evasion')) score.tactics.push('ban_evasion');
      out.push({
        ...c,
        score,
        indicators,
        asns: sharedValues(members, (s) => s.asns.items),
        userAgents: sharedValues(members, (s) => s.userAgents.items),
        replacementAccounts,
      });
    }
    return out.sort((a, b) => b.score.exchanges - a.score.exchanges);
  }

  /**
   * How many members form a pool that took over after the flag: first seen after it, tied by
   * the campaign's harness, while at least half of the earlier members had stopped by then.
   * 0 when there is no such pool (a campaign that merely grows is not evading a ban).
   */
  private replacementPool(members: readonly Member[], flaggedAt: number): number {
    const late = members.filter((m) => this.harnessTied.has(m.state.id) && m.state.firstTs >= flaggedAt);
    if (late.length < this.params.minCampaignAccounts) return 0;
    // A loop, not Math.min(...): a pool can hold more accounts than a call takes arguments.
    let takeover = Infinity;
    for (const m of late) takeover = Math.min(takeover, m.state.firstTs);
    const early = members.filter((m) => m.state.firstTs < flaggedAt);
    const quiet = early.filter((m) => m.state.lastTs < takeover).length;
    return early.length > 0 && quiet >= early.length / 2 ? late.length : 0;
  }

  membersOfCampaign(id: string): string[] {
    return [...this.accounts.values()].filter((s) => s.campaignId === id).map((s) => s.id).sort();
  }

  accountCount(): number {
    return this.accounts.size;
  }
}

/** Values (ASNs, clients) that at least two members use, with how many use each, most shared first; at most 20. */
function sharedValues<T extends string | number>(members: readonly Member[], valuesOf: (s: AccountState) => Iterable<T>): [T, number][] {
  const counts = new Map<T, number>();
  for (const m of members) for (const v of valuesOf(m.state)) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts]
    .filter(([, n]) => n >= 2)
    .sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0])))
    .slice(0, 20);
}

/** Asks for what a distiller wants (the reasoning, or grades), not just a lot of anything. */
function harvests(sc: AccountScore): boolean {
  return sc.findings.some((f) => (f.code === 'elicitation_share' || f.code === 'grading_share') && f.strength >= 0.5);
}

/**
 * Lives like a fraudulent account: new and at full throughput, farmed, or rotating networks.
 * An established customer's single account is not acted on for its content alone (evaluation runs, SaaS).
 */
function fraudLifecycle(sc: AccountScore): boolean {
  return sc.findings.some((f) => (f.family === 'lifecycle' && f.code !== 'throughput_vs_tier' && f.strength >= 0.5) || (f.family === 'infrastructure' && f.strength >= 0.5));
}

/**
 * Harvests over time rather than in one bounded run: active across `aloneMinSpanHours` and
 * still sending mostly new items. An evaluation run sends a public benchmark once, in hours,
 * or a few times over the same items; a harvester keeps asking new questions for days. Only
 * an account judged alone needs this: a campaign's coordination says it already.
 */
function sustained(s: AccountState, p: DetectorParams): boolean {
  return s.lastTs - s.firstTs >= p.aloneMinSpanHours * HOUR && s.prompts.size >= p.aloneMinDistinctShare * s.n;
}

function topFindings(findings: readonly Finding[], n: number): Finding[] {
  return [...findings].sort((a, b) => b.weight * b.strength - a.weight * a.strength).slice(0, n);
}
