/**
 * Account-level findings: each a pure function of one account's behaviour so far. What a
 * real operator cannot cheaply avoid is favoured (harness habits, lifecycle, timing,
 * infrastructure); content signals count as shares over many exchanges, never per prompt.
 *
 * The rules are walked two ways: for a score (strengths only, written into the account's
 * score in place) and for findings a person reads (with the measured values in words).
 */
import type { AccountState } from './account-state.js';
import type { DetectorParams } from './params.js';
import { ACCOUNT_FINDING_CODES, pct, ramp, type AccountFindingCode, type EvidenceFamily, type Finding } from './findings.js';

const FARMED_TIERS = new Set(['edu', 'research', 'startup', 'education', 'academic', 'free_trial', 'trial']);
const ENTERPRISE_TIERS = new Set(['enterprise', 'scale', 'business']);

/** Each account finding's family and weight: fixed by its rule, so a score holds only strengths. */
const RULES: Record<AccountFindingCode, { family: EvidenceFamily; weight: number }> = {
  elicitation_share: { family: 'content', weight: 0.55 },
  grading_share: { family: 'content', weight: 0.45 },
  templated_bank: { family: 'content', weight: 0.3 },
  scripted_single_turn: { family: 'automation', weight: 0.15 },
  around_the_clock: { family: 'automation', weight: 0.35 },
  regular_timing: { family: 'automation', weight: 0.25 },
  relayed_conversations: { family: 'automation', weight: 0.35 },
  no_ramp_up: { family: 'lifecycle', weight: 0.3 },
  farmed_entry_point: { family: 'lifecycle', weight: 0.15 },
  throughput_vs_tier: { family: 'lifecycle', weight: 0.2 },
  ip_rotation: { family: 'infrastructure', weight: 0.35 },
  client_rotation: { family: 'infrastructure', weight: 0.2 },
};

const CODE_COUNT = ACCOUNT_FINDING_CODES.length;
const INDEX = Object.fromEntries(ACCOUNT_FINDING_CODES.map((c, i) => [c, i])) as Record<AccountFindingCode, number>;
const WEIGHTS = Float64Array.from(ACCOUNT_FINDING_CODES, (c) => RULES[c].weight);
/** The four families an account's own findings fall in, one bit each. */
const FAMILY_BIT: Partial<Record<EvidenceFamily, number>> = { content: 1, automation: 2, lifecycle: 4, infrastructure: 8 };
const CODE_BITS = Uint8Array.from(ACCOUNT_FINDING_CODES, (c) => FAMILY_BIT[RULES[c].family]!);

/** Strength at which a finding counts for its family (`families`). */
const FAMILY_STRENGTH = 0.5;

/**
 * An account's latest score: how strongly each of its findings fired, its risk (the findings
 * combined) and the families of evidence among them. Numbers only, and rewritten in place at
 * each rescoring: a score of finding objects and sentences lived until the account's next
 * rescoring, long enough to be promoted, and at hydra-28m's size that garbage kept V8's
 * collector marking a heap of gigabytes. The findings in words are `accountFindings`.
 */
export class AccountScore {
  risk = 0;
  /** By finding, in `ACCOUNT_FINDING_CODES` order: 0 when it did not fire, else in (0, 1]. */
  readonly strengths = new Float64Array(CODE_COUNT);
  /** Families with a finding of strength 0.5 or more (`FAMILY_BIT`). */
  private familyBits = 0;
  /** Findings that fired, and those at strength 0.5 or more, one bit each (`findingBits`). */
  private firedBits = 0;
  private strongBits = 0;

  strength(code: AccountFindingCode): number {
    return this.strengths[INDEX[code]]!;
  }

  /**
   * Whether any of the findings in `bits` (made once by `findingBits`) is at strength 0.5 or
   * more: a group asks it of every member for each habit it counts, every linking run.
   */
  anyStrong(bits: number): boolean {
    return (this.strongBits & bits) !== 0;
  }

  /** Whether any of the findings in `bits` fired at all. */
  anyFired(bits: number): boolean {
    return (this.firedBits & bits) !== 0;
  }

  /** Kinds of strong evidence (a finding of strength 0.5 or more in each). */
  get familyCount(): number {
    const b = this.familyBits;
    return (b & 1) + ((b >> 1) & 1) + ((b >> 2) & 1) + ((b >> 3) & 1);
  }

  hasFamily(family: EvidenceFamily): boolean {
    return (this.familyBits & (FAMILY_BIT[family] ?? 0)) !== 0;
  }

  /** Sets the score from the strengths just written: risk as `combine` gives it, over the findings in order. */
  settle(): void {
    let keep = 1;
    let families = 0;
    let fired = 0;
    let strong = 0;
    for (let i = 0; i < CODE_COUNT; i++) {
      const st = this.strengths[i]!;
      keep *= 1 - WEIGHTS[i]! * st;
      if (st > 0) fired |= 1 << i;
      if (st >= FAMILY_STRENGTH) {
        families |= CODE_BITS[i]!;
        strong |= 1 << i;
      }
    }
    this.risk = 1 - keep;
    this.familyBits = families;
    this.firedBits = fired;
    this.strongBits = strong;
  }
}

/** The findings' bits, for `AccountScore.anyStrong` and `anyFired`: made once, where a group's habits are defined. */
export function findingBits(...codes: AccountFindingCode[]): number {
  let bits = 0;
  for (const c of codes) bits |= 1 << INDEX[c];
  return bits;
}

/** Where a walk of the rules puts what fired; `detail` is false when words are not wanted. */
type Found = (code: AccountFindingCode, strength: number, detail: string | false) => void;

/**
 * Every rule over one account, in `ACCOUNT_FINDING_CODES` order. With `say` false no sentence
 * is made (`say && \`...\`` stops before the text): scoring runs at every linking run for
 * every account that changed, and only reports read the words.
 */
function walkRules(s: AccountState, p: DetectorParams, say: boolean, found: Found): void {
  const n = s.n;

  if (n >= p.minExchangesContent) {
    // Shares over a few exchanges are noisy: below contentShareOver the missing exchanges
    // count as asking for nothing, so an early suspect needs as many eliciting prompts as one
    // judged over that many (params.ts).
    const over = Math.max(n, p.contentShareOver);
    const elicit = s.elicitationSum / over;
    found('elicitation_share', ramp(elicit, 0.15, 0.5), say && `${pct(s.elicitationSum / n)} of ${n} prompts ask for the reasoning itself (step-by-step, reasoning tags, full derivation)`);
    const graded = s.graded / over;
    found('grading_share', ramp(graded, 0.04, 0.2), say && `${pct(s.graded / n)} of ${n} prompts ask the model to grade or rank answers`);
    const tpl = Math.max(s.topShare(s.prefixes), s.topShare(s.suffixes));
    const distinct = s.prompts.size / n;
    if (n >= 15) {
      found('templated_bank', ramp(tpl, 0.3, 0.7) * ramp(distinct, 0.7, 0.95), say && `${pct(tpl)} of prompts share one wrapper while ${pct(distinct)} of the items differ (a template filled from a problem bank)`);
    }
  }

  if (n >= 20 && s.withToolResults === 0) {
    const single = s.singleTurn / n;
    found('scripted_single_turn', ramp(single, 0.85, 0.98), say && `${pct(single)} of ${n} exchanges are single-turn with no tool results`);
  }
  if (n >= 40 && s.lastTs - s.firstTs >= 36 * 3_600_000) {
    const hours = s.activeHoursOfDay;
    const ent = s.hourEntropy;
    found('around_the_clock', ramp(hours, 17, 22) * ramp(ent, 0.82, 0.95), say && `active in ${hours} of 24 hours of the day, hour-of-day entropy ${ent.toFixed(2)} (no human rhythm)`);
  }
  if (s.gapN >= 20) {
    const cv = s.gapCv;
    found('regular_timing', ramp(0.3 - cv, 0.05, 0.2), say && `gaps between requests vary by only ${cv.toFixed(2)} (coefficient of variation of log-gaps over ${s.gapN} gaps)`);
  }
  // Many end users' conversations multiplexed through one account: it keeps receiving later
  // turns of conversations it never started, which a person's or a product's own chat never
  // does. Counted per conversation (each foreign one once), so the few conversations already
  // under way when the logs begin stay below the bar. Accrues within hours, unlike a rhythm.
  if (s.continuations >= 5) {
    const orphans = s.orphanContinuations;
    const share = orphans / s.continuations;
    found('relayed_conversations', ramp(orphans, 2, 8) * ramp(share, 0.4, 0.8), say && `${orphans} of ${s.continuations} multi-turn requests continue a conversation this account never started (one account carrying many people's conversations)`);
  }

  const age = s.ageAtFirstDays;
  if (age !== null && age <= p.newAccountDays) {
    found('no_ramp_up', ramp(firstDayPace(s), p.rampUpExchanges * 0.4, p.rampUpExchanges * 2), say && `account ${age.toFixed(1)} days old at its first request, ${s.firstDay} exchanges in its first ${Math.min(24, Math.round((s.lastTs - s.firstTs) / 3_600_000)) || 1} h`);
    const tier = (s.tier ?? '').toLowerCase();
    if (FARMED_TIERS.has(tier) && s.verified === false && n >= 10) {
      found('farmed_entry_point', 1, say && `new, unverified ${tier} account`);
    }
  }
  const tier = (s.tier ?? '').toLowerCase();
  if (!ENTERPRISE_TIERS.has(tier) && s.activeDays > 0) {
    const perDay = n / s.activeDays;
    found('throughput_vs_tier', ramp(perDay, p.heavyPerDay, p.heavyPerDay * 4), say && `${Math.round(perDay)} exchanges per active day on a ${tier || 'unknown'} tier`);
  }

  const ips = s.ips.size;
  if (ips >= 4) {
    const perEx = ips / n;
    const strength = Math.max(ramp(ips, 4, 16) * ramp(perEx, 0.02, 0.15), ramp(s.asns.size, 2, 5));
    found('ip_rotation', strength, say && `${ips} IPs across ${s.asns.size} ASNs for ${n} exchanges`);
  }
  if (s.userAgents.size >= 3) {
    found('client_rotation', ramp(s.userAgents.size, 2, 5), say && `${s.userAgents.size} different user agents`);
  }
}

/** Hours of steady first-day use before its pace stands for the whole first day. */
export const PACE_MIN_HOURS = 3;

/**
 * Exchanges in the account's first 24 h, or, while that day is still under way, its pace so
 * far projected over the day: a fresh account at full throughput shows it within hours, not
 * only once its first day is over. Projected only for steady use (active in most hours so
 * far): a person trying a new account in one busy hour is not a day's pace.
 */
export function firstDayPace(s: AccountState): number {
  const hours = (s.lastTs - s.firstTs) / 3_600_000;
  if (hours >= 24 || hours < PACE_MIN_HOURS) return s.firstDay;
  if (s.firstDayHours < 0.75 * Math.ceil(hours)) return s.firstDay;
  return Math.max(s.firstDay, (s.firstDay * 24) / hours);
}

/** Scores the account into `into` (its own score, rewritten in place), or a new score. */
export function scoreAccount(s: AccountState, p: DetectorParams, into: AccountScore = new AccountScore()): AccountScore {
  const strengths = into.strengths;
  strengths.fill(0);
  walkRules(s, p, false, (code, strength) => {
    if (strength > 0) strengths[INDEX[code]] = Math.min(1, strength);
  });
  into.settle();
  return into;
}

/** The account's findings as a person reads them, the measured values in words, in rule order. */
export function accountFindings(s: AccountState, p: DetectorParams): Finding[] {
  const out: Finding[] = [];
  walkRules(s, p, true, (code, strength, detail) => {
    if (strength > 0) out.push({ code, ...RULES[code], strength: Math.min(1, strength), detail: detail || '' });
  });
  return out;
}
