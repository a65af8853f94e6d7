/**
 * Scores a linked group of accounts as a whole. A campaign needs both coordination (the
 * accounts are run together) and behaviour (what they do is harvesting): an enterprise or a
 * class is coordinated but behaves like people; one busy customer behaves like a script but
 * is not many accounts. Each family of evidence is summed over the group, so a hydra of
 * individually quiet accounts adds up.
 */
import { CAPABILITIES, type Capability } from '../core/features.js';
import type { Tactic } from '../core/report.js';
import { RECENT_HOURS, type AccountState } from './account-state.js';
import { findingBits, PACE_MIN_HOURS, type AccountScore } from './account-score.js';
import { combine, families, pct, ramp, type CampaignFindingCode, type EvidenceFamily, type Finding } from './findings.js';
import type { DetectorParams } from './params.js';
import type { Community } from '../link/communities.js';
import { kindOf, type IndicatorKind } from '../link/indicators.js';
import { sharedWrapperEvidence } from './shared-wrappers.js';

export interface Member {
  state: AccountState;
  score: AccountScore;
}

export interface CampaignScore {
  confidence: number;
  findings: Finding[];
  families: Set<EvidenceFamily>;
  tactics: Tactic[];
  capabilities: Partial<Record<Capability, number>>;
  exchanges: number;
  firstSeen: number;
  lastSeen: number;
  /** Link kinds inside the group, with how many account–indicator ties each gave. */
  links: Partial<Record<IndicatorKind, number>>;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Hours of a group's history before the correlation of its members' activity is measured. */
const MIN_CORRELATION_HOURS = 24;

/** The habits a group counts of a member's own findings, each at strength 0.5 or more. */
const TEMPLATED = findingBits('templated_bank');
/** Around the clock, on a fixed cadence or carrying other people's conversations. */
const AUTOMATED = findingBits('around_the_clock', 'regular_timing', 'relayed_conversations');
const NO_RAMP = findingBits('no_ramp_up');
const ROTATING = findingBits('ip_rotation');
/** At any strength. */
const FARMED = findingBits('farmed_entry_point');

/**
 * Mean Pearson correlation of hourly activity over the pairs of sampled members.
 *
 * The correlation of two series is the dot product of their centred series scaled to unit
 * length, u_i · u_j; summed over all pairs it is (|Σ u_i|² − Σ |u_i|²) / 2, and |u_i|² = 1.
 * One pass over the members instead of one over every pair: 40 members' 780 pairs cost 40
 * sums here, on every linking run and for every group.
 */
export function activityCorrelation(members: readonly Member[], headHour: number, maxMembers = 40): number {
  // Only the hours since the group began: before that every series is zero, and two
  // accounts seen for one hour correlate perfectly. Less than a day of history says nothing.
  let first = Infinity;
  for (const m of members) first = Math.min(first, m.state.firstTs);
  const span = Math.min(RECENT_HOURS, headHour - Math.floor(first / HOUR) + 1);
  if (!(span >= MIN_CORRELATION_HOURS)) return 0;
  const sum = new Float64Array(span);
  let n = 0;
  for (let m = 0; m < members.length && m < maxMembers; m++) {
    const s = members[m]!.state.recentSeries(headHour).subarray(RECENT_HOURS - span);
    let mean = 0;
    for (let i = 0; i < span; i++) mean += s[i]!;
    mean /= span;
    let ss = 0;
    for (let i = 0; i < span; i++) ss += (s[i]! - mean) * (s[i]! - mean);
    // A flat series (the same count every hour) has no correlation with anything: left out.
    if (!(ss > 0)) continue;
    const norm = Math.sqrt(ss);
    for (let i = 0; i < span; i++) sum[i]! += (s[i]! - mean) / norm;
    n++;
  }
  if (n < 2) return 0;
  let squared = 0;
  for (let i = 0; i < span; i++) squared += sum[i]! * sum[i]!;
  return (squared - n) / (n * (n - 1));
}

export function scoreCampaign(
  community: Community,
  members: readonly Member[],
  p: DetectorParams,
  ctx: { headHour: number; modelFirstSeen: ReadonlyMap<string, number>; intel?: Finding | null },
): CampaignScore {
  const findings: Finding[] = [];
  const push = (code: CampaignFindingCode, family: EvidenceFamily, s: number, weight: number, detail: string): void => {
    if (s > 0) findings.push({ code, family, strength: Math.min(1, s), weight, detail });
  };
  const k = members.length;
  let exchanges = 0;
  let elicitSum = 0;
  let graded = 0;
  let firstSeen = Infinity;
  let lastSeen = -Infinity;
  const caps = new Float64Array(CAPABILITIES.length);
  let templated = 0;
  let automated = 0;
  let noRamp = 0;
  let newAccounts = 0;
  let rotating = 0;
  /** Some member came in through a farmed entry point (at any strength). */
  let farmed = false;
  let involved = 0;
  let singleTurn = 0;
  // Members that do it themselves: a group's share must not come from one heavy member
  // among bystanders that share its SDK settings.
  let eliciting = 0;
  let scripted = 0;
  // A member that joined less than PACE_MIN_HOURS before the group's latest exchange, and shows
  // no two kinds of evidence yet, is not yet judged on the habits that take hours of its own
  // traffic to show (a first day's pace, carrying others' conversations, a cadence): counted
  // as lacking them, a pool that brings in accounts one by one (a relay growing with its
  // customers) dilutes its own shares with every new account. Once two are judged, those
  // shares are over the judged members; before, over all (it can then only be slower).
  let groupLast = -Infinity;
  for (const m of members) if (m.state.lastTs > groupLast) groupLast = m.state.lastTs;
  const isJudged = new Uint8Array(k);
  let judgedCount = 0;
  /** Members with two kinds of evidence of their own (the relay's bar, below). */
  let ownEvidence = 0;
  for (let i = 0; i < k; i++) {
    const m = members[i]!;
    const own = m.score.familyCount >= 2;
    if (own) ownEvidence++;
    if (own || groupLast - m.state.firstTs >= PACE_MIN_HOURS * HOUR) {
      isJudged[i] = 1;
      judgedCount++;
    }
  }
  const byJudged = judgedCount >= 2;
  const habitBase = byJudged ? judgedCount : k;
  // Once per member per linking run, over every member of the group (25,000 in hydra-28m's
  // operation): bit tests on its score, no lookups, nothing allocated.
  for (let i = 0; i < k; i++) {
    const m = members[i]!;
    const s = m.state;
    const habitsCount = !byJudged || isJudged[i] === 1;
    exchanges += s.n;
    singleTurn += s.singleTurn;
    elicitSum += s.elicitationSum;
    if (s.n > 0 && s.elicitationSum / s.n >= 0.15) eliciting++;
    if (s.n > 0 && s.singleTurn / s.n >= 0.85) scripted++;
    graded += s.graded;
    if (s.firstTs < firstSeen) firstSeen = s.firstTs;
    if (s.lastTs > lastSeen) lastSeen = s.lastTs;
    const own = s.capabilities;
    for (let i = 0; i < own.length; i++) caps[i]! += own[i]!;
    const sc = m.score;
    if (sc.anyStrong(TEMPLATED)) templated++;
    if (habitsCount && sc.anyStrong(AUTOMATED)) automated++;
    if (habitsCount && sc.anyStrong(NO_RAMP)) noRamp++;
    const age = s.ageAtFirstDays;
    if (age !== null && age <= p.newAccountDays) newAccounts++;
    if (sc.anyStrong(ROTATING)) rotating++;
    if (habitsCount && sc.risk >= p.suspectRisk) involved++;
    if (sc.anyFired(FARMED)) farmed = true;
  }

  // Behaviour, summed over the group's exchanges so that quiet accounts add up.
  const elicit = elicitSum / Math.max(1, exchanges);
  push('campaign_elicitation', 'content', ramp(elicit, 0.1, 0.4) * ramp(eliciting / k, 0.3, 0.6), 0.55, `${pct(elicit)} of the group's ${exchanges} prompts ask for the reasoning itself (${eliciting} of ${k} accounts)`);
  const gradedShare = graded / Math.max(1, exchanges);
  push('campaign_grading', 'content', ramp(gradedShare, 0.03, 0.15), 0.45, `${pct(gradedShare)} of the group's prompts ask the model to grade or rank answers`);
  push('campaign_templates', 'content', ramp(templated / k, 0.2, 0.6), 0.3, `${templated} of ${k} accounts fill one wrapper from a problem bank`);
  push('campaign_automation', 'automation', ramp(automated / habitBase, 0.2, 0.6), 0.4, `${automated} of ${habitBase} accounts run around the clock, on a fixed cadence or carry other people's conversations`);
  // Scripted at the group's scale: people, even in a class or an office, ask follow-ups; a
  // harness sends one question per request. Counted once the group has said enough, so that
  // a few quiet hours of each member's traffic add up before any account has on its own:
  // five exchanges a member already tell a class's conversations (about half single-turn)
  // from a job queue's (all single-turn), and a load-balanced pool is found in its first hours.
  if (exchanges >= 5 * k) {
    const single = singleTurn / exchanges;
    push('campaign_single_turn', 'automation', ramp(single, 0.85, 0.97) * ramp(scripted / k, 0.5, 0.8), 0.25, `${pct(single)} of the group's ${exchanges} exchanges are single-turn with no tool results (${scripted} of ${k} accounts)`);
  }
  push('campaign_no_ramp_up', 'lifecycle', ramp(noRamp / habitBase, 0.2, 0.6), 0.35, `${noRamp} of ${habitBase} accounts ran at full throughput from their first day`);
  push('campaign_new_accounts', 'lifecycle', ramp(newAccounts / k, 0.5, 0.9) * ramp(involved / habitBase, 0.3, 0.7), 0.2, `${newAccounts} of ${k} accounts were new at their first request`);
  push('campaign_ip_rotation', 'infrastructure', ramp(rotating / k, 0.2, 0.6), 0.35, `${rotating} of ${k} accounts rotate IPs across networks`);

  // Coordination: what ties the accounts together.
  const links: Partial<Record<IndicatorKind, number>> = {};
  let harnessTies = 0;
  let templateTies = 0;
  let sharedPaymentAccounts = 0;
  for (const [key, holders] of community.indicators) {
    const kind: IndicatorKind = kindOf(key);
    links[kind] = (links[kind] ?? 0) + holders;
    // A client mark: the same software with the same settings or injected prompt. A shared
    // template is not one: public templates are copied by operators and honest users alike.
    if ((kind === 'harness' || kind === 'system') && holders > harnessTies) harnessTies = holders;
    if (kind === 'template' && holders > templateTies) templateTies = holders;
    if (kind === 'payment' && holders >= 2) sharedPaymentAccounts = Math.max(sharedPaymentAccounts, holders);
  }
  push('shared_harness', 'coordination', ramp(harnessTies / k, 0.3, 0.8), 0.35, `${harnessTies} of ${k} accounts send requests from one harness (client, parameters or injected prompt)`);
  // Shared wrappers over disjoint items (shared-wrappers.ts), only for a group nothing else
  // ties: a company's batch jobs repeat their own sentences too.
  const tiedOtherwise = ramp(harnessTies / k, 0.3, 0.8) >= 0.5 || sharedPaymentAccounts >= 3 || (links['payment'] ?? 0) + (links['ip'] ?? 0) + (links['burst'] ?? 0) + (links['system'] ?? 0) >= k / 2;
  const wrappers = sharedWrapperEvidence(community.indicators, members, tiedOtherwise, p.suspectRisk);
  findings.push(...wrappers.findings);
  const payerOrgs = sharedPaymentAccounts >= 3 ? organisations(members) : 0;
  if (sharedPaymentAccounts >= 3 && payerOrgs !== 1) {
    push('shared_payment', 'coordination', ramp(sharedPaymentAccounts / k, 0.1, 0.5), 0.35, `${sharedPaymentAccounts} accounts in ${payerOrgs || 'no'} organisations pay with one payment method`);
  }
  const corr = activityCorrelation(members, ctx.headHour);
  push('synchronized_activity', 'coordination', ramp(corr, 0.3, 0.7), 0.3, `hourly activity of member accounts correlates at ${corr.toFixed(2)}`);

  // Members using marks another provider shared from a campaign it flagged: that provider saw
  // the operator harvest, which stands in for one kind of behaviour here, never for two (the
  // group must still show harvesting of its own) and never for coordination.
  if (ctx.intel) findings.push(ctx.intel);
  const fam = families(findings, 0.5);
  const behaviour = ['content', 'automation', 'lifecycle', 'infrastructure', 'intel'].filter((f) => fam.has(f as EvidenceFamily)).length;
  // Under common control: shared payment, addresses, creation burst or injected prompt; or
  // one client run by accounts that are active together. One client alone is not enough:
  // independent customers use the same SDK with the same settings, and evaluation runs of
  // one public harness come one after another. Activity that rises and falls together
  // confirms a shared client but proves nothing alone: products whose users live in the
  // same time zones share a daily rhythm. A shared template counts only for accounts that
  // also live like fraudulent ones (new at full throughput, rotating networks): a hydra whose
  // every account has its own client still fills the operator's one wrapper.
  const controlTies = (links['payment'] ?? 0) + (links['ip'] ?? 0) + (links['burst'] ?? 0) + (links['system'] ?? 0);
  const sharedClient = ramp(harnessTies / k, 0.3, 0.8) >= 0.5;
  const sharedTemplate = ramp(templateTies / k, 0.3, 0.8) >= 0.5 && (fam.has('lifecycle') || fam.has('infrastructure'));
  // Evaluated only when needed: the concurrency sweep sorts every member, every linking run.
  const together = (): boolean => ramp(corr, 0.3, 0.7) >= 0.5 || maxConcurrent(members) / k >= 0.5;
  const coordinated = controlTies >= k / 2 || sharedPaymentAccounts >= 3 || ((sharedClient || sharedTemplate) && together()) || wrappers.coordinated;
  // Coordination without harvesting behaviour is an organisation; behaviour without
  // coordination is one customer. A campaign needs both, and two kinds of behaviour.
  let confidence = combine(findings);
  // Shared wrappers over disjoint items are two kinds of evidence themselves (each member's own
  // wrapping, the group's split bank): an adaptive operator shows no second kind of behaviour.
  if (k < p.minCampaignAccounts || !coordinated || (behaviour < 2 && !wrappers.coordinated)) confidence = Math.min(confidence, 0.5);
  // Every member in one organisation, the same one: one customer running its own accounts.
  // (`every` stops at the first member without exactly one: an operation's accounts have none.)
  const oneOrganisation = members.every((m) => m.state.orgs.size === 1) && organisations(members) === 1;
  // One customer's accounts are a campaign only if they ask for what a distiller harvests: the
  // reasoning itself or grades. Filling one wrapper with a different text each time, day and
  // night, on one card and one client is what a company's batch jobs do (classifying tickets,
  // extracting fields, summarising); a company's six accounts reached the bar on that alone.
  if (oneOrganisation && !harvestAsked(findings)) confidence = Math.min(confidence, 0.5);
  // Without harvesting content (a relay passes its customers' real prompts) the bar is higher,
  // so that a company's batch jobs on one harness and one card are not a campaign: ties of
  // control (addresses, payment, creation burst, injected prompt), not only a common client;
  // automated and living like fraudulent accounts (new at full throughput, rotating networks);
  // most members with two kinds of evidence of their own; and not one organisation running its
  // own accounts on its own card (a new company's pipeline is new, automated and tied too).
  if (!fam.has('content')) {
    // Over the judged members (above): an account minutes old cannot show two kinds yet.
    const relayBar = !oneOrganisation && controlTies >= k / 2 && fam.has('automation') && (fam.has('lifecycle') || fam.has('infrastructure')) && ownEvidence / habitBase >= 0.5;
    if (!relayBar) confidence = Math.min(confidence, 0.5);
  }

  const tactics = new Set<Tactic>();
  if (elicit >= 0.15) tactics.add('cot_elicitation');
  if (gradedShare >= 0.03) tactics.add('reward_grading');
  if (templated / k >= 0.3) tactics.add('capability_sweep');
  if (rotating / k >= 0.3 && k >= 10) tactics.add('hydra_proxy');
  if (corr >= 0.5 || sharedPaymentAccounts >= 3) tactics.add('synchronized_accounts');
  if (automated / k >= 0.3) tactics.add('around_the_clock');
  if (noRamp / k >= 0.3) tactics.add('no_ramp_up');
  if (rotating / k >= 0.3) tactics.add('ip_rotation');
  if (farmed && newAccounts / k >= 0.5) tactics.add('entry_point_farming');
  if (elicit < 0.05 && gradedShare < 0.02 && templated === 0 && (automated > 0 || noRamp > 0)) tactics.add('relay');
  if (detectPivot(members, ctx.modelFirstSeen, exchanges, firstSeen)) tactics.add('model_pivot');

  const capabilities: Partial<Record<Capability, number>> = {};
  CAPABILITIES.forEach((c, i) => {
    const v = caps[i]! / Math.max(1, exchanges);
    if (v >= 0.005) capabilities[c] = Math.round(v * 1000) / 1000;
  });
  return { confidence, findings, families: fam, tactics: [...tactics], capabilities, exchanges, firstSeen, lastSeen, links };
}

/** The group asks, at strength, for the reasoning itself or for grades. */
function harvestAsked(findings: readonly Finding[]): boolean {
  return findings.some((f) => (f.code === 'campaign_elicitation' || f.code === 'campaign_grading') && f.strength >= 0.5);
}

/**
 * Organisations the members belong to. Asked only where a rule needs it (a shared card, a
 * relay's bar): a set of every member's organisations, built on every linking run, was a fifth
 * of scoring an operation's group.
 */
function organisations(members: readonly Member[]): number {
  const orgs = new Set<string>();
  for (const m of members) for (const x of m.state.orgs.items) orgs.add(x);
  return orgs.size;
}

/** The most members whose activity (first to last exchange) spans one instant. */
export function maxConcurrent(members: readonly Member[]): number {
  const events: [number, number][] = [];
  for (const m of members) events.push([m.state.firstTs, 1], [m.state.lastTs, -1]);
  // Starts before ends at the same instant: two accounts that touch overlap.
  events.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  let now = 0;
  let most = 0;
  for (const [, d] of events) {
    now += d;
    if (now > most) most = now;
  }
  return most;
}

/** Moved a large share of its traffic to a model within 24 h of that model's first appearance. */
function detectPivot(members: readonly Member[], modelFirstSeen: ReadonlyMap<string, number>, exchanges: number, groupFirst: number): boolean {
  // Only a model first seen after the group began can be pivoted to: most runs there is none,
  // and then no member's models are read (a walk of every member's models, every run).
  for (const [model, release] of modelFirstSeen) {
    if (release <= groupFirst) continue;
    let first = Infinity;
    let n = 0;
    for (const m of members) {
      const u = m.state.models.get(model);
      if (u === undefined) continue;
      if (u.first < first) first = u.first;
      n += u.n;
    }
    if (n > 0 && first - release <= DAY && n / exchanges >= 0.2) return true;
  }
  return false;
}
