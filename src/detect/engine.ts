/**
 * The detection engine: fed exchanges in event-time order, by the scanner (replaying the
 * store) and by the gateway (live). It keeps per-account behaviour (the account book), an
 * index of shared indicators (the linker), and on every `tick` it scores the accounts that
 * changed, links suspects into campaigns (the campaign registry) and flags them. Who ticks
 * and when is the caller's: an `EventTimeTicker` on a replay, a timer in the gateway.
 * Because linking only ever sees exchanges before the tick, the time at which an account is
 * flagged is the time a live deployment would have flagged it.
 */
import { phrasesOf } from '../signals/item-sketch.js';
import { PhraseUsage } from './phrase-usage.js';
import { paraphrasesItems, PUBLIC_ITEM_USERS, wrapsItems, wrapsItemsAsMember, wrapsWith } from './shared-wrappers.js';
import type { ExchangeFeatures } from '../core/features.js';
import { accountId, type AccountId, type CampaignId } from '../core/ids.js';
import type { Community } from '../link/communities.js';
import { burstKey, HABIT_MIN_USES, HARNESS_KINDS, indicatorKey, kindOf, type IndicatorKey, type IndicatorKind } from '../link/indicators.js';
import { createLinker, type Linker, type LinkerKind } from '../link/linker.js';
import { AccountBook } from './account-book.js';
import { newObserveDelta, type AccountState, type ObserveDelta } from './account-state.js';
import { accountFindings, findingBits, type AccountScore } from './account-score.js';
import { scoreCampaign, type Member } from './campaign-score.js';
import { CampaignRegistry, type CampaignState } from './campaign-registry.js';
import { describe as describeFinding, type Finding } from './findings.js';
import { IntelMatches, type KnownIndicators } from './known-indicators.js';
import { DEFAULT_PARAMS, DetectorParamsSchema, type DetectorParams } from './params.js';
import { EMPTY_TABLE, MAP_ENTRY, objectBytes, SET_ENTRY, stringBytes } from './state-bytes.js';
import type { Verdict } from '../core/report.js';

const HOUR = 3_600_000;

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
  /** Imported bundles whose indicators members use, with how many members use each. */
  intelBundles: { bundleId: string; producer: string; accounts: number }[];
}

export interface AccountVerdict {
  accountId: AccountId;
  risk: number;
  verdict: Verdict;
  campaignId: CampaignId | null;
  flaggedAt: number | null;
  reasons: string[];
  exchanges: number;
}

export interface FlagEvent {
  accountId: AccountId;
  at: number;
  campaignId: CampaignId | null;
  reason: string;
}

export interface EngineOptions {
  params?: Partial<DetectorParams>;
  /** Called when an account is first flagged (the gateway acts on it). */
  onFlag?: (e: FlagEvent) => void;
  /**
   * How communities are kept: `incremental` re-clusters only what changed; `full` clusters
   * everything on every tick; `verify` runs both and throws on the first tick where they
   * differ (a bug). @default 'verify' when DISTILLWATCH_VERIFY_LINKING=1, else 'incremental'
   */
  linker?: LinkerKind;
  /**
   * Indicators other providers shared (imported bundles). An account using one is linked on
   * its first use of it, and its group's score counts the match as evidence, never enough alone.
   */
  knownIndicators?: KnownIndicators;
}

/** The engine's state in bytes by part (`DetectionEngine.stateBytes`), with the linker's counts. */
export interface StateBytes {
  /** Every account's behaviour (`AccountState.stateBytes`) and the book's map of them. */
  accounts: number;
  /** Each account's latest score with its findings. */
  scores: number;
  /** Sentences used across accounts (phrase-usage.ts). */
  phrases: number;
  /** The account–indicator graph: keys, holdings, suspects. */
  linker: number;
  campaigns: number;
  /** Why each flagged account was flagged. */
  flags: number;
  /** Indicator keys held, and holdings (account, key) in the graph. */
  indicatorKeys: number;
  holdings: number;
  total: number;
}

export class DetectionEngine {
  readonly params: DetectorParams;
  private readonly book: AccountBook;
  private readonly linker: Linker;
  private readonly registry: CampaignRegistry;
  private readonly flagReasons = new Map<AccountId, string>();
  /**
   * Members of a flagged group last found not involved (`involved`), and as what they were then.
   * The community is held weakly: a re-clustered component's old communities (and their maps
   * of indicators) must not be kept alive by a bystander that was once hung on them.
   */
  private readonly notInvolved = new Map<AccountId, { com: WeakRef<Community>; n: number; keys: number; byWrappers: boolean }>();
  private readonly phrases = new PhraseUsage();
  /** A flagged community's members as a set, made when a payment tie is weighed (`groupPaysWith`). */
  private readonly communityMembers = new WeakMap<Community, Set<AccountId>>();
  private lastTs = -Infinity;
  /** Event time of the last linking run. */
  private lastRunAt = -Infinity;
  /**
   * Accounts that became suspects by their first exchanges' content since the last linking
   * run (judged as each reaches the content bar, before the run rescored them).
   */
  private readonly earlySuspects = new Set<AccountId>();
  private readonly onFlag: ((e: FlagEvent) => void) | undefined;
  /** Accounts' use of marks other providers shared; absent without imported indicators. */
  private readonly intel: IntelMatches | undefined;
  /** What the exchange being observed changed in its account (one object for every exchange). */
  private readonly delta = newObserveDelta();
  exchanges = 0;
  linkRuns = 0;

  constructor(opts: EngineOptions = {}) {
    this.params = DetectorParamsSchema.parse({ ...DEFAULT_PARAMS, ...(opts.params ?? {}) });
    this.onFlag = opts.onFlag;
    this.intel = opts.knownIndicators ? new IntelMatches(opts.knownIndicators) : undefined;
    this.book = new AccountBook(this.params);
    const kind = opts.linker ?? (process.env['DISTILLWATCH_VERIFY_LINKING'] === '1' ? 'verify' : 'incremental');
    const p = this.params;
    this.linker = createLinker(kind, {
      genericAccounts: p.genericIndicatorAccounts,
      resolution: p.louvainResolution,
      minCoreAccounts: p.minCampaignAccounts,
      deferAccounts: p.deferAccounts,
      deferAccountGrowth: p.deferAccountGrowth,
      deferHoldingGrowth: p.deferHoldingGrowth,
      deferRuns: p.deferRuns,
      deferAccountLoss: p.deferAccountLoss,
    });
    this.registry = new CampaignRegistry(this.book, this.linker, this.params.minCampaignAccounts);
  }

  /** Feeds one exchange. Exchanges must come in event-time order (ties in any order). */
  observe(f: ExchangeFeatures): void {
    this.exchanges++;
    if (f.ts > this.lastTs) this.lastTs = f.ts;
    // Phrase uses are counted per different prompt; what changed with this one is what counts.
    const phrases = phrasesOf(f.phrase_sigs);
    const s = this.book.observe(f, phrases, this.delta);
    this.indexExchange(s, f, phrases, this.delta);
    this.noteEarlySuspect(s);
    if (s.flaggedAt === null) {
      const m = this.registry.matchHarness(s, f);
      if (m) this.flag(s, f.ts, m.campaign, `reuses the ${m.marks} of campaign ${m.campaign} from its first exchanges`);
    }
  }

  /**
   * Content shares count from an account's `minExchangesContent`-th exchange and are taken over
   * at least `contentShareOver`: in that window an account's score can turn it into a suspect
   * exchange by exchange. Scored only there (a few exchanges per account), and counted once.
   */
  private noteEarlySuspect(s: AccountState): void {
    const p = this.params;
    if (s.n < p.minExchangesContent || s.n > p.contentShareOver) return;
    if (s.flaggedAt !== null || this.earlySuspects.has(s.id) || this.linker.suspects.has(s.id)) return;
    if (this.book.freshScore(s).risk >= p.suspectRisk) this.earlySuspects.add(s.id);
  }

  /**
   * A linking run is due before the next hourly one when enough accounts became suspects since
   * the last run (a pool crossing the content bar together) and the last run is far enough back.
   */
  linkDue(at: number): boolean {
    return this.earlySuspects.size >= this.params.earlyLinkSuspects && at - this.lastRunAt >= this.params.earlyLinkSpacingMs;
  }

  /**
   * Adds the exchange's indicators to the index. Only what the exchange changed is read (from
   * `d`): a value new to the account, a count reaching the habit bar. Looking every value up
   * again and building its key on every exchange was most of observing's cost.
   */
  private indexExchange(s: AccountState, f: ExchangeFeatures, phrases: readonly string[], d: ObserveDelta): void {
    const a = s.id;
    const add = (key: IndicatorKey): void => void this.linker.addKey(a, key);
    // Addresses only while the account holds few of them: a rotating pool's every address would tie everyone.
    if (d.newIp > 0 && d.newIp <= this.params.linkIpsPerAccount) add(indicatorKey('ip', f.ip!));
    if (d.newSubnet > 0 && d.newSubnet <= 16) add(indicatorKey('subnet', f.subnet!));
    if (d.newPayment) add(indicatorKey('payment', f.payment_fp!));
    if (s.n === 1) {
      const b = burstKey(f);
      if (b) add(b);
    }
    // Harness and templates count once they are a habit of the account, not a one-off
    // (counts grow by one, so each passes the bar once).
    if (d.harnessUses === HABIT_MIN_USES) add(indicatorKey('harness', f.harness_sig));
    if (d.systemUses === HABIT_MIN_USES) add(indicatorKey('system', f.system_sig));
    // A template is a habit when it wraps a good share of the account's different prompts.
    const templateUses = Math.max(HABIT_MIN_USES, 0.2 * s.n);
    if (d.prefixUses >= templateUses) this.addTemplate(s, d.prefixKey, f.template_prefix);
    if (d.suffixUses >= templateUses) this.addTemplate(s, d.suffixKey, f.template_suffix);
    // A sentence is a habit when it wraps several different prompts of the account; it ties
    // suspects only (communities.ts), since bank items and follow-ups are everyone's.
    // An item other accounts sent, inside a sentence no one wrote before: a bank wrapped in a
    // paraphrase of its own (shared-wrappers.ts, `paraphrasesItems`).
    let publicItems: string[] | null = null;
    let fresh = false;
    for (let i = 0; i < phrases.length; i++) {
      const uses = d.phraseAfter[i]!;
      const before = d.phraseBefore[i]!;
      if (uses === before) continue;
      const p = phrases[i]!;
      // A first use (`before` is 0) is counted as the users before it are read: one lookup.
      const others = uses === 1 ? this.phrases.firstUse(p) : this.phrases.usersOf(p) - (before > 0 ? 1 : 0);
      if (others === 0 && before === 0) fresh = true;
      else if (others >= PUBLIC_ITEM_USERS) (publicItems ??= []).push(p);
      if (uses === HABIT_MIN_USES) for (const h of this.phrases.habit(p, a)) this.linker.addKey(h, indicatorKey('phrase', p));
    }
    if (fresh && publicItems) {
      s.freshWrapped++;
      for (const p of publicItems) add(indicatorKey('item', p));
    }
    this.intel?.observe(a, f, add);
  }

  /** Indexes a template of the account once, however often it passes the bar after. */
  private addTemplate(s: AccountState, key: number, template: string): void {
    const indexed = (s.indexedTemplates ??= []);
    if (indexed.includes(key)) return;
    indexed.push(key);
    this.linker.addKey(s.id, indicatorKey('template', template));
  }

  private flag(s: AccountState, at: number, campaignId: CampaignId | null, reason: string): void {
    if (s.flaggedAt !== null) return;
    s.flaggedAt = at;
    s.campaignId = campaignId;
    if (campaignId) this.registry.joined(campaignId);
    this.flagReasons.set(s.id, reason);
    this.onFlag?.({ accountId: s.id, at, campaignId, reason });
  }

  /**
   * Bytes the engine's state holds, estimated by structure (state-bytes.ts), by part. The
   * linker's share is counted per indicator key (its text, its entry in the index, its set of
   * holders) and per holding (an entry in the account's set of keys and one in the key's set
   * of holders). Walks every account: for reports and benchmarks, not per exchange.
   */
  stateBytes(): StateBytes {
    const { accounts, scores } = this.book.stateBytes();
    const keys = new Set<IndicatorKey>();
    let holdings = 0;
    let holders = 0;
    for (const s of this.book.values()) {
      const held = this.linker.keysOf(s.id);
      if (held.size === 0) continue;
      holders++;
      holdings += held.size;
      for (const k of held) keys.add(k);
    }
    let linker = 2 * EMPTY_TABLE + holders * (MAP_ENTRY + EMPTY_TABLE) + holdings * 2 * SET_ENTRY + keys.size * (MAP_ENTRY + EMPTY_TABLE);
    for (const k of keys) linker += stringBytes(k.length);
    linker += EMPTY_TABLE + this.linker.suspects.size * SET_ENTRY;
    // Graphs the linker keeps for large components: per key its number, name, weight and lists; per holding and listed member a slot.
    const kept = this.linker.keptGraphSize();
    linker += kept.keys * (MAP_ENTRY + 5 * 8 + 2 * 48) + (kept.holdings + kept.listed) * 8;
    let campaigns = EMPTY_TABLE;
    for (const c of this.registry.campaigns.values()) campaigns += MAP_ENTRY + objectBytes(5) + 2 * EMPTY_TABLE + c.indicators.size * MAP_ENTRY + c.signature.size * SET_ENTRY;
    let flags = EMPTY_TABLE + this.flagReasons.size * MAP_ENTRY;
    for (const r of this.flagReasons.values()) flags += stringBytes(r.length);
    const phrases = this.phrases.stateBytes();
    return {
      accounts,
      scores,
      phrases,
      linker,
      campaigns,
      flags,
      indicatorKeys: keys.size,
      holdings,
      total: accounts + scores + phrases + linker + campaigns + flags,
    };
  }

  /** Runs scoring and linking as of event time `at` (exclusive). */
  tick(at: number): void {
    this.linkRuns++;
    this.lastRunAt = at;
    this.earlySuspects.clear();
    const p = this.params;
    // An account using a mark another provider shared takes part in linking from then on; its
    // risk is unchanged, so it is never acted on alone for the match.
    // An account that wraps its different prompts in sentences of its own is a suspect too, so
    // that a shared stock of such sentences can tie it (shared-wrappers.ts); a tie alone flags nothing.
    // Suspects rescored now: the only ones an account-alone verdict (below) can have changed for.
    const rescoredSuspects: AccountState[] = [];
    this.book.rescore((s, score) => {
      const suspect = score.risk >= p.suspectRisk || this.intel?.has(s.id) === true || wrapsItems(s) || paraphrasesItems(s);
      this.linker.setSuspect(s.id, suspect);
      if (suspect && s.flaggedAt === null) rescoredSuspects.push(s);
    });
    const communities = this.linker.communities();
    const headHour = Math.floor((at - 1) / HOUR);
    for (const com of communities) {
      if (com.accounts.length < p.minCampaignAccounts) continue;
      const members = this.membersOf(com.accounts);
      const score = scoreCampaign(com, members, p, { headHour, modelFirstSeen: this.book.modelFirstSeen, intel: this.intel?.finding(com.accounts) ?? null });
      if (score.confidence < p.campaignConfidence) continue;
      const states = members.map((m) => m.state);
      const id = this.registry.idFor(states);
      this.registry.record(id, at, score, com.indicators, states);
      const byWrappers = score.findings.some((f) => f.code === 'shared_phrasing' || f.code === 'shared_bank');
      for (const m of members) {
        if (m.state.flaggedAt !== null) continue;
        // A member found not involved, in the same community object (a component deferred or
        // untouched keeps it), with no exchange and no key since, is found not involved again.
        const keys = this.linker.keysOf(m.state.id).size;
        const seen = this.notInvolved.get(m.state.id);
        if (seen !== undefined && seen.com.deref() === com && seen.n === m.state.n && seen.keys === keys && seen.byWrappers === byWrappers) continue;
        const admitted = this.involved(m, com, byWrappers);
        if (admitted !== null) {
          this.notInvolved.delete(m.state.id);
          this.flag(m.state, at, id, `member of campaign ${id} (confidence ${score.confidence.toFixed(2)}): ${ADMITTED_BY[admitted.rule]}`);
        } else this.notInvolved.set(m.state.id, { com: new WeakRef(com), n: m.state.n, keys, byWrappers });
      }
    }
    // An account alone can be acted on only with strong evidence of several kinds, content among
    // them. Only suspects rescored on this run are weighed: the verdict reads nothing but the
    // account's state and score, so one that was not rescored gets the answer it got on the run
    // that last rescored it. (Every suspect was weighed on every run: 25,000 lookups of an
    // operation's flagged accounts, each run.)
    for (const s of rescoredSuspects) {
      if (s.flaggedAt !== null) continue;
      const sc = AccountBook.scoreOfState(s);
      if (sc.risk >= p.aloneDistillationRisk && sc.familyCount >= p.aloneDistillationFamilies && harvests(sc) && fraudLifecycle(sc) && sustained(s, p)) {
        this.flag(s, at, null, `account alone: ${sc.familyCount} kinds of evidence, risk ${sc.risk.toFixed(2)}`);
      }
    }
    this.registry.refreshSignatures();
  }

  private membersOf(ids: readonly AccountId[]): Member[] {
    return ids.map((a) => {
      const state = this.book.get(a)!;
      return { state, score: AccountBook.scoreOfState(state) };
    });
  }

  /**
   * Is a member of a flagged group part of the operation, or a bystander that shares an IP
   * with it? It must behave at least a little like the group, or share its harness or payment.
   * Returns which rule admitted it and the ties it counted (`Admission`), or null.
   */
  private involved(m: Member, com: Community, byWrappers: boolean): Admission | null {
    let templates = 0;
    // Kinds, not keys: two harness keys are one client's settings with and without a bank
    // item's tools, and without the user agent an ordinary account on the same settings has both.
    const client = new Set<string>();
    let network = 0;
    let phrases = 0;
    /** Of `phrases`, those at least `GROUP_SENTENCE_SHARE` of whose users are in the group. */
    let groupSentences = 0;
    let ownSentence = false;
    let items = 0;
    // Ties other than sentences (client, template, network, burst): what the last rule weighs.
    let otherTies = 0;
    const ties: Partial<Record<IndicatorKind, number>> = {};
    const admit = (rule: AdmissionRule): Admission => ({ rule, ties });
    for (const key of this.linker.keysOf(m.state.id)) {
      const kind = kindOf(key);
      if ((com.indicators.get(key) ?? 0) < 3) continue;
      if (kind === 'payment' && this.groupPaysWith(key, com)) return admit('payment');
      // A shared sentence counts only when it is one of the member's own wrappers: the sentences
      // of a public bank's items tie a product or an evaluation run that sends those items to
      // the operator that splits the bank, and say nothing about who wrote the prompts.
      if (kind === 'phrase') {
        if (wrapsWith(m.state, key.slice(key.indexOf(':') + 1))) {
          phrases++;
          ties.phrase = phrases;
          const inGroup = com.indicators.get(key) ?? 0;
          const users = this.linker.holders(key).size;
          if (inGroup >= GROUP_SENTENCE_SHARE * users) groupSentences++;
          if (inGroup >= OWN_SENTENCE_SHARE * users) ownSentence = true;
        }
        continue;
      }
      // A bank's item ties a member only as part of its own paraphrasing habit.
      if (kind === 'item') {
        if (paraphrasesItems(m.state)) {
          items++;
          ties.item = items;
        }
        continue;
      }
      otherTies++;
      ties[kind] = (ties[kind] ?? 0) + 1;
      if (kind === 'template') templates++;
      else if (HARNESS_KINDS.has(kind)) client.add(kind);
      else if (kind === 'ip') network++;
    }
    // A group tied only by its stock of sentences (shared-wrappers.ts): a member wraps its own
    // items in them; sharing a bank's sentences or a template with it says nothing (a tutoring
    // product sends the same public items under its own step-by-step wrapper).
    // Two of the group's sentences are a stock of the member's own. One is, only when it is the
    // group's own sentence (most of its users are in the group) or the member also harvests and
    // is suspicious on its own account: one sentence of the adaptive operator's stock that
    // 1,300-1,500 of the medium scenario's 11,800 accounts use (4% of them in the group) took
    // students who end each homework prompt with it into the operator's campaign.
    // Either way the sentences are the group's in some measure (`GROUP_SENTENCE_SHARE`): a
    // student asking two of a public bank's coding questions in several languages wraps each
    // language in the question's sentence, and 2-3% of the users of those two were in the
    // operator's group (`medium` seed 6); every sentence of the operator's own accounts
    // admitted this way there had a fifth or more of its users in the group.
    if (byWrappers) {
      const stock = groupSentences >= 2 || (groupSentences === 1 && ((harvests(m.score) && m.score.risk >= this.params.suspiciousRisk) || ownSentence));
      if (stock && wrapsItemsAsMember(m.state)) return admit('own_wrappers');
      return items >= 1 && paraphrasesItems(m.state) ? admit('own_paraphrases') : null;
    }
    // In the group through nothing but the text of items it sends: its own behaviour, however
    // heavy (a tutoring product asks for every step of every answer), is a customer's, and the
    // group's evidence (its client, card or burst) is not the member's.
    if (otherTies === 0 && phrases === 0) return null;
    // Two marks of one harness, one of them the client itself (its parameters or injected
    // prompt). Shared templates alone can be a public problem bank or a public tutoring
    // template that an evaluation run or a customer also sends; then the account must also
    // behave like the group and live like its accounts (below).
    // A member with no evidence of its own (not a suspect) needs one of them to be a mark the
    // operator made: its injected prompt, or a sentence of the group's that the member wraps its
    // own prompts in. A client's settings and a template are what a popular toolkit gives every
    // user (its defaults, its example prompt): an ordinary user (13 exchanges, risk 0) was taken
    // in on them on `medium` seed 2, where 32 of the 34 operator accounts admitted here while
    // not suspects held one of the operator's marks (the other two were caught later anyway).
    const operatorMark = client.has('system') || groupSentences >= 1;
    if (client.size >= 1 && client.size + templates >= 2 && (operatorMark || m.score.risk >= this.params.suspectRisk)) return admit('harness_marks');
    // From here the ties are ones an honest account can hold (a public template, a cloud
    // subnet, a sentence of its own that products like it also use), and ties to accounts like
    // itself hang it on the group as well as ties to the operation: ten tutoring products on
    // one public template, four of them on subnets the operation's proxies also exit from, were
    // all taken into a 25,000-account operation through their own template and wrapper. So the
    // member must live like a fraudulent account on its own (new at full throughput, farmed,
    // rotating networks or clients), as an account judged alone must: a product's content and
    // automation (every step asked for, single-turn day and night) are a customer's.
    const lives = fraudLifecycle(m.score);
    if (templates >= 2 && harvests(m.score) && lives) return admit('templates_and_harvest');
    // The group's client sent from the group's egress, by an account that is itself automated
    // or fresh at full throughput: a relay passes diverse real prompts, so its content says
    // nothing and its harness, infrastructure and lifecycle must (a bystander on a shared
    // cloud IP with a common client lacks the behaviour).
    // Its own evidence is two strong kinds of behaviour (a bystander on a shared cloud IP with a
    // common client has at most one); not a risk total, which a few weak findings can reach.
    // Rotating over the group's addresses is not one of them: that is the tie itself, and a
    // proxy reseller's honest customers rotate over the same pool.
    const own = behaviourBeyondNetwork(m.score);
    if (client.size >= 1 && network >= 1 && own >= 2 && lives) return admit('client_egress_and_lifecycle');
    // Joined through the network or such ties: it must behave like the group on its own account.
    // Ties a bystander can hold by chance (an address, a subnet, a creation hour, one public
    // template) count only when there are two addresses: an evaluation run on a fresh account
    // from one cloud address the operation's proxies also use, ending every prompt with the
    // public step-by-step suffix the operation also sends, behaves like the group (every step
    // asked for, single-turn, at full throughput); three such runs were taken into hydra-28m's
    // operation. Two templates are the `templates_and_harvest` rule's. The operation's rotating
    // accounts meet it on several addresses from their first hours; one that pins each account
    // to an address is taken in once the account has harvested over days, as an account judged
    // alone must (later, not missed).
    const coincidental = network + (ties.subnet ?? 0) + (ties.burst ?? 0) + Math.min(templates, 1);
    // So is one sentence it wraps its own prompts in: that suffix is a sentence as well as a
    // template, and those runs wrapped every benchmark item in it. Two are a stock of its own.
    const joined = phrases >= 2 || items > 0 || otherTies > coincidental || network >= 2 || sustained(m.state, this.params);
    return joined && m.score.risk >= this.params.suspiciousRisk && own >= 2 && harvests(m.score) && lives ? admit('own_behaviour') : null;
  }

  /**
   * Whether the group pays with `key`: at least two of the community's holders of it are
   * suspects, and they are at least half of them. A company's card is held by its employees,
   * and a community that took in the company's egress with them holds it too; it is the
   * company's payment method, not the operation's, and it took all sixty employees of a
   * company into the campaign of an operation whose accounts shared their NAT (the medium
   * scenario, seed 2: 120 honest accounts of two companies, none of them a suspect).
   */
  private groupPaysWith(key: IndicatorKey, com: Community): boolean {
    let members = this.communityMembers.get(com);
    if (members === undefined) {
      members = new Set(com.accounts);
      this.communityMembers.set(com, members);
    }
    let holders = 0;
    let suspects = 0;
    for (const h of this.linker.holders(key)) {
      if (!members.has(h)) continue;
      holders++;
      if (this.linker.suspects.has(h)) suspects++;
    }
    return suspects >= 2 && suspects * 2 >= holders;
  }

  /** Finishes the stream: one last linking run after the last exchange. */
  finish(): void {
    if (this.lastTs > -Infinity) this.tick(this.lastTs + 1);
  }

  /** The current verdict on one account (the gateway asks this on every request). */
  verdictOf(id: string): AccountVerdict | null {
    const s = this.book.get(accountId(id));
    if (!s) return null;
    return this.verdictFor(s, this.book.freshScore(s));
  }

  /** What an account is judged, from its state and score alone. */
  private classify(s: AccountState, sc: AccountScore): Verdict {
    if (s.flaggedAt !== null) return 'distillation';
    if (sc.risk >= this.params.suspiciousRisk && sc.familyCount >= 2 && harvests(sc) && fraudLifecycle(sc) && sustained(s, this.params)) return 'suspicious';
    // A relay's account passes real prompts, so it never harvests; fresh at full throughput and
    // carrying other people's conversations, it is a suspect until its group is flagged.
    if (sc.familyCount >= 2 && relays(sc) && fraudLifecycle(sc)) return 'suspicious';
    return 'benign';
  }

  private verdictFor(s: AccountState, sc: AccountScore, verdict: Verdict = this.classify(s, sc)): AccountVerdict {
    const reasons: string[] = [];
    const flagReason = this.flagReasons.get(s.id);
    // The flag's reason is as it stood then; the campaign's findings below are as they stand now.
    if (flagReason) reasons.push(`when flagged (${s.flaggedAt === null ? '?' : new Date(s.flaggedAt).toISOString().slice(0, 16) + 'Z'}): ${flagReason}`);
    if (s.campaignId) {
      const c = this.registry.campaigns.get(s.campaignId);
      if (c) for (const f of topFindings(c.score.findings, 3)) reasons.push(`campaign ${c.id} now: ${describeFinding(f)}`);
    }
    // In words from the state: the stored score holds strengths only, and is the state's own
    // once the state has been scored since its last exchange (every account after `finish`).
    for (const f of topFindings(accountFindings(s, this.params), 5)) reasons.push(describeFinding(f));
    const campaign = s.campaignId ? this.registry.campaigns.get(s.campaignId) : undefined;
    const risk = s.flaggedAt !== null ? Math.max(sc.risk, campaign?.score.confidence ?? 0) : sc.risk;
    return { accountId: s.id, risk, verdict, campaignId: s.campaignId, flaggedAt: s.flaggedAt, reasons, exchanges: s.n };
  }

  /**
   * Every account that is not benign, riskiest first. Judged first, put in words after: the
   * gateway asks this on every linking run, and most accounts are benign.
   */
  verdicts(): AccountVerdict[] {
    const out: AccountVerdict[] = [];
    for (const s of this.book.values()) {
      const sc = AccountBook.scoreOfState(s);
      const verdict = this.classify(s, sc);
      if (verdict !== 'benign') out.push(this.verdictFor(s, sc, verdict));
    }
    return out.sort((a, b) => b.risk - a.risk || a.accountId.localeCompare(b.accountId));
  }

  /** Flagged campaigns, rescored on their current members, largest first. */
  campaignList(): CampaignView[] {
    const out: CampaignView[] = [];
    const headHour = Math.floor(this.lastTs / HOUR);
    const byCampaign = new Map<CampaignId, AccountId[]>();
    for (const s of this.book.values()) {
      if (!s.campaignId) continue;
      const list = byCampaign.get(s.campaignId);
      if (list) list.push(s.id);
      else byCampaign.set(s.campaignId, [s.id]);
    }
    for (const c of this.registry.campaigns.values()) {
      const ids = (byCampaign.get(c.id) ?? []).sort();
      if (ids.length === 0) continue;
      const indicators = new Map<IndicatorKey, number>();
      for (const a of ids) for (const k of this.linker.keysOf(a)) indicators.set(k, (indicators.get(k) ?? 0) + 1);
      for (const [k, n] of indicators) if (n < 2) indicators.delete(k);
      const members = this.membersOf(ids);
      const score = scoreCampaign({ accounts: ids, indicators }, members, this.params, { headHour, modelFirstSeen: this.book.modelFirstSeen, intel: this.intel?.finding(ids) ?? null });
      const replacementAccounts = this.replacementPool(members, c.firstFlaggedAt);
      if (replacementAccounts > 0 && !score.tactics.includes('ban_evasion')) score.tactics.push('ban_evasion');
      out.push({
        ...c,
        score,
        indicators,
        asns: sharedValues(members, (s) => s.asns.items),
        userAgents: sharedValues(members, (s) => s.userAgents.items),
        replacementAccounts,
        intelBundles: (this.intel?.bundles(ids) ?? []).map(({ bundleId, producer, accounts }) => ({ bundleId, producer, accounts })),
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
    const late = members.filter((m) => this.registry.harnessTied.has(m.state.id) && m.state.firstTs >= flaggedAt);
    if (late.length < this.params.minCampaignAccounts) return 0;
    // A loop, not Math.min(...): a pool can hold more accounts than a call takes arguments.
    let takeover = Infinity;
    for (const m of late) takeover = Math.min(takeover, m.state.firstTs);
    const early = members.filter((m) => m.state.firstTs < flaggedAt);
    const quiet = early.filter((m) => m.state.lastTs < takeover).length;
    return early.length > 0 && quiet >= early.length / 2 ? late.length : 0;
  }

  membersOfCampaign(id: CampaignId): AccountId[] {
    return [...this.book.values()].filter((s) => s.campaignId === id).map((s) => s.id).sort();
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

/** Kinds of strong evidence of an account's own, leaving out the networks it shares. */
function behaviourBeyondNetwork(sc: AccountScore): number {
  return sc.familyCount - (sc.hasFamily('infrastructure') ? 1 : 0);
}

/**
 * Share of a sentence's users in a group above which the sentence is the group's own: an
 * operator's accounts draw theirs from its stock (on the benchmark's scenarios most of the users
 * of most of its stock sentences are its accounts), a common one is everyone's.
 */
const OWN_SENTENCE_SHARE = 0.5;

/**
 * Share of a sentence's users in a group below which the sentence is not the group's at all,
 * however many of the group's accounts use it: a common phrasing or a public item's question.
 */
const GROUP_SENTENCE_SHARE = 0.1;

const HARVESTING = findingBits('elicitation_share', 'grading_share');
const RELAYING = findingBits('relayed_conversations');
/** New at full throughput, farmed, or rotating networks or clients (throughput alone is a busy customer's). */
const FRAUD_LIFECYCLE = findingBits('no_ramp_up', 'farmed_entry_point', 'ip_rotation', 'client_rotation');

/** Asks for what a distiller wants (the reasoning, or grades), not just a lot of anything. */
function harvests(sc: AccountScore): boolean {
  return sc.anyStrong(HARVESTING);
}

/** Carries many people's conversations (see account-score.ts). */
function relays(sc: AccountScore): boolean {
  return sc.anyStrong(RELAYING);
}

/**
 * Lives like a fraudulent account: new and at full throughput, farmed, or rotating networks.
 * An established customer's single account is not acted on for its content alone (evaluation runs, SaaS).
 */
function fraudLifecycle(sc: AccountScore): boolean {
  return sc.anyStrong(FRAUD_LIFECYCLE);
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

/** Which rule of `involved` took a member of a flagged group in. */
export type AdmissionRule = 'payment' | 'own_wrappers' | 'own_paraphrases' | 'harness_marks' | 'templates_and_harvest' | 'client_egress_and_lifecycle' | 'own_behaviour';

/** Each rule in the words of a flag's reason: the member's own evidence that took it in. */
const ADMITTED_BY: Record<AdmissionRule, string> = {
  payment: "pays with the group's payment method",
  own_wrappers: "wraps its own prompts in the group's sentences",
  own_paraphrases: "paraphrases the group's bank items itself",
  harness_marks: "runs the group's client, with a second mark of it (settings, injected prompt or template)",
  templates_and_harvest: "sends the group's templates, harvests, and has a fraud lifecycle of its own",
  client_egress_and_lifecycle: "runs the group's client from its egress, automated, with a fraud lifecycle of its own",
  own_behaviour: 'behaves like the group on its own account (harvesting, fraud lifecycle)',
};

/** Why a member of a flagged group was taken in: the rule, and its ties to the group counted, by kind. */
export interface Admission {
  rule: AdmissionRule;
  ties: Partial<Record<IndicatorKind, number>>;
}
