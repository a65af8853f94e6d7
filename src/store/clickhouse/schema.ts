/**
 * The ClickHouse tables, as versioned migrations for a current server (23.8 LTS or later;
 * chdb embeds 26.x). Each migration runs once, in order, and is recorded in
 * `schema_migrations`; a store whose recorded version is above the last one here was
 * written by a newer DistillWatch and is refused.
 *
 * Exchanges: partitioned by day of event time and ordered by (ts, id), the replay's order,
 * so the replay reads parts in order and a time range skips whole partitions. Per-account
 * queries use a bloom-filter index on account_id; the append's duplicate check one on id.
 * Every table that an append can write twice is a ReplacingMergeTree keyed on what makes a
 * row the same row, and every query that counts reads it FINAL (or takes argMax), so a
 * re-ingest or a retried insert never counts twice even before a merge folds it.
 */
import { EXCHANGE_COLUMNS, EXCHANGE_NAMES, type Kind } from '../schema.js';

const TYPE: Record<Kind, string> = {
  text: 'String',
  'text?': 'Nullable(String)',
  int32: 'Int32',
  'int32?': 'Nullable(Int32)',
  int64: 'Int64',
  'int64?': 'Nullable(Int64)',
  float: 'Float64',
  bool: 'Bool',
  'bool?': 'Nullable(Bool)',
};

/** Columns of few distinct values, stored as dictionaries. */
const LOW_CARDINALITY = new Set(['model', 'capability', 'tier', 'country']);

function columnType(name: string): string {
  // Event time is a real time type: partitions by day, functions on hours, readable in any client.
  if (name === 'ts') return "DateTime64(3, 'UTC')";
  const t = TYPE[EXCHANGE_COLUMNS[name as keyof typeof EXCHANGE_COLUMNS] as Kind];
  return LOW_CARDINALITY.has(name) ? `LowCardinality(${t})` : t;
}

export const EXCHANGE_COLUMNS_DDL = EXCHANGE_NAMES.map((n) => `${n} ${columnType(n)}`).join(',\n  ');

export interface Migration {
  version: number;
  /** What it does, for the record. */
  description: string;
  /** Statements in order; `{db}` is the store's database (a checked identifier). */
  statements: string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'exchanges, bad records, checkpoints, reports, decisions, intel and casework',
    statements: [
      `CREATE TABLE IF NOT EXISTS {db}.exchanges (
  ${EXCHANGE_COLUMNS_DDL},
  ingested_at DateTime64(3, 'UTC') DEFAULT now64(3),
  INDEX id_bloom id TYPE bloom_filter GRANULARITY 1,
  INDEX account_bloom account_id TYPE bloom_filter GRANULARITY 1
) ENGINE = ReplacingMergeTree
PARTITION BY toDate(ts)
ORDER BY (ts, id)`,
      `CREATE TABLE IF NOT EXISTS {db}.bad_records (
  file String, line Int64, reason String, excerpt String,
  recorded_at DateTime64(3, 'UTC') DEFAULT now64(3)
) ENGINE = ReplacingMergeTree ORDER BY (file, line)`,
      `CREATE TABLE IF NOT EXISTS {db}.ingest_checkpoints (
  source_key String, path String, line Int64, done Bool,
  updated_at DateTime64(3, 'UTC'), seq UInt64
) ENGINE = ReplacingMergeTree(seq) ORDER BY source_key`,
      `CREATE TABLE IF NOT EXISTS {db}.scan_reports (
  id UInt64, generated_at Nullable(DateTime64(3, 'UTC')), saved_at DateTime64(3, 'UTC') DEFAULT now64(3), report String
) ENGINE = MergeTree ORDER BY id`,
      `CREATE TABLE IF NOT EXISTS {db}.campaigns (
  scan_id UInt64, id String, confidence Float64, n_accounts Int32, accounts Array(String), exchanges Int64,
  first_seen Nullable(DateTime64(3, 'UTC')), last_seen Nullable(DateTime64(3, 'UTC')), first_flagged_at Nullable(DateTime64(3, 'UTC')),
  tactics Array(String), capabilities String, indicators String, links String, explanation String
) ENGINE = MergeTree ORDER BY (scan_id, id)`,
      `CREATE TABLE IF NOT EXISTS {db}.account_verdicts (
  scan_id UInt64, account_id String, risk Float64, verdict LowCardinality(String), campaign_id Nullable(String),
  first_flagged_at Nullable(DateTime64(3, 'UTC')), reasons String, exchanges Int64
) ENGINE = MergeTree ORDER BY (scan_id, account_id)`,
      `CREATE TABLE IF NOT EXISTS {db}.account_decisions (
  seq UInt64, account_id String, decided_at DateTime64(3, 'UTC'), actor String, origin String,
  before_override Nullable(String), before_blocked Bool, after_override Nullable(String), after_blocked Bool
) ENGINE = ReplacingMergeTree ORDER BY (account_id, seq)`,
      `CREATE TABLE IF NOT EXISTS {db}.intel_indicators (
  bundle_id String, producer String, indicator_id String, match_key String, pattern String,
  confidence Nullable(Int32), valid_from Nullable(String), imported_at DateTime64(3, 'UTC') DEFAULT now64(3)
) ENGINE = ReplacingMergeTree ORDER BY (bundle_id, indicator_id, match_key)`,
      `CREATE TABLE IF NOT EXISTS {db}.case_decisions (
  seq UInt64, target_kind LowCardinality(String), target_id String, kind LowCardinality(String),
  decided_at DateTime64(3, 'UTC'), actor String, decision String
) ENGINE = ReplacingMergeTree ORDER BY seq`,
      `CREATE TABLE IF NOT EXISTS {db}.audit_log (
  seq UInt64, made_at DateTime64(3, 'UTC'), actor String, role String, action String,
  target_kind LowCardinality(String), target_id String, why String, before Nullable(String), after Nullable(String)
) ENGINE = ReplacingMergeTree ORDER BY seq`,
    ],
  },
  {
    version: 2,
    description: "the dashboard's hourly rollup, written at the end of a scan",
    // Every row names the report it was made for; rollup_meta is written last, so a rollup cut
    // short is never taken for the report's.
    statements: [
      `CREATE TABLE IF NOT EXISTS {db}.rollup_meta (generated_at String) ENGINE = MergeTree ORDER BY generated_at`,
      `CREATE TABLE IF NOT EXISTS {db}.rollup_activity (
  generated_at String, campaign_id String, h Int64, verdict String, exchanges UInt64, accounts UInt64
) ENGINE = MergeTree ORDER BY (generated_at, campaign_id, h)`,
      `CREATE TABLE IF NOT EXISTS {db}.rollup_capabilities (
  generated_at String, campaign_id String, h Int64, capability String, exchanges UInt64, elicitation_sum Float64
) ENGINE = MergeTree ORDER BY (generated_at, campaign_id, h)`,
      `CREATE TABLE IF NOT EXISTS {db}.rollup_totals (generated_at String, h Int64, exchanges UInt64) ENGINE = MergeTree ORDER BY (generated_at, h)`,
      `CREATE TABLE IF NOT EXISTS {db}.rollup_graphs (generated_at String, campaign_id String, graph String) ENGINE = MergeTree ORDER BY (generated_at, campaign_id)`,
    ],
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
