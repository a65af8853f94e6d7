/**
 * A finding is one piece of evidence a human can check: which signal fired, how strongly,
 * and the measured values behind it. Verdicts are built from findings of several
 * families, never from one: a keyword, a busy account or a shared IP alone proves nothing.
 */

export type EvidenceFamily = 'content' | 'automation' | 'lifecycle' | 'infrastructure' | 'coordination';

export interface Finding {
  /** Stable identifier of the signal, e.g. `elicitation_share`. */
  code: string;
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
