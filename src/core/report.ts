/**
 * The scan report (report.json). Its required shape is a contract read by other tools and
 * by the benchmark; extra fields are welcome, so this type carries more than the contract.
 */
import type { Capability } from './features.js';

export type Verdict = 'distillation' | 'suspicious' | 'benign';

export const TACTICS = [
  'hydra_proxy',
  'synchronized_accounts',
  'capability_sweep',
  'cot_elicitation',
  'reward_grading',
  'model_pivot',
  'entry_point_farming',
  'ban_evasion',
  'relay',
  'around_the_clock',
  'no_ramp_up',
  'ip_rotation',
] as const;
export type Tactic = (typeof TACTICS)[number];

export interface Indicators {
  ips: string[];
  asns: number[];
  payment_fingerprints: string[];
  templates: string[];
  user_agents: string[];
  harnesses: string[];
  subnets: string[];
}

export interface CampaignReport {
  id: string;
  confidence: number;
  accounts: string[];
  exchanges: number;
  first_seen: string;
  last_seen: string;
  /** ISO time at which the campaign as a whole was first flagged, in event time. */
  first_flagged_at?: string;
  capabilities: Partial<Record<Capability, number>>;
  tactics: Tactic[];
  indicators: Indicators;
  explanation: string;
  /** Link kinds that joined its accounts, with how many account pairs each joined. */
  links: Record<string, number>;
  /** The indicators its members share, most shared first: kind (`ip`, `subnet`, `payment`, `harness`, `system`, `template`, `burst`), value, and how many members hold it. */
  shared_indicators?: { kind: string; value: string; accounts: number }[];
  /** The analyst's decision in force on the campaign (see investigate/), when any. */
  decision?: DecisionNote;
  /** A campaign confirmed earlier whose harness marks (harness, system prompt, template) this one shares: a successor pool. */
  successor_of?: { campaign_id: string; marks: string[] };
  /** Imported STIX bundles whose indicators its members use: the bundle id, who shared it, how many members use it. */
  intel_bundles?: { bundle_id: string; producer: string; accounts: number }[];
}

/** An analyst's decision as a report shows it beside the engine's verdict. */
export interface DecisionNote {
  kind: 'confirm' | 'dismiss' | 'allowlist' | 'block' | 'snooze';
  at: string;
  actor: string;
  /** Whose decision it is: the account's own, or its campaign's. */
  on: 'account' | 'campaign';
  reason?: string;
  until?: string;
}

export interface AccountReport {
  account_id: string;
  risk: number;
  verdict: Verdict;
  campaign_id?: string;
  first_flagged_at?: string;
  reasons: string[];
  exchanges: number;
  /** The analyst's decision in force on the account or its campaign, when any. */
  decision?: DecisionNote;
  /** The engine's verdict when a dismissal set it aside: it rested only on indicators an analyst had dismissed. */
  engine_verdict?: Verdict;
}

/** One input whose records are in the store the report was made from. */
export interface InputSource {
  /** The path as given (absolute for files), `-` for stdin, `gateway:<replica>` for a gateway's log. */
  path: string;
  /** Lines (for the gateway: batches) stored so far. */
  lines: number;
  /** Read to its end. */
  complete: boolean;
  /** Given to the scan that made this report, rather than to an earlier scan into the same store. */
  this_scan: boolean;
}

export interface ScanReport {
  generated_at: string;
  /** What the report covers: everything in the store, which may hold earlier scans' inputs too. */
  input: { exchanges: number; accounts: number; bad_records: number; files?: string[]; sources?: InputSource[] };
  campaigns: CampaignReport[];
  accounts: AccountReport[];
  engine?: { version: string; params: Record<string, unknown> };
}
