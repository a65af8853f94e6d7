/**
 * Account-level findings: each a pure function of one account's behaviour so far. What a
 * real operator cannot cheaply avoid is favoured (harness habits, lifecycle, timing,
 * infrastructure); content signals count as shares over many exchanges, never per prompt.
 */
import type { AccountState } from './account-state.js';
import type { DetectorParams } from './params.js';
import { combine, families, pct, ramp, type AccountFindingCode, type EvidenceFamily, type Finding } from './findings.js';

const FARMED_TIERS = new Set(['edu', 'research', 'startup', 'education', 'academic', 'free_trial', 'trial']);
const ENTERPRISE_TIERS = new Set(['enterprise', 'scale', 'business']);

export interface AccountScore {
  risk: number;
  findings: Finding[];
  families: Set<EvidenceFamily>;
}

export function accountFindings(s: AccountState, p: DetectorParams): Finding[] {
  const out: Finding[] = [];
  const n = s.n;
  const push = (code: AccountFindingCode, family: EvidenceFamily, strength: number, weight: number, detail: string): void => {
    if (strength > 0) out.push({ code, family, strength: Math.min(1, strength), weight, detail });
  };

  if (n >= p.minExchangesContent) {
    // Shares over a few exchanges are noisy: below contentShareOver the missing exchanges
    // count as asking for nothing, so an early suspect needs as many eliciting prompts as one
    // judged over that many (params.ts).
    const over = Math.max(n, p.contentShareOver);
    const elicit = s.elicitationSum / over;
    push('elicitation_share', 'content', ramp(elicit, 0.15, 0.5), 0.55, `${pct(s.elicitationSum / n)} of ${n} prompts ask for the reasoning itself (step-by-step, reasoning tags, full derivation)`);
    const graded = s.graded / over;
    push('grading_share', 'content', ramp(graded, 0.04, 0.2), 0.45, `${pct(s.graded / n)} of ${n} prompts ask the model to grade or rank answers`);
    const tpl = Math.max(s.topShare(s.prefixes), s.topShare(s.suffixes));
    const distinct = s.prompts.size / n;
    if (n >= 15) {
      push('templated_bank', 'content', ramp(tpl, 0.3, 0.7) * ramp(distinct, 0.7, 0.95), 0.3, `${pct(tpl)} of prompts share one wrapper while ${pct(distinct)} of the items differ (a template filled from a problem bank)`);
    }
  }

  if (n >= 20 && s.withToolResults === 0) {
    const single = s.singleTurn / n;
    push('scripted_single_turn', 'automation', ramp(single, 0.85, 0.98), 0.15, `${pct(single)} of ${n} exchanges are single-turn with no tool results`);
  }
  if (n >= 40 && s.lastTs - s.firstTs >= 36 * 3_600_000) {
    const hours = s.activeHoursOfDay;
    const ent = s.hourEntropy;
    push('around_the_clock', 'automation', ramp(hours, 17, 22) * ramp(ent, 0.82, 0.95), 0.35, `active in ${hours} of 24 hours of the day, hour-of-day entropy ${ent.toFixed(2)} (no human rhythm)`);
  }
  if (s.gapN >= 20) {
    const cv = s.gapCv;
    push('regular_timing', 'automation', ramp(0.3 - cv, 0.05, 0.2), 0.25, `gaps between requests vary by only ${cv.toFixed(2)} (coefficient of variation of log-gaps over ${s.gapN} gaps)`);
  }
  // Many end users' conversations multiplexed through one account: it keeps receiving later
  // turns of conversations it never started, which a person's or a product's own chat never
  // does. Counted per conversation (each foreign one once), so the few conversations already
  // under way when the logs begin stay below the bar. Accrues within hours, unlike a rhythm.
  if (s.continuations >= 5) {
    const orphans = s.orphanContinuations;
    const share = orphans / s.continuations;
    push('relayed_conversations', 'automation', ramp(orphans, 2, 8) * ramp(share, 0.4, 0.8), 0.35, `${orphans} of ${s.continuations} multi-turn requests continue a conversation this account never started (one account carrying many people's conversations)`);
  }

  const age = s.ageAtFirstDays;
  if (age !== null && age <= p.newAccountDays) {
    push('no_ramp_up', 'lifecycle', ramp(firstDayPace(s), p.rampUpExchanges * 0.4, p.rampUpExchanges * 2), 0.3, `account ${age.toFixed(1)} days old at its first request, ${s.firstDay} exchanges in its first ${Math.min(24, Math.round((s.lastTs - s.firstTs) / 3_600_000)) || 1} h`);
    const tier = (s.tier ?? '').toLowerCase();
    if (FARMED_TIERS.has(tier) && s.verified === false && n >= 10) {
      push('farmed_entry_point', 'lifecycle', 1, 0.15, `new, unverified ${tier} account`);
    }
  }
  const tier = (s.tier ?? '').toLowerCase();
  if (!ENTERPRISE_TIERS.has(tier) && s.activeDays > 0) {
    const perDay = n / s.activeDays;
    push('throughput_vs_tier', 'lifecycle', ramp(perDay, p.heavyPerDay, p.heavyPerDay * 4), 0.2, `${Math.round(perDay)} exchanges per active day on a ${tier || 'unknown'} tier`);
  }

  const ips = s.ips.size;
  if (ips >= 4) {
    const perEx = ips / n;
    const strength = Math.max(ramp(ips, 4, 16) * ramp(perEx, 0.02, 0.15), ramp(s.asns.size, 2, 5));
    push('ip_rotation', 'infrastructure', strength, 0.35, `${ips} IPs across ${s.asns.size} ASNs for ${n} exchanges`);
  }
  if (s.userAgents.size >= 3) {
    push('client_rotation', 'infrastructure', ramp(s.userAgents.size, 2, 5), 0.2, `${s.userAgents.size} different user agents`);
  }
  return out;
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

export function scoreAccount(s: AccountState, p: DetectorParams): AccountScore {
  const findings = accountFindings(s, p);
  return { risk: combine(findings), findings, families: families(findings, 0.5) };
}
