/**
 * The ClickHouse store, through the official `@clickhouse/client`: a server
 * (`clickhouse://user:pass@host:8123/db`) or ClickHouse embedded in this process by chdb
 * (`chdb:///path/dir`), with the same client code and SQL for both.
 *
 * Writes: a batch goes as JSONEachRow text (Buffer chunks) into a staging table of this
 * store's own, then into `exchanges` by one INSERT ... SELECT that leaves out ids already
 * stored (a semi-join in ClickHouse, helped by a bloom filter on id: no index of ids in this
 * process, whatever the store's size). ClickHouse has no transaction across tables, so the
 * batch's rows go first, its bad records next and its checkpoint last: a crash in between
 * leaves rows without their checkpoint, which the ingest sends again and the semi-join
 * ignores. Tables are ReplacingMergeTree and counting reads FINAL, so even rows written
 * twice by racing writers are counted once.
 *
 * Values are always bound query parameters or JSON rows; the only thing spliced into SQL is
 * the database name, checked to be a plain identifier (store/url.ts).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import type { ExchangeFeatures } from '../../core/features.js';
import type { ScanReport } from '../../core/report.js';
import type { CaseDecision, DecisionTarget, NewAuditEntry, NewCaseDecision, RollupInput, SearchKind } from '../casework.js';
import { StoreError } from '../errors.js';
import { rowsOfColumns, type ExchangeColumns } from '../column-batch.js';
import { appendByColumns, badRecordProblem, checkpointProblem, describeValue, EXCHANGE_NAMES, msOf, reportRows } from '../schema.js';
import type { AppendOutcome, BadRecord, BatchWriter, DecisionRecord, IngestCheckpoint, IntelIndicatorRecord, SourceKey, Store, StoreCounts } from '../store.js';
import { BufferedBatch } from '../buffered-batch.js';
import type { StoreLocation } from '../url.js';
import * as casework from './casework.js';
import { EXCHANGE_COLUMNS_DDL, MIGRATIONS, SCHEMA_VERSION } from './schema.js';

export { SCHEMA_VERSION };

export type ClickHouseLocation = Extract<StoreLocation, { kind: 'chdb' | 'clickhouse' }>;

export interface ClickHouseStoreOptions {
  /**
   * Refuses every write with code `read_only` (a dashboard, a report). On a server, give the
   * user a read-only profile too: this only keeps this process from writing.
   * @default false
   */
  readOnly?: boolean;
  /**
   * Exchanges per query of the replay: each page is read in key order after the last row of
   * the one before, so memory holds one page whatever the store's size.
   * @default 50000
   */
  replayPageRows?: number;
}

const NAME_LIST = EXCHANGE_NAMES.join(', ');
/** How a query runner talks to this store; `{db}` in SQL is the store's database. */
export interface Sql {
  rows<T>(query: string, params?: Record<string, unknown>): Promise<T[]>;
  run(query: string, params?: Record<string, unknown>): Promise<void>;
  insertRows(table: string, rows: readonly object[]): Promise<void>;
}

// Int64 as JSON numbers, not strings (every value stored is a safe integer, checked on the
// way in); the same on a server, whose default quotes them, and on chdb.
const SETTINGS: ClickHouseSettings = {
  output_format_json_quote_64bit_integers: 0,
  input_format_skip_unknown_fields: 1,
};
const CHUNK_BYTES = 1 << 20;
const DEFAULT_REPLAY_PAGE_ROWS = 50_000;

/** The chdb folder open in this process and how many stores use it: chdb holds one per process. */
let chdbOpen: { path: string; users: number } | null = null;

function message(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  // ClickHouse appends the stack of the server and a "(version ...)" tail: not for one line.
  return m.split('\n')[0]!.replace(/\s*\(version [^)]*\)\s*$/, '').replace(/\.\s*$/, '').trim();
}

function openError(display: string, e: unknown): StoreError {
  const m = message(e);
  const lead = `Cannot open the store "${display}"`;
  const code = (e as { code?: string }).code;
  if (code === 'ECONNREFUSED' || /ECONNREFUSED/.test(m)) return new StoreError('cannot_open', `${lead}: connection refused`, { cause: e });
  if (code === 'ENOTFOUND') return new StoreError('cannot_open', `${lead}: no such host`, { cause: e });
  if (/Authentication failed|password is incorrect|AUTHENTICATION_FAILED/i.test(m)) return new StoreError('cannot_open', `${lead}: authentication failed`, { cause: e });
  if (/lock|already in use|another/i.test(m) && display.startsWith('chdb:')) return new StoreError('in_use', `${lead}: it is in use by another process`, { cause: e });
  return new StoreError('cannot_open', `${lead}: ${m}`, { cause: e });
}

/** Times as ISO 8601 the way every store prints them (UTC, milliseconds). */
export const isoOf = (ms: number): string => new Date(ms).toISOString();

class ClickHouseStore implements Store, Sql {
  private closed = false;
  private queue: Promise<unknown> = Promise.resolve();
  private reportCache: { id: number; report: ScanReport } | null = null;
  /** The last sequence number handed out (decisions, checkpoints, scans): see nextSeq. */
  private lastSeq = 0;

  constructor(
    private readonly client: ClickHouseClient,
    private readonly display: string,
    private readonly database: string,
    private readonly readOnly: boolean,
    private readonly staging: string | null,
    private readonly replayPageRows: number,
    private readonly onClose: () => void,
  ) {}

  // --- plumbing -----------------------------------------------------------------------

  private sql(query: string): string {
    return query.replaceAll('{db}', `\`${this.database}\``).replaceAll('{staging}', `\`${this.database}\`.\`${this.staging ?? ''}\``);
  }

  async rows<T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
    const rs = await this.client.query({ query: this.sql(query), query_params: params, format: 'JSONEachRow', clickhouse_settings: SETTINGS });
    return rs.json<T>();
  }

  async run(query: string, params: Record<string, unknown> = {}): Promise<void> {
    await this.client.command({ query: this.sql(query), query_params: params, clickhouse_settings: SETTINGS });
  }

  async insertRows(table: string, rows: readonly object[]): Promise<void> {
    if (rows.length === 0) return;
    await this.client.insert({ table: `\`${this.database}\`.\`${table}\``, values: rows as object[], format: 'JSONEachRow', clickhouse_settings: SETTINGS });
  }

  /** Sends the rows as JSON objects, one a line, in Buffer chunks (strings cost about three times more on chdb). */
  private async insertColumns(table: string, cols: ExchangeColumns): Promise<void> {
    const chunks: Buffer[] = [];
    let part: string[] = [];
    let bytes = 0;
    for (const row of rowsOfColumns(cols)) {
      const r = JSON.stringify(row);
      part.push(r);
      bytes += r.length + 1;
      if (bytes >= CHUNK_BYTES) {
        chunks.push(Buffer.from(part.join('\n') + '\n'));
        part = [];
        bytes = 0;
      }
    }
    if (part.length > 0) chunks.push(Buffer.from(part.join('\n') + '\n'));
    const r = await this.client.exec({
      query: `INSERT INTO ${this.sql(table)} FORMAT JSONEachRow`,
      values: Readable.from(chunks, { objectMode: false }),
      clickhouse_settings: SETTINGS,
    });
    r.stream.resume();
    await new Promise<void>((resolve, reject) => {
      r.stream.once('end', resolve).once('close', resolve).once('error', reject);
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      this.assertOpen();
      return fn();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** As serial, and any failure of the engine becomes one printable line naming what failed. */
  private op<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return this.serial(async () => {
      try {
        return await fn();
      } catch (e) {
        if (e instanceof StoreError || e instanceof RangeError) throw e;
        throw new StoreError('rejected', `Cannot ${what} in "${this.display}": ${message(e)}`, { cause: e });
      }
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError('closed', `Cannot use the store "${this.display}": it is closed`);
  }

  private assertWritable(): void {
    if (this.readOnly) throw new StoreError('read_only', `Cannot write to the store "${this.display}": it was opened read-only`);
  }

  /**
   * Increasing numbers that order decisions, audit entries, checkpoints and scans: microseconds
   * of the clock, never less than one above the last handed out (here or, read at open, by an
   * earlier process). ClickHouse has no sequences; two processes writing one store each keep
   * their own order, and a tie across them only decides which of two same-time records is latest.
   */
  nextSeq(): number {
    this.lastSeq = Math.max(this.lastSeq + 1, Date.now() * 1000);
    return this.lastSeq;
  }

  async loadSeq(): Promise<void> {
    const r = await this.rows<{ s: number }>(
      'SELECT greatest((SELECT max(seq) FROM {db}.account_decisions), (SELECT max(seq) FROM {db}.case_decisions), (SELECT max(seq) FROM {db}.audit_log), (SELECT max(seq) FROM {db}.ingest_checkpoints), (SELECT max(id) FROM {db}.scan_reports)) AS s',
    );
    this.lastSeq = Number(r[0]?.s ?? 0);
  }

  // --- ingest -------------------------------------------------------------------------

  checkpoint(source: SourceKey): Promise<IngestCheckpoint | null> {
    return this.op('read a checkpoint', async () => {
      const r = await this.rows<{ path: string; line: number; done: boolean }>(
        'SELECT path, line, done FROM {db}.ingest_checkpoints FINAL WHERE source_key = {key:String}',
        { key: source.key },
      );
      const row = r[0];
      return row ? { source: { key: source.key, path: row.path }, line: Number(row.line), done: row.done === true } : null;
    });
  }

  append(rows: readonly ExchangeFeatures[], bad: readonly BadRecord[], cp: IngestCheckpoint): Promise<AppendOutcome> {
    return appendByColumns(this, rows, bad, cp);
  }

  /** Held whole until the commit: the rows go in with one insert, the checkpoint after them (appendColumns). */
  openBatch(): BatchWriter {
    return new BufferedBatch(this);
  }

  /** A scan's batch is held in this process until it is inserted: 20,000 rows, as every store's batch was before DuckDB's became a row group. */
  readonly batchRows = 20_000;

  appendColumns(rows: ExchangeColumns, bad: readonly BadRecord[], cp: IngestCheckpoint): Promise<AppendOutcome> {
    return this.op(`store a batch of ${rows.length} exchanges`, async () => {
      this.assertWritable();
      // Everything is checked before anything is written: without a transaction, a refused
      // record must keep its batch out by never starting it.
      const cpProblem = checkpointProblem(cp);
      if (cpProblem !== null) throw new StoreError('invalid_value', cpProblem);
      for (const b of bad) {
        const p = badRecordProblem(b);
        if (p !== null) throw new StoreError('invalid_value', p);
      }
      let inserted = 0;
      if (rows.length > 0) {
        await this.run('TRUNCATE TABLE {staging}');
        await this.insertColumns('{staging}', rows);
        // New ids, each once (the first of a batch that repeats one), not already stored.
        const fresh = `FROM {staging} WHERE id NOT IN (SELECT id FROM {db}.exchanges WHERE id IN (SELECT id FROM {staging})) LIMIT 1 BY id`;
        const n = await this.rows<{ n: number }>(`SELECT count() AS n FROM (SELECT id ${fresh}) SETTINGS max_threads = 1`);
        inserted = Number(n[0]?.n ?? 0);
        if (inserted > 0) await this.run(`INSERT INTO {db}.exchanges (${NAME_LIST}) SELECT ${NAME_LIST} ${fresh} SETTINGS max_threads = 1`);
        await this.run('TRUNCATE TABLE {staging}');
      }
      if (bad.length > 0) await this.setAside(bad);
      await this.insertRows('ingest_checkpoints', [{ source_key: cp.source.key, path: cp.source.path, line: cp.line, done: cp.done, updated_at: Date.now(), seq: this.nextSeq() }]);
      return { inserted, duplicates: rows.length - inserted };
    });
  }

  /** Bad records not yet set aside for their file and line, the first of each. */
  private async setAside(bad: readonly BadRecord[]): Promise<void> {
    const key = (file: string, line: number) => `${line}\u0000${file}`;
    const stored = await this.rows<{ file: string; line: number }>('SELECT file, line FROM {db}.bad_records FINAL WHERE file IN {files:Array(String)} AND line IN {lines:Array(Int64)}', {
      files: [...new Set(bad.map((b) => b.file))],
      lines: [...new Set(bad.map((b) => b.line))],
    });
    const seen = new Set(stored.map((r) => key(r.file, Number(r.line))));
    const fresh: object[] = [];
    for (const b of bad) {
      const k = key(b.file, b.line);
      if (seen.has(k)) continue;
      seen.add(k);
      fresh.push({ file: b.file, line: b.line, reason: b.reason, excerpt: b.excerpt });
    }
    await this.insertRows('bad_records', fresh);
  }

  async *replay(batchSize = 10_000): AsyncGenerator<ExchangeFeatures[]> {
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError(`Invalid replay batch size ${batchSize}: expected a whole number above 0`);
    this.assertOpen();
    // Pages in (ts, id) order, each after the last row of the one before: the primary key
    // serves each page, and no result outgrows a page.
    const page = `SELECT * REPLACE (toUnixTimestamp64Milli(ts) AS ts) FROM (
        SELECT ${NAME_LIST} FROM {db}.exchanges FINAL
        WHERE ts >= fromUnixTimestamp64Milli({ts:Int64}, 'UTC') AND (ts > fromUnixTimestamp64Milli({ts:Int64}, 'UTC') OR id > {id:String})
        ORDER BY ts, id LIMIT {n:UInt64})
      ORDER BY ts, id`;
    const first = `SELECT * REPLACE (toUnixTimestamp64Milli(ts) AS ts) FROM (SELECT ${NAME_LIST} FROM {db}.exchanges FINAL ORDER BY ts, id LIMIT {n:UInt64}) ORDER BY ts, id`;
    let batch: ExchangeFeatures[] = [];
    let after: { ts: number; id: string } | null = null;
    for (;;) {
      let rows: ExchangeFeatures[];
      try {
        rows = after === null ? await this.rows<ExchangeFeatures>(first, { n: this.replayPageRows }) : await this.rows<ExchangeFeatures>(page, { ts: after.ts, id: after.id, n: this.replayPageRows });
      } catch (e) {
        if (this.closed) throw new StoreError('closed', `Cannot replay the store "${this.display}": it was closed during the replay`, { cause: e });
        throw new StoreError('rejected', `Cannot replay the store "${this.display}": ${message(e)}`, { cause: e });
      }
      if (this.closed) throw new StoreError('closed', `Cannot replay the store "${this.display}": it was closed during the replay`);
      for (const row of rows) {
        if (after !== null && (row.ts < after.ts || (row.ts === after.ts && row.id <= after.id))) throw new Error(`Replay of "${this.display}" went back in time at exchange "${row.id}"`);
        after = { ts: row.ts, id: row.id };
        batch.push(row);
        if (batch.length === batchSize) {
          yield batch;
          batch = [];
        }
      }
      if (rows.length < this.replayPageRows) break;
    }
    if (batch.length > 0) yield batch;
  }

  sources(): Promise<IngestCheckpoint[]> {
    return this.op('list the ingested sources', async () => {
      const r = await this.rows<{ source_key: string; path: string; line: number; done: boolean }>('SELECT source_key, path, line, done FROM {db}.ingest_checkpoints FINAL ORDER BY seq, path');
      return r.map((row) => ({ source: { key: row.source_key, path: row.path }, line: Number(row.line), done: row.done === true }));
    });
  }

  counts(): Promise<StoreCounts> {
    return this.op('count the stored exchanges', async () => {
      const r = await this.rows<{ exchanges: number; accounts: number; bad: number }>(
        'SELECT count() AS exchanges, uniqExact(account_id) AS accounts, (SELECT count() FROM {db}.bad_records FINAL) AS bad FROM {db}.exchanges FINAL',
      );
      const row = r[0]!;
      return { exchanges: Number(row.exchanges), accounts: Number(row.accounts), bad_records: Number(row.bad) };
    });
  }

  badRecords(limit = 100): Promise<BadRecord[]> {
    if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError(`Invalid limit ${limit}: expected a whole number`);
    return this.op('read the bad records', async () => {
      const r = await this.rows<BadRecord>('SELECT file, line, reason, excerpt FROM {db}.bad_records FINAL ORDER BY file, line LIMIT {n:UInt64}', { n: limit });
      return r.map((b) => ({ file: b.file, line: Number(b.line), reason: b.reason, excerpt: b.excerpt }));
    });
  }

  // --- scan results -------------------------------------------------------------------

  saveReport(report: ScanReport): Promise<void> {
    return this.op('save the scan report', async () => {
      this.assertWritable();
      const scanId = this.nextSeq();
      const { campaigns, verdicts } = reportRows(scanId, report);
      // The report row goes last: it is what makes this scan the latest, so a save cut short
      // leaves rows of a scan no reader takes for the latest.
      await this.insertRows('campaigns', campaigns);
      await this.insertRows('account_verdicts', verdicts);
      await this.insertRows('scan_reports', [{ id: scanId, generated_at: msOf(report.generated_at), saved_at: Date.now(), report: JSON.stringify(report) }]);
    });
  }

  latestReport(): Promise<ScanReport | null> {
    return this.op('read the latest report', async () => {
      const head = await this.rows<{ id: number }>('SELECT id FROM {db}.scan_reports ORDER BY id DESC LIMIT 1');
      if (head.length === 0) return null;
      const id = Number(head[0]!.id);
      if (this.reportCache?.id === id) return this.reportCache.report;
      const r = await this.rows<{ report: string }>('SELECT report FROM {db}.scan_reports WHERE id = {id:UInt64}', { id });
      const report = JSON.parse(r[0]!.report) as ScanReport;
      this.reportCache = { id, report };
      return report;
    });
  }

  // --- decisions and intel ------------------------------------------------------------

  recordDecision(d: DecisionRecord, audit?: NewAuditEntry): Promise<void> {
    return this.op(`record the decision on "${d.accountId}"`, async () => {
      this.assertWritable();
      const at = msOf(d.at);
      if (at === null) throw new StoreError('invalid_value', `Cannot record the decision on "${d.accountId}": "at" is ${describeValue(d.at)}, expected an ISO 8601 time`);
      // No transaction across tables: the audit entry first, so that no change is ever
      // without its entry (an entry whose change failed says so by its absence from history).
      if (audit) await casework.insertAudit(this, this.nextSeq(), audit);
      await this.insertRows('account_decisions', [
        {
          seq: this.nextSeq(),
          account_id: d.accountId,
          decided_at: at,
          actor: d.actor,
          origin: d.origin,
          before_override: d.before.override,
          before_blocked: d.before.blocked,
          after_override: d.after.override,
          after_blocked: d.after.blocked,
        },
      ]);
    });
  }

  private static readonly DECISION_SELECT =
    'SELECT account_id, toUnixTimestamp64Milli(decided_at) AS at, actor, origin, before_override, before_blocked, after_override, after_blocked FROM {db}.account_decisions FINAL';

  private static decision(r: DecisionRow): DecisionRecord {
    return {
      accountId: r.account_id,
      at: isoOf(Number(r.at)),
      actor: r.actor,
      origin: r.origin,
      before: { override: r.before_override, blocked: r.before_blocked === true },
      after: { override: r.after_override, blocked: r.after_blocked === true },
    };
  }

  currentDecisions(): Promise<DecisionRecord[]> {
    return this.op('read the current decisions', async () => {
      const r = await this.rows<DecisionRow>(`${ClickHouseStore.DECISION_SELECT} ORDER BY account_id, seq DESC LIMIT 1 BY account_id`);
      return r.map(ClickHouseStore.decision);
    });
  }

  decisionHistory(accountId: string): Promise<DecisionRecord[]> {
    return this.op(`read the decisions on "${accountId}"`, async () => {
      const r = await this.rows<DecisionRow>(`${ClickHouseStore.DECISION_SELECT} WHERE account_id = {a:String} ORDER BY seq`, { a: accountId });
      return r.map(ClickHouseStore.decision);
    });
  }

  importIntel(records: readonly IntelIndicatorRecord[]): Promise<AppendOutcome> {
    return this.op('store the imported indicators', async () => {
      this.assertWritable();
      const key = (b: string, i: string, k: string) => `${b}\u0000${i}\u0000${k}`;
      const stored = await this.rows<{ bundle_id: string; indicator_id: string; match_key: string }>(
        'SELECT bundle_id, indicator_id, match_key FROM {db}.intel_indicators FINAL WHERE bundle_id IN {b:Array(String)}',
        { b: [...new Set(records.map((r) => r.bundleId))] },
      );
      const seen = new Set(stored.map((r) => key(r.bundle_id, r.indicator_id, r.match_key)));
      const fresh: object[] = [];
      for (const r of records) {
        // An empty key stands for "none", as in DuckDB, where the key is part of the primary key.
        const k = key(r.bundleId, r.indicatorId, r.key ?? '');
        if (seen.has(k)) continue;
        seen.add(k);
        fresh.push({ bundle_id: r.bundleId, producer: r.producer, indicator_id: r.indicatorId, match_key: r.key ?? '', pattern: r.pattern, confidence: r.confidence, valid_from: r.validFrom });
      }
      await this.insertRows('intel_indicators', fresh);
      return { inserted: fresh.length, duplicates: records.length - fresh.length };
    });
  }

  intelIndicators(): Promise<IntelIndicatorRecord[]> {
    return this.op('read the imported indicators', async () => {
      const r = await this.rows<{ bundle_id: string; producer: string; indicator_id: string; match_key: string; pattern: string; confidence: number | null; valid_from: string | null }>(
        'SELECT bundle_id, producer, indicator_id, match_key, pattern, confidence, valid_from FROM {db}.intel_indicators FINAL ORDER BY bundle_id, indicator_id, match_key',
      );
      return r.map((row) => ({
        bundleId: row.bundle_id,
        producer: row.producer,
        indicatorId: row.indicator_id,
        key: row.match_key === '' ? null : row.match_key,
        pattern: row.pattern,
        confidence: row.confidence === null ? null : Number(row.confidence),
        validFrom: row.valid_from,
      }));
    });
  }

  // --- casework (the SQL lives in clickhouse/casework.ts) ------------------------------

  recordCaseDecision(d: NewCaseDecision, audit: NewAuditEntry): Promise<CaseDecision> {
    return this.op(`record the decision on ${d.target.kind} "${d.target.id}"`, async () => {
      this.assertWritable();
      await casework.insertAudit(this, this.nextSeq(), audit);
      return casework.insertCaseDecision(this, this.nextSeq(), d);
    });
  }

  caseDecisions() {
    return this.op('read the case decisions', () => casework.selectCaseDecisions(this));
  }

  auditLog(opts: { target?: DecisionTarget; limit: number; offset: number }) {
    return this.op('read the audit log', () => casework.selectAudit(this, opts));
  }

  accountExchanges(accountId: string, opts: { limit: number; offset: number }) {
    return this.op(`read the exchanges of "${accountId}"`, () => casework.selectAccountExchanges(this, accountId, opts));
  }

  hourlyActivity(accountIds: readonly string[]) {
    return this.op('count exchanges per hour', () => casework.selectHourlyActivity(this, accountIds));
  }

  hourlyTotals() {
    return this.op('count exchanges per hour', () => casework.selectHourlyTotals(this));
  }

  hourlyCapabilities(accountIds: readonly string[]) {
    return this.op('count capabilities per hour', () => casework.selectHourlyCapabilities(this, accountIds));
  }

  indicatorHoldings(accountIds: readonly string[], indicators: readonly { kind: SearchKind; value: string }[]) {
    return this.op('find who holds the indicators', () => casework.selectIndicatorHoldings(this, accountIds, indicators));
  }

  indicatorHolders(kind: SearchKind, value: string, limit: number) {
    return this.op('find who holds the indicator', () => casework.selectIndicatorHolders(this, kind, value, limit));
  }

  hasAccount(accountId: string) {
    return this.op(`look up "${accountId}"`, () => casework.accountExists(this, accountId));
  }

  saveRollup(input: RollupInput): Promise<void> {
    return this.op('save the rollup', async () => {
      this.assertWritable();
      await casework.replaceRollup(this, input);
    });
  }

  rolledTimeline(generatedAt: string, campaignId: string) {
    return this.op('read the rollup', () => casework.selectRolledTimeline(this, generatedAt, campaignId));
  }

  rolledTotals(generatedAt: string) {
    return this.op('read the rollup', () => casework.selectRolledTotals(this, generatedAt));
  }

  rolledGraph(generatedAt: string, campaignId: string) {
    return this.op('read the rollup', () => casework.selectRolledGraph(this, generatedAt, campaignId));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.queue;
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.staging !== null) await this.run('DROP TABLE IF EXISTS {staging}').catch(() => undefined);
      await this.client.close();
    } finally {
      this.onClose();
    }
  }
}

interface DecisionRow {
  account_id: string;
  at: number;
  actor: string;
  origin: string;
  before_override: string | null;
  before_blocked: boolean;
  after_override: string | null;
  after_blocked: boolean;
}

/** Brings the database to the latest schema, or refuses one written by a newer DistillWatch. */
async function migrate(s: ClickHouseStore, display: string, database: string, readOnly: boolean): Promise<void> {
  const has = await s.rows<{ n: number }>("SELECT count() AS n FROM system.tables WHERE database = {d:String} AND name = 'schema_migrations'", { d: database });
  if (Number(has[0]?.n ?? 0) === 0) {
    if (readOnly) throw new StoreError('not_a_store', `Cannot open the store "${display}": database "${database}" holds no DistillWatch store`);
    const tables = await s.rows<{ n: number }>('SELECT count() AS n FROM system.tables WHERE database = {d:String}', { d: database });
    if (Number(tables[0]?.n ?? 0) > 0) throw new StoreError('not_a_store', `Cannot open the store "${display}": database "${database}" holds other tables but no DistillWatch store`);
    await s.run("CREATE TABLE IF NOT EXISTS {db}.schema_migrations (version UInt32, description String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) ENGINE = MergeTree ORDER BY version");
  }
  const v = await s.rows<{ v: number }>('SELECT max(version) AS v FROM {db}.schema_migrations');
  const found = Number(v[0]?.v ?? 0);
  if (found > SCHEMA_VERSION) {
    throw new StoreError('newer_schema', `Cannot open the store "${display}": it was written by a newer DistillWatch (schema ${found}, this one knows up to ${SCHEMA_VERSION})`);
  }
  if (readOnly) {
    if (found < SCHEMA_VERSION) throw new StoreError('cannot_open', `Cannot open the store "${display}" read-only: its schema (${found}) is older than this DistillWatch's (${SCHEMA_VERSION}); open it once for writing to migrate it`);
    return;
  }
  for (const m of MIGRATIONS) {
    if (m.version <= found) continue;
    for (const statement of m.statements) await s.run(statement);
    await s.insertRows('schema_migrations', [{ version: m.version, description: m.description }]);
  }
}

/** The store's URL as printed: never the password. */
function displayOf(loc: ClickHouseLocation): string {
  return loc.kind === 'chdb' ? `chdb://${loc.path}${loc.database === 'distillwatch' ? '' : `?database=${loc.database}`}` : `${loc.secure ? 'clickhouses' : 'clickhouse'}://${loc.username}@${loc.url.replace(/^https?:\/\//, '')}/${loc.database}`;
}

async function chdbClient(loc: Extract<ClickHouseLocation, { kind: 'chdb' }>, display: string, readOnly: boolean): Promise<ClickHouseClient> {
  if (readOnly && !existsSync(loc.path)) throw new StoreError('cannot_open', `Cannot open the store "${display}": no such folder`);
  if (chdbOpen !== null && chdbOpen.path !== loc.path) {
    throw new StoreError('in_use', `Cannot open the store "${display}": this process already has the chdb store "${chdbOpen.path}" open, and chdb holds one folder per process`);
  }
  let modules: [typeof import('@clickhouse/client'), typeof import('chdb/connection')];
  try {
    modules = await Promise.all([import('@clickhouse/client'), import('chdb/connection')]);
  } catch (e) {
    throw new StoreError('cannot_open', `Cannot open the store "${display}": the chdb package cannot load (${message(e)}); install it with npm install chdb`, { cause: e });
  }
  try {
    mkdirSync(loc.path, { recursive: true });
  } catch (e) {
    throw new StoreError('cannot_open', `Cannot open the store "${display}": cannot make its folder (${message(e)})`, { cause: e });
  }
  const [{ createClient }, { createChdbConnection }] = modules;
  try {
    // chdb types its connection against its own copy of @clickhouse/client-common; the
    // shapes are the same (that is its promise), the declarations are not one.
    type Connection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;
    return createClient({ connection: createChdbConnection({ path: loc.path }) as unknown as Connection });
  } catch (e) {
    throw openError(display, e);
  }
}

function serverClient(createClient: typeof import('@clickhouse/client').createClient, loc: Extract<ClickHouseLocation, { kind: 'clickhouse' }>): ClickHouseClient {
  return createClient({ url: loc.url, username: loc.username, password: loc.password, request_timeout: 300_000, max_open_connections: 4 });
}

/** Drops the store's database and everything in it (`scan --fresh`); nothing when there is none. */
export async function dropClickHouseStore(loc: ClickHouseLocation): Promise<void> {
  const display = displayOf(loc);
  const client = loc.kind === 'chdb' ? await chdbClient(loc, display, false) : serverClient((await import('@clickhouse/client')).createClient, loc);
  try {
    await client.command({ query: `DROP DATABASE IF EXISTS \`${loc.database}\`` });
  } catch (e) {
    throw openError(display, e);
  } finally {
    await client.close();
  }
}

/**
 * Opens a ClickHouse store, creating its database and tables (versioned migrations) unless
 * read-only. Fails with a StoreError of one printable line.
 *
 * @example
 * const store = await openClickHouseStore({ kind: 'chdb', path: '/var/lib/distillwatch', database: 'distillwatch' });
 */
export async function openClickHouseStore(loc: ClickHouseLocation, opts: ClickHouseStoreOptions = {}): Promise<Store> {
  const display = displayOf(loc);
  const readOnly = opts.readOnly ?? false;
  const pageRows = opts.replayPageRows ?? DEFAULT_REPLAY_PAGE_ROWS;
  if (!Number.isSafeInteger(pageRows) || pageRows < 1) throw new StoreError('cannot_open', `Cannot open the store "${display}": ${pageRows} rows per replay page is not a whole number of at least 1`);
  let client: ClickHouseClient;
  let release = (): void => undefined;
  if (loc.kind === 'chdb') {
    client = await chdbClient(loc, display, readOnly);
    chdbOpen = chdbOpen ?? { path: loc.path, users: 0 };
    chdbOpen.users++;
    release = () => {
      if (chdbOpen && --chdbOpen.users === 0) chdbOpen = null;
    };
  } else {
    client = serverClient((await import('@clickhouse/client')).createClient, loc);
  }
  const staging = readOnly ? null : `exchange_staging_${randomBytes(6).toString('hex')}`;
  const store = new ClickHouseStore(client, display, loc.database, readOnly, staging, pageRows, release);
  try {
    if (loc.kind === 'clickhouse') {
      const ping = await client.ping();
      if (!ping.success) throw openError(display, ping.error);
    }
    if (!readOnly) await store.run('CREATE DATABASE IF NOT EXISTS {db}');
    else {
      const db = await store.rows<{ n: number }>('SELECT count() AS n FROM system.databases WHERE name = {d:String}', { d: loc.database });
      if (Number(db[0]?.n ?? 0) === 0) throw new StoreError('not_a_store', `Cannot open the store "${display}": there is no database "${loc.database}"`);
    }
    await migrate(store, display, loc.database, readOnly);
    // A staging table of this store's own (Memory, never on disk): a batch is sent there and
    // moved into `exchanges` by one INSERT ... SELECT that leaves out stored ids.
    if (staging !== null) await store.run(`CREATE TABLE {staging} (${EXCHANGE_COLUMNS_DDL}) ENGINE = Memory`);
    await store.loadSeq();
    return store;
  } catch (e) {
    await store.close().catch(() => undefined);
    if (e instanceof StoreError) throw e;
    throw openError(display, e);
  }
}
