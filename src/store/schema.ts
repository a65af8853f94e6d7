/**
 * What every store backend shares, whatever its engine: the exchange columns (from
 * exchange-columns.ts), the checks a batch passes before any of it is written, and the
 * shapes of the report tables (a scan's campaigns and account verdicts as rows). A backend
 * adds only its engine's types, DDL and errors.
 */
import type { ExchangeFeatures } from '../core/features.js';
import type { ScanReport } from '../core/report.js';
import { StoreError } from './errors.js';
import { columnsOfRows } from './column-batch.js';
import { describeValue } from './exchange-columns.js';
import type { AppendOutcome, BadRecord, IngestCheckpoint, StoreWriter } from './store.js';

export { describeValue, encodeExchange, EXCHANGE_COLUMNS, EXCHANGE_KINDS, EXCHANGE_NAMES, fitsKind, rowProblem, type Kind } from './exchange-columns.js';

/**
 * `Store.append` for every backend: the objects checked and laid out as columns here, then
 * stored as `appendColumns` stores the feature workers' columns; a bad row rejects the batch.
 */
export function appendByColumns(
  store: Pick<StoreWriter, 'appendColumns'>,
  rows: readonly ExchangeFeatures[],
  bad: readonly BadRecord[],
  cp: IngestCheckpoint,
): Promise<AppendOutcome> {
  const cols = columnsOfRows(rows);
  if (!cols.ok) return Promise.reject(new StoreError('invalid_value', cols.problem));
  return store.appendColumns(cols.columns, bad, cp);
}

/** Why a checkpoint cannot be stored, or null. */
export function checkpointProblem(cp: IngestCheckpoint): string | null {
  if (!Number.isSafeInteger(cp.line) || cp.line < 0) return `Cannot store the checkpoint of "${cp.source.path}": line is ${describeValue(cp.line)}, expected a whole number`;
  return null;
}

/**
 * Why a bad record cannot be set aside, or null. A backend without transactions across
 * tables (ClickHouse) checks every record before it writes anything, so that a refused
 * record keeps its whole batch out as DuckDB's transaction does.
 */
export function badRecordProblem(b: BadRecord): string | null {
  for (const field of ['file', 'reason', 'excerpt'] as const) {
    if (typeof b[field] !== 'string') return `Cannot set aside the bad record of "${String(b.file)}": ${field} is ${describeValue(b[field])}, expected a string`;
  }
  if (!Number.isSafeInteger(b.line)) return `Cannot set aside the bad record of "${b.file}": line is ${describeValue(b.line)}, expected a whole number`;
  return null;
}

/** Milliseconds since the epoch of an ISO 8601 time, or null when absent or not a time. */
export function msOf(iso: string | undefined | null): number | null {
  if (iso === undefined || iso === null) return null;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : null;
}

/** One row of the campaigns table: a campaign of the latest scan, searchable without parsing the report. */
export interface CampaignRow {
  scan_id: number;
  id: string;
  confidence: number;
  n_accounts: number;
  accounts: string[];
  exchanges: number;
  first_seen: number | null;
  last_seen: number | null;
  first_flagged_at: number | null;
  tactics: string[];
  capabilities: string;
  indicators: string;
  links: string;
  explanation: string;
}

/** One row of the account_verdicts table. */
export interface VerdictRow {
  scan_id: number;
  account_id: string;
  risk: number;
  verdict: string;
  campaign_id: string | null;
  first_flagged_at: number | null;
  reasons: string;
  exchanges: number;
}

/** A scan's report as the rows of the two report tables (times as epoch milliseconds, nested values as JSON text). */
export function reportRows(scanId: number, report: ScanReport): { campaigns: CampaignRow[]; verdicts: VerdictRow[] } {
  return {
    campaigns: report.campaigns.map((c) => ({
      scan_id: scanId,
      id: c.id,
      confidence: c.confidence,
      n_accounts: c.accounts.length,
      accounts: c.accounts,
      exchanges: c.exchanges,
      first_seen: msOf(c.first_seen),
      last_seen: msOf(c.last_seen),
      first_flagged_at: msOf(c.first_flagged_at),
      tactics: c.tactics,
      capabilities: JSON.stringify(c.capabilities),
      indicators: JSON.stringify(c.indicators),
      links: JSON.stringify(c.links ?? {}),
      explanation: c.explanation,
    })),
    verdicts: report.accounts.map((a) => ({
      scan_id: scanId,
      account_id: a.account_id,
      risk: a.risk,
      verdict: a.verdict,
      campaign_id: a.campaign_id ?? null,
      first_flagged_at: msOf(a.first_flagged_at),
      reasons: JSON.stringify(a.reasons),
      exchanges: a.exchanges,
    })),
  };
}
