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
    const elicit = s.elicitationSum / n;
    push('elicitation_share', 'content', ramp(elicit, 0.15, 0.5), 0.55, `${pct(elicit)} of ${n} prompts ask for the reasoning itself (step-by-step, reasoning tags, full derivation)`);
    const graded = s.graded / n;
    push('grading_share', 'content', ramp(graded, 0.04, 0.2), 0.45, `${pct(graded)} of ${n} prompts ask the model to grade or rank answers`);
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

  const age = s.ageAtFirstDays;
  if (age !== null && age <= p.newAccountDays) {
    push('no_ramp_up', 'lifecycle', ramp(s.firstDay, p.rampUpExchanges * 0.4, p.rampUpExchanges * 2), 0.3, `account ${age.toFixed(1)} days old at its first request, ${s.firstDay} exchanges in its first 24 h`);
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

export function scoreAccount(s: AccountState, p: DetectorParams): AccountScore {
  const findings = accountFindings(s, p);
  return { risk: combine(findings), findings, families: families(findings, 0.5) };
}
