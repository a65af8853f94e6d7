/**
 * Analysts' decisions laid beside a scan's verdicts. A dismissal keeps the indicators it was
 * about: an account it covered that is raised again only by those indicators is not raised
 * again (its verdict is set aside, the engine's kept beside it). A confirmation keeps the
 * campaign's harness marks: a later campaign that shares one is named its successor.
 */
import type { AccountReport, CampaignReport, DecisionNote, ScanReport } from '../core/report.js';
import type { CaseDecision } from '../store/casework.js';
import { currentDecisions, inForce, targetKey } from '../investigate/decisions.js';

function note(d: CaseDecision): DecisionNote {
  return {
    kind: d.kind,
    at: d.at,
    actor: d.actor,
    on: d.target.kind,
    ...(d.kind === 'dismiss' ? { reason: d.reason } : {}),
    ...(d.kind === 'snooze' ? { until: d.until } : {}),
  };
}

/** The marks that tie a campaign's members now, as `kind:value` (bursts of sign-ups are no one's trait). */
const marksOf = (c: CampaignReport | undefined): string[] => (c?.shared_indicators ?? []).filter((s) => s.kind !== 'burst').map((s) => `${s.kind}:${s.value}`);

export function withDecisions(report: ScanReport, all: readonly CaseDecision[], now = Date.now()): ScanReport {
  if (all.length === 0) return report;
  const current = currentDecisions(all);
  // Campaign decisions keyed by the campaign of this report they are about: ids can change between scans.
  const byCampaign = currentDecisions(all, report);
  const inForceOn = (kind: 'campaign' | 'account', id: string) => inForce(byCampaign.get(targetKey({ kind, id })), now);
  const dismissals = new Map<string, CaseDecision>();
  const confirmedMarks = new Map<string, string>();
  for (const d of current.values()) {
    if (d.kind === 'dismiss') for (const a of d.accounts) dismissals.set(a, d);
    if (d.kind === 'confirm' && d.target.kind === 'campaign') for (const m of d.marks) confirmedMarks.set(m, d.target.id);
  }
  const campaignsById = new Map(report.campaigns.map((c) => [c.id, c]));
  const campaigns = report.campaigns.map((c) => {
    const d = inForceOn('campaign', c.id);
    if (d) return { ...c, decision: note(d) };
    const tied = marksOf(c).filter((m) => confirmedMarks.has(m));
    if (tied.length === 0) return c;
    return { ...c, successor_of: { campaign_id: confirmedMarks.get(tied[0]!)!, marks: tied } };
  });
  const accounts = report.accounts.map((a): AccountReport => {
    const d = inForceOn('account', a.account_id) ?? (a.campaign_id ? inForceOn('campaign', a.campaign_id) : undefined);
    const withNote = d ? { ...a, decision: note(d) } : a;
    const dismissal = dismissals.get(a.account_id);
    if (a.verdict === 'benign' || dismissal === undefined) return withNote;
    // Raised again only by what was dismissed: nothing new says it is a campaign's.
    const marks = new Set(dismissal.marks);
    const raisedBy = marksOf(a.campaign_id ? campaignsById.get(a.campaign_id) : undefined);
    if (!raisedBy.every((m) => marks.has(m))) return withNote;
    return {
      ...withNote,
      decision: note(dismissal),
      verdict: 'benign',
      engine_verdict: a.verdict,
      reasons: [`dismissed as a false positive (${dismissal.kind === 'dismiss' ? dismissal.reason : ''}) by ${dismissal.actor} on ${dismissal.at}; raised again only by the indicators then dismissed`, ...a.reasons],
    };
  });
  return { ...report, campaigns, accounts };
}
