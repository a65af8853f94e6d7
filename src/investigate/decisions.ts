/** The current decision on each campaign and account: the latest one made on it. */
import type { CaseDecision, DecisionTarget } from '../store/casework.js';

export type CurrentDecisions = ReadonlyMap<string, CaseDecision>;

export const targetKey = (t: DecisionTarget): string => `${t.kind}:${t.id}`;

export function currentDecisions(all: readonly CaseDecision[]): CurrentDecisions {
  const out = new Map<string, CaseDecision>();
  for (const d of all) out.set(targetKey(d.target), d);
  return out;
}

/** A snooze whose date has passed no longer holds: the target is back in the queue. */
export function inForce(d: CaseDecision | undefined, now: number): CaseDecision | undefined {
  if (d === undefined) return undefined;
  if (d.kind === 'snooze' && Date.parse(d.until) <= now) return undefined;
  return d;
}

/** A decision as the API shows it beside a verdict. */
export function decisionSummary(d: CaseDecision | undefined): { kind: string; at: string; actor: string; reason?: string; until?: string; note: string } | null {
  if (d === undefined) return null;
  return {
    kind: d.kind,
    at: d.at,
    actor: d.actor,
    note: d.note,
    ...(d.kind === 'dismiss' ? { reason: d.reason } : {}),
    ...(d.kind === 'snooze' ? { until: d.until } : {}),
  };
}
