/** The current decision on each campaign and account: the latest one made on it. */
import type { ScanReport } from '../core/report.js';
import type { CaseDecision, DecisionTarget } from '../store/casework.js';

export type CurrentDecisions = ReadonlyMap<string, CaseDecision>;

export const targetKey = (t: DecisionTarget): string => `${t.kind}:${t.id}`;

/**
 * The latest decision on each target. With a report, campaign decisions are keyed by the
 * campaign of that report they are about (see `campaignOf`), not by the id they were made on.
 */
export function currentDecisions(all: readonly CaseDecision[], report?: Pick<ScanReport, 'campaigns'>): CurrentDecisions {
  const out = new Map<string, CaseDecision>();
  for (const d of all) out.set(targetKey(d.target), d);
  if (report === undefined) return out;
  const resolved = new Map<string, CaseDecision>();
  for (const [key, d] of out) {
    if (d.target.kind !== 'campaign') resolved.set(key, d);
    else {
      const id = campaignOf(d, report);
      const other = id === null ? undefined : resolved.get(targetKey({ kind: 'campaign', id }));
      // Two decisions that now name one campaign: the later one holds.
      if (id !== null && (other === undefined || other.seq < d.seq)) resolved.set(targetKey({ kind: 'campaign', id }), d);
    }
  }
  return resolved;
}

/**
 * The campaign of `report` a campaign decision is about, or null when none is. Campaign ids are
 * numbered in the order a scan finds campaigns, so a scan of a store that has grown may give
 * the same campaign another id, and the old id to another campaign. A decision keeps the
 * members it covered when made: it holds for the campaign that has more than half of them,
 * its own id first among equals.
 */
export function campaignOf(d: CaseDecision, report: Pick<ScanReport, 'campaigns'>): string | null {
  const covered = new Set(d.accounts);
  let best: { id: string; overlap: number } | null = null;
  for (const c of report.campaigns) {
    let overlap = 0;
    for (const a of c.accounts) if (covered.has(a)) overlap++;
    const better = best === null || overlap > best.overlap || (overlap === best.overlap && c.id === d.target.id);
    if (overlap > 0 && better) best = { id: c.id, overlap };
  }
  return best !== null && best.overlap * 2 > covered.size ? best.id : null;
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
