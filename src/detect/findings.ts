/**
 * A finding is one piece of evidence a human can check: which signal fired, how strongly,
 * and the measured values behind it. Verdicts are built from findings of several
 * families, never from one: a keyword, a busy account or a shared IP alone proves nothing.
 */

/** `intel`: indicators another provider shared about a campaign it saw (imported STIX). */
export type EvidenceFamily = 'content' | 'automation' | 'lifecycle' | 'infrastructure' | 'coordination' | 'intel';

/** Signals judged on one account's behaviour (account-score.ts). */
export const ACCOUNT_FINDING_CODES = [
  'elicitation_share',
  'grading_share',
  'templated_bank',
  'scripted_single_turn',
  'around_the_clock',
  'regular_timing',
  'relayed_conversations',
  'no_ramp_up',
  'farmed_entry_point',
  'throughput_vs_tier',
  'ip_rotation',
  'client_rotation',
] as const;

/** Signals judged on a linked group as a whole (campaign-score.ts). */
export const CAMPAIGN_FINDING_CODES = [
  'campaign_elicitation',
  'campaign_grading',
  'campaign_templates',
  'campaign_wrapped_items',
  'campaign_automation',
  'campaign_single_turn',
  'campaign_no_ramp_up',
  'campaign_new_accounts',
  'campaign_ip_rotation',
  'shared_harness',
  'shared_phrasing',
  'shared_bank',
  'shared_payment',
  'synchronized_activity',
  'shared_intel',
] as const;

export type AccountFindingCode = (typeof ACCOUNT_FINDING_CODES)[number];
export type CampaignFindingCode = (typeof CAMPAIGN_FINDING_CODES)[number];
/** A typo in a code is a compile error, not a signal that silently never matches. */
export type FindingCode = AccountFindingCode | CampaignFindingCode;

export interface Finding {
  /** Stable identifier of the signal, e.g. `elicitation_share`. */
  code: FindingCode;
  family: EvidenceFamily;
  /** 0..1: how far past its threshold the measure is. */
  strength: number;
  /** 0..1: how much this signal can move a verdict on its own. */
  weight: number;
  /** The measured values, in words: "62% of 140 prompts ask for step-by-step reasoning". */
  detail: string;
}

/** Combines independent findings: 1 - Π(1 - weight·strength). */
export function combine(findings: readonly Finding[]): number {
  let keep = 1;
  for (const f of findings) keep *= 1 - f.weight * f.strength;
  return 1 - keep;
}

export function families(findings: readonly Finding[], minStrength = 0.3): Set<EvidenceFamily> {
  const out = new Set<EvidenceFamily>();
  for (const f of findings) if (f.strength >= minStrength) out.add(f.family);
  return out;
}

/** Linear ramp of x from `lo` (0) to `hi` (1), clamped. */
export function ramp(x: number, lo: number, hi: number): number {
  if (!(x > lo)) return 0;
  if (x >= hi) return 1;
  return (x - lo) / (hi - lo);
}

export const pct = (x: number): string => `${Math.round(x * 100)}%`;

export function describe(f: Finding): string {
  return `${f.code}: ${f.detail}`;
}
