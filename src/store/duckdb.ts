/**
 * The embedded store: one DuckDB file, no server. Exchanges go in through DuckDB's appender
 * (its fast path) into a scratch table, then into the real table in one transaction with the
 * bad records and the checkpoint, so that a killed ingest leaves either a whole batch or none.
 */
import { DuckDBInstance, type DuckDBAppender, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import type { ExchangeFeatures } from '../core/features.js';
import type { ScanReport } from '../core/report.js';
import type { AppendOutcome, BadRecord, IngestCheckpoint, SourceKey, Store, StoreCounts } from './store.js';

const SCHEMA_VERSION = 1;

type ColumnType = 'VARCHAR' | 'DOUBLE' | 'INTEGER' | 'BOOLEAN';

/** Every ExchangeFeatures field, in table order, with its column type. One list drives DDL, writes and reads. */
const COLUMNS: readonly (readonly [keyof ExchangeFeatures, ColumnType])[] = [
  ['id', 'VARCHAR'],
  ['ts', 'DOUBLE'],
  ['account_id', 'VARCHAR'],
  ['org_id', 'VARCHAR'],
  ['api_key_id', 'VARCHAR'],
  ['model', 'VARCHAR'],
  ['conversation_id', 'VARCHAR'],
  ['ip', 'VARCHAR'],
  ['subnet', 'VARCHAR'],
  ['asn', 'DOUBLE'],
  ['country', 'VARCHAR'],
  ['user_agent', 'VARCHAR'],
  ['tier', 'VARCHAR'],
  ['account_created_at', 'DOUBLE'],
  ['payment_fp', 'VARCHAR'],
  ['email_domain', 'VARCHAR'],
  ['verified', 'BOOLEAN'],
  ['n_messages', 'INTEGER'],
  ['n_user_turns', 'INTEGER'],
  ['n_tool_results', 'INTEGER'],
  ['n_tools', 'INTEGER'],
  ['tools_sig', 'VARCHAR'],
  ['system_sig', 'VARCHAR'],
  ['harness_sig', 'VARCHAR'],
  ['template_prefix', 'VARCHAR'],
  ['template_suffix', 'VARCHAR'],
  ['template_simhash', 'VARCHAR'],
  ['prompt_hash', 'VARCHAR'],
  ['prompt_chars', 'INTEGER'],
  ['capability', 'VARCHAR'],
  ['elicitation', 'DOUBLE'],
  ['grading', 'BOOLEAN'],
  ['max_tokens', 'DOUBLE'],
  ['thinking_budget', 'DOUBLE'],
  ['stream', 'BOOLEAN'],
  ['input_tokens', 'DOUBLE'],
  ['output_tokens', 'DOUBLE'],
  ['reasoning_tokens', 'DOUBLE'],
  ['status', 'INTEGER'],
  ['prompt_preview', 'VARCHAR'],
];

const NOT_NULL = new Set<keyof ExchangeFeatures>(['id', 'ts', 'account_id', 'model']);

function columnDdl(): string {
  return COLUMNS.map(([name, type]) => `${name} ${type}${NOT_NULL.has(name) ? ' NOT NULL' : ''}`).join(',\n  ');
}

const DDL = `
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS exchanges (
  ${columnDdl()},
  PRIMARY KEY (id)
);
CREATE TABLE IF NOT EXISTS bad_records (
  file VARCHAR NOT NULL, line BIGINT NOT NULL, reason VARCHAR NOT NULL, excerpt VARCHAR,
  recorded_at TIMESTAMP DEFAULT current_timestamp,
  PRIMARY KEY (file, line)
);
CREATE TABLE IF NOT EXISTS ingest_checkpoints (
  source_key VARCHAR PRIMARY KEY, path VARCHAR NOT NULL, line BIGINT NOT NULL, done BOOLEAN NOT NULL,
  updated_at TIMESTAMP DEFAULT current_timestamp
);
CREATE TABLE IF NOT EXISTS scan_reports (
  id INTEGER PRIMARY KEY, generated_at VARCHAR NOT NULL, report VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS campaigns (
  scan_id INTEGER NOT NULL, id VARCHAR NOT NULL, confidence DOUBLE, n_accounts INTEGER, exchanges BIGINT,
  first_seen VARCHAR, last_seen VARCHAR, first_flagged_at VARCHAR, tactics VARCHAR, capabilities VARCHAR,
  indicators VARCHAR, explanation VARCHAR
);
CREATE TABLE IF NOT EXISTS account_verdicts (
  scan_id INTEGER NOT NULL, account_id VARCHAR NOT NULL, risk DOUBLE, verdict VARCHAR, campaign_id VARCHAR,
  first_flagged_at VARCHAR, reasons VARCHAR, exchanges BIGINT
);
`;

export class StoreOpenError extends Error {
  override readonly name = 'StoreOpenError';
}

function appendValue(app: DuckDBAppender, type: ColumnType, v: unknown): void {
  if (v === null || v === undefined) {
    app.appendNull();
    return;
  }
  switch (type) {
    case 'VARCHAR':
      app.appendVarchar(v as string);
      return;
    case 'DOUBLE':
      app.appendDouble(v as number);
      return;
    case 'INTEGER':
      app.appendInteger(v as number);
      return;
    case 'BOOLEAN':
      app.appendBoolean(v as boolean);
      return;
  }
}

class DuckDbStore implements Store {
  private closed = false;
  constructor(
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
  ) {}

  async checkpoint(source: SourceKey): Promise<IngestCheckpoint | null> {
    const r = await this.conn.runAndReadAll('SELECT line, done FROM ingest_checkpoints WHERE source_key = $1', [source.key]);
    const row = r.getRows()[0];
    if (!row) return null;
    return { source, line: Number(row[0]), done: row[1] === true };
  }

  async append(rows: readonly ExchangeFeatures[], bad: readonly BadRecord[], cp: IngestCheckpoint): Promise<AppendOutcome> {
    // Scratch table first: the appender writes outside the transaction below, so a failure
    // here leaves nothing behind in the real tables.
    await this.conn.run('DELETE FROM staging');
    if (rows.length > 0) {
      const app = await this.conn.createAppender('staging');
      try {
        for (const row of rows) {
          for (const [name, type] of COLUMNS) appendValue(app, type, row[name]);
          app.endRow();
        }
        app.flushSync();
      } finally {
        app.closeSync();
      }
    }
    await this.conn.run('BEGIN TRANSACTION');
    try {
      let inserted = 0;
      if (rows.length > 0) {
        const r = await this.conn.run('INSERT OR IGNORE INTO exchanges SELECT * FROM staging');
        inserted = r.rowsChanged;
      }
      for (const b of bad) {
        await this.conn.run('INSERT OR IGNORE INTO bad_records (file, line, reason, excerpt) VALUES ($1, $2, $3, $4)', [b.file, b.line, b.reason, b.excerpt]);
      }
      await this.conn.run(
        'INSERT OR REPLACE INTO ingest_checkpoints (source_key, path, line, done, updated_at) VALUES ($1, $2, $3, $4, current_timestamp)',
        [cp.source.key, cp.source.path, cp.line, cp.done],
      );
      await this.conn.run('COMMIT');
      return { inserted, duplicates: rows.length - inserted };
    } catch (e) {
      await this.conn.run('ROLLBACK');
      throw e;
    } finally {
      await this.conn.run('DELETE FROM staging');
    }
  }

  async *replay(batchSize = 10_000): AsyncIterable<ExchangeFeatures[]> {
    // A streaming result: DuckDB sorts out of core and hands over chunks, so the table is
    // never held whole in JS memory.
    const names = COLUMNS.map(([n]) => n);
    const result = await this.conn.stream(`SELECT ${names.join(', ')} FROM exchanges ORDER BY ts, id`);
    let batch: ExchangeFeatures[] = [];
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const cols = chunk.getColumns();
      const n = chunk.rowCount;
      for (let i = 0; i < n; i++) {
        const row: Record<string, DuckDBValue> = {};
        for (let c = 0; c < names.length; c++) row[names[c]!] = cols[c]![i]!;
        batch.push(row as unknown as ExchangeFeatures);
      }
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  async counts(): Promise<StoreCounts> {
    const r = await this.conn.runAndReadAll(
      'SELECT (SELECT count(*) FROM exchanges), (SELECT count(DISTINCT account_id) FROM exchanges), (SELECT count(*) FROM bad_records)',
    );
    const row = r.getRows()[0]!;
    return { exchanges: Number(row[0]), accounts: Number(row[1]), bad_records: Number(row[2]) };
  }

  async badRecords(limit = 100): Promise<BadRecord[]> {
    const r = await this.conn.runAndReadAll('SELECT file, line, reason, excerpt FROM bad_records ORDER BY file, line LIMIT $1', [limit]);
    return r.getRows().map((row) => ({ file: String(row[0]), line: Number(row[1]), reason: String(row[2]), excerpt: String(row[3] ?? '') }));
  }

  async saveReport(report: ScanReport): Promise<void> {
    await this.conn.run('BEGIN TRANSACTION');
    try {
      const r = await this.conn.runAndReadAll('SELECT coalesce(max(id), 0) + 1 FROM scan_reports');
      const scanId = Number(r.getRows()[0]![0]);
      await this.conn.run('INSERT INTO scan_reports VALUES ($1, $2, $3)', [scanId, report.generated_at, JSON.stringify(report)]);
      // Normalised copies of the latest results, for queries that should not parse JSON.
      await this.conn.run('DELETE FROM campaigns');
      await this.conn.run('DELETE FROM account_verdicts');
      for (const c of report.campaigns) {
        await this.conn.run('INSERT INTO campaigns VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)', [
          scanId, c.id, c.confidence, c.accounts.length, c.exchanges, c.first_seen, c.last_seen, c.first_flagged_at ?? null,
          JSON.stringify(c.tactics), JSON.stringify(c.capabilities), JSON.stringify(c.indicators), c.explanation,
        ]);
      }
      if (report.accounts.length > 0) {
        const app = await this.conn.createAppender('account_verdicts');
        try {
          for (const a of report.accounts) {
            app.appendInteger(scanId);
            app.appendVarchar(a.account_id);
            app.appendDouble(a.risk);
            app.appendVarchar(a.verdict);
            appendValue(app, 'VARCHAR', a.campaign_id ?? null);
            appendValue(app, 'VARCHAR', a.first_flagged_at ?? null);
            app.appendVarchar(JSON.stringify(a.reasons));
            app.appendBigInt(BigInt(a.exchanges));
            app.endRow();
          }
          app.flushSync();
        } finally {
          app.closeSync();
        }
      }
      await this.conn.run('COMMIT');
    } catch (e) {
      await this.conn.run('ROLLBACK');
      throw e;
    }
  }

  async latestReport(): Promise<ScanReport | null> {
    const r = await this.conn.runAndReadAll('SELECT report FROM scan_reports ORDER BY id DESC LIMIT 1');
    const row = r.getRows()[0];
    return row ? (JSON.parse(String(row[0])) as ScanReport) : null;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.conn.closeSync();
    this.instance.closeSync();
  }
}

/**
 * Opens (creating if needed) a DuckDB store at `path` (':memory:' for a throw-away one).
 * @example const store = await openDuckDbStore('distillwatch.duckdb');
 */
export async function openDuckDbStore(path: string): Promise<Store> {
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(path);
  } catch (e) {
    const msg = (e as Error).message;
    const why = /lock/i.test(msg) ? 'it is in use by another process' : /not a valid DuckDB|Unable to open|corrupt|magic/i.test(msg) ? 'it is not a DuckDB database' : msg;
    throw new StoreOpenError(`Cannot open the store "${path}": ${why}`);
  }
  const conn = await instance.connect();
  await conn.run(DDL);
  await conn.run(`CREATE TEMP TABLE IF NOT EXISTS staging AS SELECT * FROM exchanges LIMIT 0`);
  const v = await conn.runAndReadAll('SELECT max(version) FROM schema_version');
  const version = v.getRows()[0]?.[0];
  if (version === null || version === undefined) await conn.run(`INSERT INTO schema_version VALUES (${SCHEMA_VERSION})`);
  else if (Number(version) > SCHEMA_VERSION) {
    conn.closeSync();
    instance.closeSync();
    throw new StoreOpenError(`Cannot open the store "${path}": it was written by a newer DistillWatch (schema ${String(version)})`);
  }
  return new DuckDbStore(instance, conn);
}
