/**
 * What analysts do with the engine's results, as the store keeps it: decisions on campaigns
 * and accounts, the audit of every change, and the reads an investigation needs beyond the
 * scan report (an account's exchanges, activity per hour, who holds an indicator).
 */

export const DECISION_KINDS = ['confirm', 'dismiss', 'allowlist', 'block', 'snooze'] as const;
export type DecisionKind = (typeof DECISION_KINDS)[number];

/** Why a flag was a false positive: a fixed list, so that dismissals can be counted by cause. */
export const DISMISS_REASONS = ['legitimate_customer', 'shared_infrastructure', 'research_partner', 'evaluation_or_benchmark', 'detector_error', 'other'] as const;
export type DismissReason = (typeof DISMISS_REASONS)[number];

export const TARGET_KINDS = ['campaign', 'account'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

export interface DecisionTarget {
  kind: TargetKind;
  id: string;
}

/** The decision proper: what was decided, with what only that kind carries. */
export type DecisionVerdict =
  | { kind: 'confirm' }
  | { kind: 'dismiss'; reason: DismissReason }
  | { kind: 'allowlist' }
  | { kind: 'block' }
  | { kind: 'snooze'; until: string };

export type NewCaseDecision = DecisionVerdict & {
  target: DecisionTarget;
  /** ISO 8601 time it was made. */
  at: string;
  actor: string;
  /** The analyst's words; may be empty. */
  note: string;
  /**
   * Indicators kept with the decision: a dismissed campaign's distinctive indicators (they stop
   * re-raising the same accounts), a confirmed campaign's harness marks (they tie successors).
   */
  marks: string[];
  /** The accounts it covered when made (a campaign's members then). */
  accounts: string[];
};

export type CaseDecision = NewCaseDecision & { seq: number };

/** One audited mutating call: who, when, what, why, and the state before and after. */
export interface NewAuditEntry {
  at: string;
  actor: string;
  role: string;
  /** What was done, e.g. `decision.dismiss`. */
  action: string;
  target: DecisionTarget;
  /** Why: the reason code and note given, when any. */
  why: string;
  before: unknown;
  after: unknown;
}

export type AuditEntry = NewAuditEntry & { seq: number };

/** One exchange as an investigation lists it: metadata and a preview, never the whole prompt. */
export interface ExchangePreview {
  id: string;
  ts: string;
  model: string;
  capability: string;
  elicitation: number;
  ip: string | null;
  user_agent: string | null;
  status: number | null;
  output_tokens: number | null;
  prompt_preview: string | null;
}

export interface HourlyActivity {
  account_id: string;
  /** Start of the hour, ISO 8601 UTC. */
  hour: string;
  exchanges: number;
}

/** A campaign's members of one verdict in one hour: their exchanges, and how many of them were active. */
export interface HourlyVerdictActivity {
  /** Start of the hour, ISO 8601 UTC. */
  hour: string;
  verdict: 'distillation' | 'suspicious' | 'benign';
  exchanges: number;
  accounts: number;
}

export interface HourlyTotal {
  /** Start of the hour, ISO 8601 UTC. */
  hour: string;
  exchanges: number;
}

export interface HourlyCapability {
  hour: string;
  capability: string;
  exchanges: number;
  /** Mean elicitation score (0..1) of those exchanges. */
  elicitation: number;
}

export const SEARCH_KINDS = ['ip', 'subnet', 'asn', 'payment', 'user_agent', 'harness', 'system', 'template'] as const;
export type SearchKind = (typeof SEARCH_KINDS)[number];

export interface IndicatorHolder {
  account_id: string;
  exchanges: number;
  first_seen: string;
  last_seen: string;
}

export interface Page<T> {
  total: number;
  items: T[];
}

/** What a scan's rollup is made of (investigate/rollup.ts): the report it is for, its campaigns, their graphs. */
export interface RollupInput {
  /** The report's `generated_at`: a rollup is read only for the report it was made for. */
  generatedAt: string;
  /** Each campaign's members with their verdicts in the report. */
  campaigns: readonly { id: string; members: readonly { account_id: string; verdict: HourlyVerdictActivity['verdict'] }[] }[];
  /** Each campaign's graph, laid out, as the API serves it. */
  graphs: readonly { campaign_id: string; graph: unknown }[];
}

/** A campaign's timeline as the rollup has it. */
export interface RolledTimeline {
  activity: HourlyVerdictActivity[];
  capabilities: HourlyCapability[];
}

export interface CaseworkStore {
  /** Appends a decision and its audit entry together: both are kept or neither. */
  recordCaseDecision(d: NewCaseDecision, audit: NewAuditEntry): Promise<CaseDecision>;
  /** Every decision, oldest first (the latest of a target is its current one). */
  caseDecisions(): Promise<CaseDecision[]>;
  /** The audit, newest first; of one target when given. */
  auditLog(opts: { target?: DecisionTarget; limit: number; offset: number }): Promise<Page<AuditEntry>>;
  /** An account's exchanges, newest first. */
  accountExchanges(accountId: string, opts: { limit: number; offset: number }): Promise<Page<ExchangePreview>>;
  /** Exchanges per account per hour (UTC) for these accounts, in time order. */
  hourlyActivity(accountIds: readonly string[]): Promise<HourlyActivity[]>;
  /** Exchanges per hour (UTC) over the whole store, in time order: the overview's chart. */
  hourlyTotals(): Promise<HourlyTotal[]>;
  /** Exchanges per hour per capability for these accounts, with their mean elicitation score. */
  hourlyCapabilities(accountIds: readonly string[]): Promise<HourlyCapability[]>;
  /** Which of these accounts carry which of these indicators (by index) in any exchange. */
  indicatorHoldings(accountIds: readonly string[], indicators: readonly { kind: SearchKind; value: string }[]): Promise<{ account_id: string; indicator: number }[]>;
  /** Accounts whose exchanges carry the indicator, most exchanges first. */
  indicatorHolders(kind: SearchKind, value: string, limit: number): Promise<IndicatorHolder[]>;
  /** Whether the store holds any exchange of the account. */
  hasAccount(accountId: string): Promise<boolean>;
  /**
   * Replaces the hourly rollup (written at the end of a scan): what the dashboard reads, so
   * that opening a campaign does not count a million exchanges again.
   */
  saveRollup(input: RollupInput): Promise<void>;
  /** A campaign's timeline from the rollup; null when there is no rollup for that report. */
  rolledTimeline(generatedAt: string, campaignId: string): Promise<RolledTimeline | null>;
  /** Exchanges per hour over the store from the rollup; null when there is none for that report. */
  rolledTotals(generatedAt: string): Promise<HourlyTotal[] | null>;
  /** A campaign's laid-out graph from the rollup; null when there is none for that report or campaign. */
  rolledGraph(generatedAt: string, campaignId: string): Promise<unknown | null>;
}
