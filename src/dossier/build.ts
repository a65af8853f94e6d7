/**
 * What a dossier says about one campaign, gathered from the store through the investigation
 * read model (the same views the API serves), before any of it is drawn.
 */
import type { CampaignReport, ScanReport } from '../core/report.js';
import type { AuditEntry, CaseDecision, ExchangePreview, HourlyVerdictActivity, SearchKind } from '../store/casework.js';
import { SEARCH_KINDS } from '../store/casework.js';
import type { StoreReader } from '../store/store.js';
import { campaignDetail, campaignTimeline, type CampaignDetail, type CampaignTimeline } from '../investigate/campaigns.js';
import { currentDecisions } from '../investigate/decisions.js';
import { searchIndicator } from '../investigate/search.js';
import { redactPreview, type Redaction } from './redact.js';

export interface DossierOptions {
  redaction: Redaction;
  /** Sample exchanges shown, taken from the most active members. */
  samples: number;
  /** Shared indicators drawn in the graph and listed with their holders. */
  indicators: number;
  /** When the dossier is prepared (ISO 8601); stated on it. */
  preparedAt: string;
}

export const DEFAULT_DOSSIER_OPTIONS: Omit<DossierOptions, 'preparedAt'> = { redaction: 'mask', samples: 10, indicators: 24 };

/** A shared indicator with the members that hold it, and how many accounts outside hold it too. */
export interface HeldIndicator {
  kind: string;
  value: string;
  members: string[];
  outsiders: number;
}

export interface SampleExchange extends Omit<ExchangePreview, 'prompt_preview'> {
  account_id: string;
  /** The preview as the redaction allows it; null when it shows none. */
  shown: string | null;
}

export interface Dossier {
  campaign: CampaignReport;
  detail: CampaignDetail;
  timeline: CampaignTimeline;
  indicators: HeldIndicator[];
  samples: SampleExchange[];
  /** Decisions on the campaign or any of its members, oldest first. */
  decisions: CaseDecision[];
  /** The campaign's audit, oldest first. */
  audit: AuditEntry[];
  report: Pick<ScanReport, 'generated_at' | 'input' | 'engine'>;
  options: DossierOptions;
}

export type DossierResult = { ok: true; dossier: Dossier } | { ok: false; code: 'no_report' | 'unknown_campaign'; message: string };

const SEARCHABLE = new Set<string>(SEARCH_KINDS);

/** Everything a dossier shows about the campaign, or why there is none. */
export async function buildDossier(store: StoreReader, campaignId: string, options: DossierOptions, where = 'the store'): Promise<DossierResult> {
  const report = await store.latestReport();
  if (report === null) return { ok: false, code: 'no_report', message: `No report in ${where}: no scan has finished into it` };
  const all = await store.caseDecisions();
  const detail = campaignDetail(report, currentDecisions(all, report), campaignId, Date.parse(options.preparedAt));
  if (detail === null) {
    const known = report.campaigns.map((c) => c.id).join(', ') || 'none';
    return { ok: false, code: 'unknown_campaign', message: `No campaign "${campaignId}" in the latest scan of ${where} (campaigns: ${known})` };
  }
  const c = detail.campaign;
  const members = new Set(c.accounts);
  const timeline = (await campaignTimeline(store, report, campaignId))!;

  const indicators: HeldIndicator[] = [];
  // `burst` (same-minute activity) is a link, not something an exchange carries: not searchable.
  for (const s of (c.shared_indicators ?? []).filter((s) => SEARCHABLE.has(s.kind)).slice(0, options.indicators)) {
    const found = await searchIndicator(store, report, s.kind as SearchKind, s.value, 100_000);
    const held = found.accounts.map((a) => a.account_id);
    indicators.push({ kind: s.kind, value: s.value, members: held.filter((a) => members.has(a)).sort(), outsiders: held.filter((a) => !members.has(a)).length });
  }

  const samples: SampleExchange[] = [];
  const active = [...detail.members].sort((a, b) => b.exchanges - a.exchanges || a.account_id.localeCompare(b.account_id));
  const perMember = 2;
  for (const m of active.slice(0, Math.ceil(options.samples / perMember))) {
    const page = await store.accountExchanges(m.account_id, { limit: perMember, offset: 0 });
    for (const { prompt_preview, ...meta } of page.items) samples.push({ ...meta, account_id: m.account_id, shown: redactPreview(prompt_preview, options.redaction) });
  }

  const decisions = all.filter((d) => (d.target.kind === 'campaign' ? d.target.id === campaignId : members.has(d.target.id)));
  const audit = (await store.auditLog({ target: { kind: 'campaign', id: campaignId }, limit: 1000, offset: 0 })).items.reverse();
  return {
    ok: true,
    dossier: {
      campaign: c,
      detail,
      timeline,
      indicators,
      samples: samples.slice(0, options.samples),
      decisions,
      audit,
      report: { generated_at: report.generated_at, input: report.input, ...(report.engine ? { engine: report.engine } : {}) },
      options,
    },
  };
}

/** Exchanges per hour of all members together, in time order. */
export function hourlyTotals(activity: readonly HourlyVerdictActivity[]): { hour: string; exchanges: number; accounts: number }[] {
  const by = new Map<string, { exchanges: number; accounts: number }>();
  for (const a of activity) {
    const t = by.get(a.hour) ?? { exchanges: 0, accounts: 0 };
    t.exchanges += a.exchanges;
    t.accounts += a.accounts;
    by.set(a.hour, t);
  }
  return [...by].map(([hour, t]) => ({ hour, ...t })).sort((a, b) => a.hour.localeCompare(b.hour));
}
