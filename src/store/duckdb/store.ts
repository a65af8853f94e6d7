/**
 * The embedded store: one DuckDB file, no server.
 *
 * Writes: a batch goes through DuckDB's appender as data chunks (chunk-append.ts), straight
 * into `exchanges` when it is later than every stored row, else into a temporary table from
 * which only the exchanges not stored yet are inserted; all inside one transaction with the
 * bad records and the checkpoint, so that a killed ingest leaves either a whole batch or
 * none and a re-ingest stores nothing twice.
 *
 * Reads: replay sorts in DuckDB (which spills to disk when the table outgrows memory) and
 * streams the result on a connection of its own, so the table is never held whole in JS and
 * writes on the main connection can go on meanwhile.
 */
import { realpathSync } from 'node:fs';
import { totalmem } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import {
  DuckDBInstance,
  DuckDBTimestampTZValue,
  LIST,
  VARCHAR,
  type DuckDBAppender,
  type DuckDBConnection,
} from '@duckdb/node-api';
import type { ExchangeFeatures } from '../../core/features.js';
import type { AccountReport, CampaignReport, ScanReport } from '../../core/report.js';
import { StoreError } from '../errors.js';
import { appendChunks, CHUNK_ROWS, type ChunkLayout } from './chunk-append.js';
import { PreviewBook, previewOf, type BatchPreviews } from './previews.js';
import { concatColumns, idsOf, previewsOf, sliceColumns, timesOf, type ExchangeColumns } from '../column-batch.js';
import * as casework from './casework.js';
import type { CaseDecision, DecisionTarget, NewAuditEntry, NewCaseDecision, RollupInput, SearchKind } from '../casework.js';
import { appendByColumns, checkpointProblem, describeValue, EXCHANGE_KINDS, EXCHANGE_NAMES, type Kind } from '../schema.js';
import type { AppendOutcome, BadRecord, BatchWriter, DecisionRecord, EngineMemory, IngestCheckpoint, IntelIndicatorRecord, SourceKey, Store, StoreCounts } from '../store.js';

/**
 * Bumped whenever the tables change shape; a store written by a newer schema is refused.
 * 2: `exchanges` has no index on `id` (see INSERT_NEW_EXCHANGES); stores of schema 1 keep theirs.
 * 3: prompt previews kept once each in `prompt_previews`, named by `exchanges.preview_sig`
 *    (previews.ts); older rows keep theirs in `exchanges.prompt_preview`, and readers take either.
 */
export const SCHEMA_VERSION = 3;

export interface DuckDbStoreOptions {
  /**
   * Opens the file without write access, so that several readers (a report server, a
   * dashboard) can share it while no ingest runs. Writes then fail with code `read_only`.
   * @default false
   */
  readOnly?: boolean;
  /**
   * DuckDB's memory budget (its buffer pool and sorts; beyond it, sorts and scans spill to
   * a temp folder beside the file). DuckDB's own default is 80% of the machine, which it
   * then fills with cached blocks: the scan's resident memory grew with the file for no gain.
   * A schema 1 store keeps a primary-key index on `id` that must stay in memory, so there
   * the budget grows with the stored exchanges (a fixed 1 GB ran out before 5M).
   * @default 768MB; for a schema 1 store, plus 96 bytes per stored exchange (the id index), at most half the machine
   */
  memoryLimit?: string;
  /**
   * DuckDB's worker threads. The scan's own threads (reading, features, detection) already
   * use the cores, so more DuckDB threads only contend with them and each holds its own
   * sort and insert buffers.
   * @default 2
   */
  threads?: number;
  /**
   * Exchanges per window of the event-time replay (see REPLAY_WINDOW_SQL): each window is
   * sorted on its own, so this bounds the replay's sort memory.
   * @default 100000
   */
  replayWindowRows?: number;
}

const NAMES = EXCHANGE_NAMES;
const KINDS = EXCHANGE_KINDS;
const NAME_LIST = NAMES.join(', ');

const SQL_TYPE: Record<Kind, string> = {
  text: 'VARCHAR NOT NULL',
  'text?': 'VARCHAR',
  int32: 'INTEGER NOT NULL',
  'int32?': 'INTEGER',
  int64: 'BIGINT NOT NULL',
  'int64?': 'BIGINT',
  float: 'DOUBLE NOT NULL',
  bool: 'BOOLEAN NOT NULL',
  'bool?': 'BOOLEAN',
};

function exchangeColumnsDdl(withConstraints: boolean): string {
  return NAMES.map((n, i) => {
    const type = SQL_TYPE[KINDS[i]!];
    // No PRIMARY KEY: its index is held in memory whole, ~60 bytes an exchange (see INSERT_NEW_EXCHANGES).
    if (n === 'id') return withConstraints ? 'id VARCHAR NOT NULL' : 'id VARCHAR';
    return `${n} ${withConstraints ? type : type.replace(' NOT NULL', '')}`;
  }).join(',\n  ');
}

const SCHEMA_DDL = `
CREATE TABLE IF NOT EXISTS schema_version (
  version INTEGER NOT NULL,
  applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS exchanges (
  ${exchangeColumnsDdl(true)},
  ingested_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  preview_sig VARCHAR
);
CREATE TABLE IF NOT EXISTS prompt_previews (
  sig VARCHAR NOT NULL,
  preview VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS bad_records (
  file VARCHAR NOT NULL,
  line BIGINT NOT NULL,
  reason VARCHAR NOT NULL,
  excerpt VARCHAR NOT NULL,
  recorded_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (file, line)
);
CREATE TABLE IF NOT EXISTS ingest_checkpoints (
  source_key VARCHAR PRIMARY KEY,
  path VARCHAR NOT NULL,
  line BIGINT NOT NULL,
  done BOOLEAN NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS scan_reports (
  id BIGINT PRIMARY KEY,
  generated_at TIMESTAMPTZ,
  saved_at TIMESTAMPTZ NOT NULL,
  report JSON NOT NULL
);
CREATE TABLE IF NOT EXISTS campaigns (
  scan_id BIGINT NOT NULL,
  id VARCHAR NOT NULL,
  confidence DOUBLE NOT NULL,
  n_accounts INTEGER NOT NULL,
  accounts VARCHAR[] NOT NULL,
  exchanges BIGINT NOT NULL,
  first_seen TIMESTAMPTZ,
  last_seen TIMESTAMPTZ,
  first_flagged_at TIMESTAMPTZ,
  tactics VARCHAR[] NOT NULL,
  capabilities JSON NOT NULL,
  indicators JSON NOT NULL,
  links JSON NOT NULL,
  explanation VARCHAR NOT NULL
);
CREATE SEQUENCE IF NOT EXISTS account_decision_seq;
CREATE TABLE IF NOT EXISTS account_decisions (
  seq BIGINT PRIMARY KEY DEFAULT nextval('account_decision_seq'),
  account_id VARCHAR NOT NULL,
  decided_at TIMESTAMPTZ NOT NULL,
  actor VARCHAR NOT NULL,
  origin VARCHAR NOT NULL,
  before_override VARCHAR,
  before_blocked BOOLEAN NOT NULL,
  after_override VARCHAR,
  after_blocked BOOLEAN NOT NULL
);
CREATE TABLE IF NOT EXISTS intel_indicators (
  bundle_id VARCHAR NOT NULL,
  producer VARCHAR NOT NULL,
  indicator_id VARCHAR NOT NULL,
  match_key VARCHAR NOT NULL,
  pattern VARCHAR NOT NULL,
  confidence INTEGER,
  valid_from VARCHAR,
  imported_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (bundle_id, indicator_id, match_key)
);
CREATE TABLE IF NOT EXISTS account_verdicts (
  scan_id BIGINT NOT NULL,
  account_id VARCHAR NOT NULL,
  risk DOUBLE NOT NULL,
  verdict VARCHAR NOT NULL,
  campaign_id VARCHAR,
  first_flagged_at TIMESTAMPTZ,
  reasons JSON NOT NULL,
  exchanges BIGINT NOT NULL
);
`;

// Per connection and never written to disk. Without constraints: the real tables check them,
// inside the transaction, so a rejected row rolls the whole batch back.
const STAGING_DDL = `
CREATE TEMP TABLE exchange_batch (n BIGINT, ${exchangeColumnsDdl(false)}, preview_sig VARCHAR);
CREATE TEMP TABLE exchange_parts (${exchangeColumnsDdl(false)}, ingested_at TIMESTAMPTZ, preview_sig VARCHAR);
CREATE TEMP TABLE bad_record_staging (file VARCHAR, line BIGINT, reason VARCHAR, excerpt VARCHAR);
`;

/**
 * A re-ingest must never count an exchange twice. Schema 1 did it with a primary key on `id`,
 * whose index DuckDB holds in memory whole (about 60 bytes an exchange): the one part of a
 * scan's memory that grew with the store. Now the batch is anti-joined with the stored rows
 * of its own time span ($1..$2, constants, so DuckDB's zone maps on `ts` skip every row group
 * outside it): an exchange is its id at its event time, which a re-ingest or a replayed
 * gateway log repeats exactly. Logs come roughly in time order, so a batch's span holds a few
 * row groups, and nothing held grows with the store. Within a batch the first of an id wins.
 */
const INSERT_NEW_EXCHANGES = `INSERT INTO exchanges (${NAME_LIST}, preview_sig) SELECT ${NAMES.map((n) => `b.${n}`).join(', ')}, b.preview_sig FROM exchange_batch b
  WHERE NOT EXISTS (SELECT 1 FROM exchanges e WHERE e.ts BETWEEN $1 AND $2 AND e.id = b.id AND e.ts = b.ts)
  QUALIFY row_number() OVER (PARTITION BY b.id ORDER BY b.n) = 1`;
/** Schema 1 stores, whose `id` is a primary key: the index decides, as it always did there. */
const INSERT_EXCHANGES_KEYED = `INSERT OR IGNORE INTO exchanges (${NAME_LIST}, preview_sig) SELECT ${NAME_LIST}, preview_sig FROM exchange_batch ORDER BY n`;
/** A batch's parts, staged as they came (`openBatch`), into the table in one statement. */
const INSERT_PARTS = `INSERT INTO exchanges (${NAME_LIST}, ingested_at, preview_sig) SELECT ${NAME_LIST}, ingested_at, preview_sig FROM exchange_parts`;
/** The same, the first of each id in the order staged: parts that overlap in time may repeat one. */
const INSERT_FIRST_PARTS = `${INSERT_PARTS} QUALIFY row_number() OVER (PARTITION BY id ORDER BY rowid) = 1`;
/** The same, and none stored already in the batch's span (as INSERT_NEW_EXCHANGES). */
const INSERT_NEW_PARTS = `INSERT INTO exchanges (${NAME_LIST}, ingested_at, preview_sig) SELECT ${NAMES.map((n) => `p.${n}`).join(', ')}, p.ingested_at, p.preview_sig FROM exchange_parts p
  WHERE NOT EXISTS (SELECT 1 FROM exchanges e WHERE e.ts BETWEEN $1 AND $2 AND e.id = p.id AND e.ts = p.ts)
  QUALIFY row_number() OVER (PARTITION BY p.id ORDER BY p.rowid) = 1`;
/** Schema 1 stores, whose `id` is a primary key. */
const INSERT_PARTS_KEYED = `INSERT OR IGNORE INTO exchanges (${NAME_LIST}, ingested_at, preview_sig) SELECT ${NAME_LIST}, ingested_at, preview_sig FROM exchange_parts ORDER BY rowid`;
const INSERT_BAD = `INSERT OR IGNORE INTO bad_records (file, line, reason, excerpt) SELECT file, line, reason, excerpt FROM bad_record_staging`;
const UPSERT_CHECKPOINT = `INSERT OR REPLACE INTO ingest_checkpoints (source_key, path, line, done, updated_at) VALUES ($1, $2, $3, $4, now())`;

// The JSON is built after the sort, so the sort carries the typed columns rather than a wide
// string (a fifth of the memory, measured); one string per row is far cheaper to bring into
// JS than forty separate values (about twice the rows per second of reading the column
// vectors). DuckDB keeps the order of a sorted subquery through a plain projection; replay
// still checks it, since the engine's windows rely on it.
//
// The replay runs window by window of event time (boundaries from approximate quantiles of
// \`ts\`, one streaming pass): each window's sort holds a bounded number of rows, whatever the
// store's size, where one ORDER BY over the whole table held (or spilled) all of it. Windows
// are half-open [from, to), the last one closed, so every row falls in exactly one.
const REPLAY_WINDOW_SQL = (last: boolean, previewsApart: boolean): string =>
  `SELECT to_json(struct_pack(${NAME_LIST}))::VARCHAR FROM (SELECT ${NAMES.map((n) => (n === 'prompt_preview' ? `${previewOf('e', previewsApart)} AS prompt_preview` : `e.${n}`)).join(', ')}
   FROM exchanges e WHERE e.ts >= $1 AND e.ts ${last ? '<=' : '<'} $2 ORDER BY e.ts, e.id)`;

/**
 * Rows per replay window, roughly: enough to amortise a window's scan of the table (zone
 * maps on `ts` skip most of it), few enough that the sort is small: the detect phase's peak
 * RSS on 210k exchanges went from 907 MB in one window to 698 MB in windows of this size.
 */
const DEFAULT_REPLAY_WINDOW_ROWS = 100_000;

const DECISION_SELECT =
  "SELECT account_id, strftime(decided_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ'), actor, origin, before_override, before_blocked, after_override, after_blocked FROM account_decisions";

function decisionRow(row: unknown[]): DecisionRecord {
  const text = (v: unknown) => (v === null ? null : String(v));
  return {
    accountId: String(row[0]),
    at: String(row[1]),
    actor: String(row[2]),
    origin: String(row[3]),
    before: { override: text(row[4]), blocked: row[5] === true },
    after: { override: text(row[6]), blocked: row[7] === true },
  };
}

// ---------------------------------------------------------------------------------------

interface TimeSpan {
  min: number;
  max: number;
}

function timeSpan(ts: Float64Array): TimeSpan {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i]!;
    if (t < min) min = t;
    if (t > max) max = t;
  }
  return { min, max };
}

/** The layout of rows going into `exchanges` (or staged for it), ingested now. */
const storedNow = (): ChunkLayout => ({ kind: 'stored', ingestedAt: new DuckDBTimestampTZValue(BigInt(Date.now()) * 1000n) });

/** A batch being written part by part (`openBatch`). */
interface OpenBatch {
  /** Its transaction is open. */
  begun: boolean;
  /** Committed or dropped: it takes nothing more. */
  ended: boolean;
  /** The failure of a part: the batch was rolled back, and fails from then on. */
  failure: StoreError | null;
  rows: number;
  /** Rows inserted into `exchanges`. */
  inserted: number;
  /** Rows staged in `exchange_parts`, not inserted yet (stagePart). */
  staged: number;
  /** Parts added and not staged yet: staged in whole data chunks (stageWaiting). */
  waiting: ExchangeColumns[];
  /** Their preview signatures, part by part. */
  waitingSigs: (string | null)[][];
  waitingRows: number;
  /** The times of the parts added. */
  span: TimeSpan;
  /** A part began no later than the latest stored exchange (or the store keys ids, schema 1). */
  overlapsStored: boolean;
  /** A part began no later than the end of the parts before it. */
  overlapsItself: boolean;
  /**
   * The appender that stages the parts, open until they are inserted: it holds them in
   * DuckDB's memory and hands them to the table in one flush. A flush per part of a few
   * hundred rows took 30% of the scan's thread (8 s of the medium scenario).
   */
  appender: DuckDBAppender | null;
  /** The store's latest time before the batch, put back if it is rolled back. */
  latestBefore: number;
  /** Each part's previews, known stored once the batch commits. */
  previews: BatchPreviews[];
  /** Signatures of the previews the batch stores: each stored by the first part that brings it. */
  previewSigs: Set<string>;
}

/** The rows to store of a batch, the first of each id in batch order (a batch that repeats an id stores its first); null when that is every row. */
function firstOfEachId(ids: readonly string[]): Int32Array | null {
  const seen = new Set<string>();
  const pick = new Int32Array(ids.length);
  let n = 0;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (seen.has(id)) continue;
    seen.add(id);
    pick[n++] = i;
  }
  return n === ids.length ? null : pick.subarray(0, n);
}

function timestampTz(iso: string | undefined): DuckDBTimestampTZValue | null {
  if (iso === undefined) return null;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? new DuckDBTimestampTZValue(BigInt(ms) * 1000n) : null;
}

function appendTimestampTz(app: DuckDBAppender, iso: string | undefined): void {
  const v = timestampTz(iso);
  if (v) app.appendTimestampTZ(v);
  else app.appendNull();
}

function appendNullableVarchar(app: DuckDBAppender, v: string | undefined): void {
  if (v === undefined) app.appendNull();
  else app.appendVarchar(v);
}

function dbMessage(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  // DuckDB prefixes its class of error and sometimes adds a documentation link: neither helps
  // the person reading one line.
  return msg
    .replace(/^[A-Za-z ]+ Error: /, '')
    .replace(/\s*See also https?:\/\/\S+/, '')
    .trim();
}

/**
 * How much write-ahead log may gather before DuckDB folds it into the file. The default
 * (16 MB) checkpoints after nearly every ingest batch of 20k-50k rows, and each checkpoint
 * recompresses the table's open row groups: raising it made ingest about a fifth faster
 * (measured on 1M exchanges), for a WAL of at most this size to fold in at close or after a crash.
 */
const CHECKPOINT_THRESHOLD = '256MB';

/**
 * Rows appended between the checkpoints the store asks for itself: one DuckDB row group.
 * Until a checkpoint, appended rows sit in memory uncompressed (about 1 KB an exchange):
 * with only the WAL threshold above to fold them in, a scan's resident memory grew with its
 * exchanges up to a quarter of a million of them. A checkpoint every row group writes each
 * one compressed about once, where the threshold's 16 MB default rewrote the open row
 * group after nearly every batch.
 */
const CHECKPOINT_EVERY_ROWS = 122_880;

/** What DuckDB may keep cached right after a checkpoint of ingested rows (see dropCachedBlocks). */
const EVICT_TO_BYTES = 32 * 2 ** 20;

/** Databases this process has open, by real path: DuckDB's file lock only keeps other processes out. */
const openInThisProcess = new Set<string>();

/** The same string for every spelling of one file, whether or not the file exists yet. */
function canonicalPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    try {
      return join(realpathSync(dirname(resolve(path))), basename(path));
    } catch {
      return resolve(path);
    }
  }
}

function openError(path: string, e: unknown): StoreError {
  const msg = dbMessage(e);
  const lead = `Cannot open the store "${path}"`;
  if (/Could not set lock|Conflicting lock/i.test(msg)) {
    const pid = /PID (\d+)/.exec(msg)?.[1];
    return new StoreError('in_use', `${lead}: it is in use by another process${pid ? ` (PID ${pid})` : ''}`, { cause: e });
  }
  if (/not a valid DuckDB database/i.test(msg)) return new StoreError('not_a_store', `${lead}: it is not a DuckDB database`, { cause: e });
  if (/read-only mode: database does not exist/i.test(msg)) return new StoreError('cannot_open', `${lead}: no such file`, { cause: e });
  if (/Is a directory/i.test(msg)) return new StoreError('cannot_open', `${lead}: it is a folder`, { cause: e });
  if (/No such file or directory/i.test(msg)) return new StoreError('cannot_open', `${lead}: its folder does not exist`, { cause: e });
  if (/Permission denied/i.test(msg)) return new StoreError('cannot_open', `${lead}: permission denied`, { cause: e });
  return new StoreError('cannot_open', `${lead}: ${msg}`, { cause: e });
}

/**
 * The replay's window boundaries in event time, ascending and distinct: the first is the
 * smallest \`ts\`, the last the largest, none when the table is empty. Quantiles are
 * approximate, which only moves where windows split, never which rows they hold.
 */
async function replayWindows(conn: DuckDBConnection, windowRows: number): Promise<number[]> {
  const r = await conn.runAndReadAll('SELECT count(*), min(ts), max(ts) FROM exchanges');
  const [n, lo, hi] = r.getRows()[0]!.map((v) => (v === null ? null : Number(v)));
  if (!n || lo === null || lo === undefined || hi === null || hi === undefined) return [];
  const windows = Math.ceil(n / windowRows);
  let cuts: number[] = [];
  if (windows > 1) {
    const qs = Array.from({ length: windows - 1 }, (_, i) => (i + 1) / windows);
    const q = await conn.runAndReadAll(`SELECT unnest(approx_quantile(ts, [${qs.join(', ')}])) FROM exchanges`);
    cuts = [...new Set(q.getRows().map((row) => Number(row[0])))].filter((t) => t > lo && t < hi).sort((x, y) => x - y);
  }
  return [lo, ...cuts, hi];
}

// ---------------------------------------------------------------------------------------

class DuckDbStore implements Store {
  private closed = false;
  /** The last report read, by its id and save time (see latestReport). */
  private reportCache: { key: string; report: ScanReport } | null = null;
  /** Calls on the main connection run one at a time: a transaction and its staging tables belong to the connection. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Connections of replays under way, closed with the store. */
  private readonly readers = new Set<DuckDBConnection>();

  constructor(
    private readonly path: string,
    private readonly registeredAs: string | null,
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
    private readonly readOnly: boolean,
    /** Whether the budget follows the stored exchanges (no budget was given, and the store has an id index). */
    private readonly budgetFollowsSize: boolean,
    /** A schema 1 store, whose `id` is a primary key. */
    private readonly idIndexed: boolean,
    /** Prompt previews kept apart (`prompt_previews`): every store but one opened read-only at schema 2 or before. */
    private readonly previewsApart: boolean,
    private readonly replayWindowRows: number,
    /** The memory budget as set at open (DuckDB size syntax). */
    private readonly memoryLimit: string,
  ) {}

  /** The budget now set, in bytes, when it follows the store's size. */
  private budget = BUDGET_BASE_BYTES;

  /** Raises the memory budget to what the stored exchanges' id index needs (see budgetFor). */
  async fitBudget(): Promise<void> {
    if (!this.budgetFollowsSize) return;
    const r = await this.conn.runAndReadAll('SELECT count(*) FROM exchanges');
    this.stored = Number(r.getRows()[0]![0]);
    await this.raiseBudget(this.stored);
  }

  private async raiseBudget(exchanges: number): Promise<void> {
    const wanted = budgetFor(exchanges);
    if (!this.budgetFollowsSize || wanted <= this.budget) return;
    await this.conn.run(`SET memory_limit = '${mbString(wanted)}'`);
    this.budget = wanted;
  }

  /** Exchanges stored, kept from the appends once counted at open. */
  private stored = 0;

  /**
   * No stored exchange is later than this (event time, ms): a batch that starts after it
   * needs no look at the stored rows. Read at open, then kept from the appends (a batch's
   * latest time, whether or not all its rows were new: an upper bound is all it must be).
   */
  private latestTs = Infinity;

  /** The prompt previews this process knows the store holds (previews.ts). */
  private readonly previews = new PreviewBook();

  /** Rows appended since the last checkpoint this store asked for (see CHECKPOINT_EVERY_ROWS). */
  private sinceCheckpoint = 0;

  private async foldIn(): Promise<void> {
    try {
      await this.conn.run('CHECKPOINT');
    } catch {
      // Refused while any other transaction runs (a replay, a dashboard's read, a memory
      // sample): the rows are committed all the same. The count is kept, so the next batch
      // tries again; reset here, as it was, a refusal left two row groups uncompressed in
      // memory (about 230 MB of this traffic) until the next one.
      return;
    }
    this.sinceCheckpoint = 0;
    await this.dropCachedBlocks();
  }

  /**
   * DuckDB keeps the blocks a checkpoint wrote in its buffer pool until the budget is reached:
   * about 140 bytes per stored exchange of this traffic, so a scan's resident memory grew with
   * its exchanges up to the whole budget (768 MB, reached near 5M exchanges). Nothing in a scan
   * reads them back before its detect phase, which reads the file again if it needs them (the
   * OS page cache usually has them). Lowering the limit is DuckDB's one way to evict unpinned
   * blocks; the limit is put back at once. A schema 1 store's id index cannot be evicted, so
   * there the lower limit would be refused: not tried.
   */
  private async dropCachedBlocks(): Promise<void> {
    if (this.idIndexed) return;
    try {
      await this.conn.run(`SET memory_limit = '${mbString(EVICT_TO_BYTES)}'`);
    } catch {
      // Refused when pinned blocks (a replay's sort under way) need more: they stay cached.
    }
    await this.conn.run(`SET memory_limit = '${this.memoryLimit}'`);
  }

  async readLatest(): Promise<void> {
    const r = await this.conn.runAndReadAll('SELECT max(ts) FROM exchanges');
    const v = r.getRows()[0]![0];
    this.latestTs = v === null || v === undefined ? -Infinity : Number(v);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      this.assertOpen();
      return fn();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError('closed', `Cannot use the store "${this.path}": it is closed`);
  }

  private assertWritable(): void {
    if (this.readOnly) throw new StoreError('read_only', `Cannot write to the store "${this.path}": it was opened read-only`);
  }

  checkpoint(source: SourceKey): Promise<IngestCheckpoint | null> {
    return this.serial(async () => {
      const r = await this.conn.runAndReadAll('SELECT path, line, done FROM ingest_checkpoints WHERE source_key = $1', [source.key]);
      const row = r.getRows()[0];
      if (!row) return null;
      return { source: { key: source.key, path: String(row[0]) }, line: Number(row[1]), done: row[2] === true };
    });
  }

  append(rows: readonly ExchangeFeatures[], bad: readonly BadRecord[], cp: IngestCheckpoint): Promise<AppendOutcome> {
    return appendByColumns(this, rows, bad, cp);
  }

  /**
   * One row group: a transaction that inserts this many rows into `exchanges` has DuckDB write
   * them to the file as each row group fills, compressed, where smaller ones go through its
   * log first and into the file again at the next checkpoint. Measured on the medium scenario
   * (446,698 exchanges, a scan's batches of 8 MiB before): DuckDB's work (its thread and the
   * pool's) 4.9-5.7 s of CPU before, 3.9-4.5 s now. `openBatch` takes the rows as they come,
   * so a batch this large costs no memory in this process.
   */
  readonly batchRows = CHECKPOINT_EVERY_ROWS;

  /**
   * The batch's transaction is begun by its first part and the parts go into it as soon as
   * they fill a data chunk (the feature workers' columns are dropped once they are in DuckDB's
   * vectors), so that the scan's thread holds no batch; `commit` inserts them with the bad
   * records and the checkpoint, and commits. Parts are taken in the order of the store's other calls (`serial`): a batch
   * opened while the one before commits begins after that commit.
   */
  openBatch(): BatchWriter {
    const b: OpenBatch = { begun: false, ended: false, failure: null, rows: 0, inserted: 0, staged: 0, waiting: [], waitingSigs: [], waitingRows: 0, span: { min: Infinity, max: -Infinity }, overlapsStored: false, overlapsItself: false, appender: null, latestBefore: this.latestTs, previews: [], previewSigs: new Set() };
    return {
      get rows(): number {
        return b.rows;
      },
      holdsRows: false,
      add: (rows) => this.serial(() => this.addToBatch(b, rows)),
      commit: (bad, cp) => this.serial(() => this.commitBatch(b, bad, cp)),
      abandon: () =>
        this.serial(async () => {
          b.ended = true;
          await this.dropBatch(b);
        }),
    };
  }

  private async addToBatch(b: OpenBatch, rows: ExchangeColumns): Promise<void> {
    if (b.ended) throw new StoreError('rejected', `Cannot add rows to a batch of "${this.path}" already committed or dropped`);
    if (b.failure !== null) throw b.failure;
    this.assertWritable();
    if (rows.length === 0) return;
    try {
      await this.raiseBudget(this.stored + b.inserted + b.staged + rows.length);
      if (!b.begun) {
        await this.conn.run('BEGIN TRANSACTION');
        b.begun = true;
        b.latestBefore = this.latestTs;
      }
      const span = timeSpan(timesOf(rows));
      // Whether the batch may repeat a stored exchange (an exchange is its id at its time), or
      // repeat itself across its parts: its insert then leaves them out (insertParts).
      if (span.min <= b.latestBefore || this.idIndexed) b.overlapsStored = true;
      if (span.min <= b.span.max) b.overlapsItself = true;
      b.span = { min: Math.min(b.span.min, span.min), max: Math.max(b.span.max, span.max) };
      const previews = this.previews.forBatch(previewsOf(rows), b.previewSigs);
      b.previews.push(previews);
      await this.stagePart(b, rows, previews);
      b.rows += rows.length;
      this.latestTs = Math.max(this.latestTs, span.max);
    } catch (e) {
      b.failure = e instanceof StoreError ? e : new StoreError('rejected', `Cannot store a batch of exchanges in "${this.path}": ${dbMessage(e)}`, { cause: e });
      await this.dropBatch(b);
      throw b.failure;
    }
  }

  private async commitBatch(b: OpenBatch, bad: readonly BadRecord[], cp: IngestCheckpoint): Promise<AppendOutcome> {
    if (b.ended) throw new StoreError('rejected', `Cannot commit a batch of "${this.path}" already committed or dropped`);
    b.ended = true;
    if (b.failure !== null) throw b.failure;
    this.assertWritable();
    const cpProblem = checkpointProblem(cp);
    if (cpProblem !== null) {
      await this.dropBatch(b);
      throw new StoreError('invalid_value', cpProblem);
    }
    try {
      if (!b.begun) {
        await this.conn.run('BEGIN TRANSACTION');
        b.begun = true;
      }
      await this.insertParts(b);
      await this.storeBadAndCheckpoint(bad, cp);
      await this.conn.run('COMMIT');
    } catch (e) {
      await this.dropBatch(b);
      if (e instanceof StoreError) throw e;
      throw new StoreError('rejected', `Cannot store a batch of ${b.rows} exchanges in "${this.path}": ${dbMessage(e)}`, { cause: e });
    }
    for (const p of b.previews) this.previews.committed(p);
    this.stored += b.inserted;
    this.sinceCheckpoint += b.inserted;
    if (this.sinceCheckpoint >= CHECKPOINT_EVERY_ROWS) await this.foldIn();
    return { inserted: b.inserted, duplicates: b.rows - b.inserted };
  }

  /**
   * A part staged in `exchange_parts`, the first of each id only. Its rows go into DuckDB's
   * memory at once (its appender copies them); the table is written by one INSERT of the
   * whole batch on DuckDB's threads (insertParts), not by the appender's flush on this one.
   */
  private async stagePart(b: OpenBatch, rows: ExchangeColumns, previews: BatchPreviews): Promise<void> {
    b.waiting.push(rows);
    b.waitingSigs.push(previews.sigs);
    b.waitingRows += rows.length;
    if (b.waitingRows >= CHUNK_ROWS) await this.stageWaiting(b, false);
  }

  /**
   * The parts waiting, joined, staged in whole data chunks (`all`: to the last row). A feature
   * worker's part is a few hundred rows: a chunk of each cost the scan's thread twice what
   * full chunks do (fillText finds fewer repeats in fewer rows, and each chunk has its cost).
   */
  private async stageWaiting(b: OpenBatch, all: boolean): Promise<void> {
    if (b.waitingRows === 0) return;
    const cols = b.waiting.length === 1 ? b.waiting[0]! : concatColumns(b.waiting);
    const sigs = b.waitingSigs.length === 1 ? b.waitingSigs[0]! : b.waitingSigs.flat();
    const n = all ? cols.length : cols.length - (cols.length % CHUNK_ROWS);
    const head = n === cols.length ? cols : sliceColumns(cols, 0, n);
    b.waiting = n === cols.length ? [] : [sliceColumns(cols, n, cols.length)];
    b.waitingSigs = n === cols.length ? [] : [sigs.slice(n)];
    b.waitingRows = cols.length - n;
    const fresh = firstOfEachId(idsOf(head));
    b.appender ??= await this.conn.createAppender('exchange_parts');
    await appendChunks(b.appender, head, fresh, storedNow(), sigs);
    b.staged += fresh === null ? head.length : fresh.length;
  }

  /**
   * The parts staged into `exchanges`, with the previews they are the first to bring, in the
   * batch's transaction: as they are when the batch is later than every stored row and its
   * parts follow one another in time (what a log in time order gives); else the first of each
   * id, and none already stored in the batch's span (as `insertNew`).
   */
  private async insertParts(b: OpenBatch): Promise<void> {
    await this.stageWaiting(b, true);
    const app = b.appender;
    if (app !== null) {
      b.appender = null;
      try {
        app.flushSync();
      } catch (e) {
        // Rows half appended would make the flush in closeSync fail and hide the real error.
        app.clear();
        throw e;
      } finally {
        app.closeSync();
      }
    }
    const fresh = b.previews.flatMap((p) => p.fresh);
    if (fresh.length > 0) await this.storePreviews({ sigs: [], fresh });
    if (b.staged === 0) return;
    if (this.idIndexed) b.inserted = (await this.conn.run(INSERT_PARTS_KEYED)).rowsChanged;
    else if (b.overlapsStored) b.inserted = (await this.conn.run(INSERT_NEW_PARTS, [BigInt(b.span.min), BigInt(b.span.max)])).rowsChanged;
    else if (b.overlapsItself) b.inserted = (await this.conn.run(INSERT_FIRST_PARTS)).rowsChanged;
    else {
      await this.conn.run(INSERT_PARTS);
      b.inserted = b.staged;
    }
    await this.conn.run('DELETE FROM exchange_parts');
    b.staged = 0;
  }

  /** The batch's transaction rolled back, and what this store had learnt from its parts forgotten. */
  private async dropBatch(b: OpenBatch): Promise<void> {
    b.staged = 0;
    b.waiting = [];
    b.waitingSigs = [];
    b.waitingRows = 0;
    const app = b.appender;
    b.appender = null;
    if (app !== null) {
      try {
        app.clear();
        app.closeSync();
      } catch {
        // The rollback below drops what it staged; what matters is the failure that got here.
      }
    }
    if (!b.begun) return;
    b.begun = false;
    await this.rollback();
    this.latestTs = b.latestBefore;
  }

  /** A batch's bad records and its checkpoint, in its transaction. */
  private async storeBadAndCheckpoint(bad: readonly BadRecord[], cp: IngestCheckpoint): Promise<void> {
    if (bad.length > 0) {
      await this.stageBadRecords(bad);
      await this.conn.run(INSERT_BAD);
      await this.conn.run('DELETE FROM bad_record_staging');
    }
    await this.conn.run(UPSERT_CHECKPOINT, [cp.source.key, cp.source.path, cp.line, cp.done]);
  }

  appendColumns(rows: ExchangeColumns, bad: readonly BadRecord[], cp: IngestCheckpoint): Promise<AppendOutcome> {
    return this.serial(async () => {
      this.assertWritable();
      const cpProblem = checkpointProblem(cp);
      if (cpProblem !== null) throw new StoreError('invalid_value', cpProblem);
      // Before the insert, as if every row were new: the index must fit while it grows.
      await this.raiseBudget(this.stored + rows.length);
      await this.conn.run('BEGIN TRANSACTION');
      try {
        let inserted = 0;
        let span: TimeSpan | null = null;
        let previews: BatchPreviews | null = null;
        if (rows.length > 0) {
          span = timeSpan(timesOf(rows));
          previews = this.previews.forBatch(previewsOf(rows));
          if (previews.fresh.length > 0) await this.storePreviews(previews);
          inserted = span.min > this.latestTs && !this.idIndexed ? await this.appendAfterStored(rows, previews) : await this.insertNew(rows, span, previews);
        }
        await this.storeBadAndCheckpoint(bad, cp);
        await this.conn.run('COMMIT');
        if (previews !== null) this.previews.committed(previews);
        this.stored += inserted;
        if (span !== null) this.latestTs = Math.max(this.latestTs, span.max);
        this.sinceCheckpoint += inserted;
        if (this.sinceCheckpoint >= CHECKPOINT_EVERY_ROWS) await this.foldIn();
        return { inserted, duplicates: rows.length - inserted };
      } catch (e) {
        await this.rollback();
        if (e instanceof StoreError) throw e;
        throw new StoreError('rejected', `Cannot store a batch of ${rows.length} exchanges in "${this.path}": ${dbMessage(e)}`, { cause: e });
      }
    });
  }

  /**
   * The common case (a first scan, a resumed one past its checkpoint, a gateway's log): every
   * row of the batch is later than every stored row, so none can be a stored exchange (an id
   * at its event time) and the rows go straight into `exchanges`, the first of each id only.
   */
  private async appendAfterStored(rows: ExchangeColumns, previews: BatchPreviews): Promise<number> {
    const fresh = firstOfEachId(idsOf(rows));
    await this.withAppender('exchanges', (app) => appendChunks(app, rows, fresh, storedNow(), previews.sigs));
    return fresh === null ? rows.length : fresh.length;
  }

  /** The previews a batch is the first to bring (previews.ts), in its transaction. */
  private async storePreviews(previews: BatchPreviews): Promise<void> {
    await this.withAppender('prompt_previews', async (app) => {
      for (const { sig, preview } of previews.fresh) {
        app.appendVarchar(sig);
        app.appendVarchar(preview);
        app.endRow();
      }
    });
  }

  /** A batch that overlaps the stored rows in time: typed into `exchange_batch`, then only the exchanges not stored yet are inserted. */
  private async insertNew(rows: ExchangeColumns, span: TimeSpan, previews: BatchPreviews): Promise<number> {
    await this.withAppender('exchange_batch', (app) => appendChunks(app, rows, null, { kind: 'batch' }, previews.sigs));
    const inserted = this.idIndexed
      ? (await this.conn.run(INSERT_EXCHANGES_KEYED)).rowsChanged
      : (await this.conn.run(INSERT_NEW_EXCHANGES, [BigInt(span.min), BigInt(span.max)])).rowsChanged;
    await this.conn.run('DELETE FROM exchange_batch');
    return inserted;
  }

  private async withAppender(table: string, fill: (app: DuckDBAppender) => Promise<void>): Promise<void> {
    const app = await this.conn.createAppender(table);
    let failed = true;
    try {
      await fill(app);
      app.flushSync();
      failed = false;
    } finally {
      // Rows half appended would make the flush in closeSync fail and hide the real error.
      if (failed) app.clear();
      app.closeSync();
    }
  }

  private async stageBadRecords(bad: readonly BadRecord[]): Promise<void> {
    await this.withAppender('bad_record_staging', async (app) => {
      for (const b of bad) {
        // Nulls go through: the NOT NULL columns of bad_records refuse them inside the transaction.
        appendNullableVarchar(app, b.file ?? undefined);
        if (typeof b.line === 'number' && Number.isSafeInteger(b.line)) app.appendBigInt(BigInt(b.line));
        else if (b.line === null || b.line === undefined) app.appendNull();
        else throw new StoreError('invalid_value', `Cannot set aside the bad record of "${b.file}": line is ${describeValue(b.line)}, expected a whole number`);
        appendNullableVarchar(app, b.reason ?? undefined);
        appendNullableVarchar(app, b.excerpt ?? undefined);
        app.endRow();
      }
    });
  }

  private async rollback(): Promise<void> {
    try {
      await this.conn.run('ROLLBACK');
    } catch {
      // The transaction may already be aborted by the failure; what matters is the original error.
    }
  }

  async *replay(batchSize = 10_000): AsyncGenerator<ExchangeFeatures[]> {
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError(`Invalid replay batch size ${batchSize}: expected a whole number above 0`);
    this.assertOpen();
    const conn = await this.instance.connect();
    this.readers.add(conn);
    try {
      const bounds = await replayWindows(conn, this.replayWindowRows);
      let batch: ExchangeFeatures[] = [];
      let lastTs = -Infinity;
      for (let w = 0; w + 1 < bounds.length; w++) {
        const result = await conn.stream(REPLAY_WINDOW_SQL(w + 2 === bounds.length, this.previewsApart), [bounds[w]!, bounds[w + 1]!]);
        for (;;) {
          const chunk = await result.fetchChunk();
          // A result already under way can outlive its connection: stop here rather than go on
          // reading from a store the caller has closed.
          if (this.closed) throw this.closedDuringReplay();
          if (!chunk || chunk.rowCount === 0) break;
          const json = chunk.getColumnVector(0);
          for (let i = 0; i < chunk.rowCount; i++) {
            const row = JSON.parse(json.getItem(i) as string) as ExchangeFeatures;
            // The engine's windows depend on time order; a plan that lost it must fail loudly.
            if (row.ts < lastTs) throw new Error(`Replay of "${this.path}" went back in time at exchange "${row.id}"`);
            lastTs = row.ts;
            batch.push(row);
            if (batch.length === batchSize) {
              yield batch;
              batch = [];
            }
          }
        }
      }
      if (batch.length > 0) yield batch;
    } catch (e) {
      if (this.closed && !(e instanceof StoreError)) throw this.closedDuringReplay(e);
      throw e;
    } finally {
      if (this.readers.delete(conn)) conn.closeSync();
    }
  }

  private closedDuringReplay(cause?: unknown): StoreError {
    return new StoreError('closed', `Cannot replay the store "${this.path}": it was closed during the replay`, { cause });
  }

  /**
   * DuckDB's own account of its memory (`duckdb_memory()`), read on a connection of its own so
   * that a trace can sample it while a batch is being written on the main one.
   */
  async engineMemory(): Promise<EngineMemory> {
    this.assertOpen();
    const conn = await this.instance.connect();
    try {
      const r = await conn.runAndReadAll('SELECT tag, memory_usage_bytes FROM duckdb_memory() WHERE memory_usage_bytes > 0');
      const byTag: Record<string, number> = {};
      let totalBytes = 0;
      for (const [tag, bytes] of r.getRows()) {
        byTag[String(tag)] = Number(bytes);
        totalBytes += Number(bytes);
      }
      return { totalBytes, byTag };
    } finally {
      conn.closeSync();
    }
  }

  counts(): Promise<StoreCounts> {
    return this.serial(async () => {
      const r = await this.conn.runAndReadAll(
        'SELECT count(*), count(DISTINCT account_id), (SELECT count(*) FROM bad_records) FROM exchanges',
      );
      const row = r.getRows()[0]!;
      return { exchanges: Number(row[0]), accounts: Number(row[1]), bad_records: Number(row[2]) };
    });
  }

  badRecords(limit = 100): Promise<BadRecord[]> {
    if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError(`Invalid limit ${limit}: expected a whole number`);
    return this.serial(async () => {
      const r = await this.conn.runAndReadAll('SELECT file, line, reason, excerpt FROM bad_records ORDER BY file, line LIMIT $1', [limit]);
      return r.getRows().map((row) => ({ file: String(row[0]), line: Number(row[1]), reason: String(row[2]), excerpt: String(row[3]) }));
    });
  }

  saveReport(report: ScanReport): Promise<void> {
    return this.serial(async () => {
      this.assertWritable();
      await this.conn.run('BEGIN TRANSACTION');
      try {
        const r = await this.conn.runAndReadAll('SELECT coalesce(max(id), 0) + 1 FROM scan_reports');
        const scanId = Number(r.getRows()[0]![0]);
        await this.conn.run('INSERT INTO scan_reports (id, generated_at, saved_at, report) VALUES ($1, $2, now(), $3::JSON)', [
          scanId,
          timestampTz(report.generated_at),
          JSON.stringify(report),
        ]);
        // Only the latest results stay normalised; older scans remain whole in scan_reports.
        await this.conn.run('DELETE FROM campaigns');
        await this.conn.run('DELETE FROM account_verdicts');
        if (report.campaigns.length > 0) await this.appendCampaigns(scanId, report.campaigns);
        if (report.accounts.length > 0) await this.appendVerdicts(scanId, report.accounts);
        await this.conn.run('COMMIT');
      } catch (e) {
        await this.rollback();
        throw new StoreError('rejected', `Cannot save the scan report in "${this.path}": ${dbMessage(e)}`, { cause: e });
      }
    });
  }

  private async appendCampaigns(scanId: number, campaigns: readonly CampaignReport[]): Promise<void> {
    await this.withAppender('campaigns', async (app) => {
      const list = LIST(VARCHAR);
      for (const c of campaigns) {
        app.appendBigInt(BigInt(scanId));
        app.appendVarchar(c.id);
        app.appendDouble(c.confidence);
        app.appendInteger(c.accounts.length);
        app.appendList(c.accounts, list);
        app.appendBigInt(BigInt(c.exchanges));
        appendTimestampTz(app, c.first_seen);
        appendTimestampTz(app, c.last_seen);
        appendTimestampTz(app, c.first_flagged_at);
        app.appendList(c.tactics, list);
        app.appendVarchar(JSON.stringify(c.capabilities));
        app.appendVarchar(JSON.stringify(c.indicators));
        app.appendVarchar(JSON.stringify(c.links ?? {}));
        app.appendVarchar(c.explanation);
        app.endRow();
      }
    });
  }

  private async appendVerdicts(scanId: number, accounts: readonly AccountReport[]): Promise<void> {
    await this.withAppender('account_verdicts', async (app) => {
      for (const a of accounts) {
        app.appendBigInt(BigInt(scanId));
        app.appendVarchar(a.account_id);
        app.appendDouble(a.risk);
        app.appendVarchar(a.verdict);
        appendNullableVarchar(app, a.campaign_id);
        appendTimestampTz(app, a.first_flagged_at);
        app.appendVarchar(JSON.stringify(a.reasons));
        app.appendBigInt(BigInt(a.exchanges));
        app.endRow();
      }
    });
  }

  sources(): Promise<IngestCheckpoint[]> {
    return this.serial(async () => {
      const r = await this.conn.runAndReadAll('SELECT source_key, path, line, done FROM ingest_checkpoints ORDER BY updated_at, path');
      return r.getRows().map((row) => ({ source: { key: String(row[0]), path: String(row[1]) }, line: Number(row[2]), done: row[3] === true }));
    });
  }

  /**
   * The last report saved. Parsed once per report and then shared: the investigation API asks
   * for it on every request, and at a million exchanges reading and parsing it again each time
   * cost more than answering. Callers read it and never change it.
   */
  latestReport(): Promise<ScanReport | null> {
    return this.serial(async () => {
      const head = await this.conn.runAndReadAll('SELECT id, saved_at::VARCHAR FROM scan_reports ORDER BY id DESC LIMIT 1');
      const top = head.getRows()[0];
      if (!top) return null;
      const key = `${String(top[0])}@${String(top[1])}`;
      if (this.reportCache?.key === key) return this.reportCache.report;
      const r = await this.conn.runAndReadAll('SELECT report::VARCHAR FROM scan_reports WHERE id = $1', [top[0] as bigint]);
      const report = JSON.parse(String(r.getRows()[0]![0])) as ScanReport;
      this.reportCache = { key, report };
      return report;
    });
  }

  recordDecision(d: DecisionRecord, audit?: NewAuditEntry): Promise<void> {
    return this.serial(async () => {
      this.assertWritable();
      const at = timestampTz(d.at);
      if (at === null) throw new StoreError('invalid_value', `Cannot record the decision on "${d.accountId}": "at" is ${describeValue(d.at)}, expected an ISO 8601 time`);
      if (audit) await this.conn.run('BEGIN TRANSACTION');
      try {
        await this.conn.run(
          'INSERT INTO account_decisions (account_id, decided_at, actor, origin, before_override, before_blocked, after_override, after_blocked) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
          [d.accountId, at, d.actor, d.origin, d.before.override, d.before.blocked, d.after.override, d.after.blocked],
        );
        if (audit) {
          await casework.insertAudit(this.conn, audit);
          await this.conn.run('COMMIT');
        }
      } catch (e) {
        if (audit) await this.rollback();
        throw new StoreError('rejected', `Cannot record the decision on "${d.accountId}" in "${this.path}": ${dbMessage(e)}`, { cause: e });
      }
    });
  }

  currentDecisions(): Promise<DecisionRecord[]> {
    return this.serial(async () => {
      const r = await this.conn.runAndReadAll(`${DECISION_SELECT} WHERE seq IN (SELECT max(seq) FROM account_decisions GROUP BY account_id) ORDER BY account_id`);
      return r.getRows().map(decisionRow);
    });
  }

  decisionHistory(accountId: string): Promise<DecisionRecord[]> {
    return this.serial(async () => {
      const r = await this.conn.runAndReadAll(`${DECISION_SELECT} WHERE account_id = $1 ORDER BY seq`, [accountId]);
      return r.getRows().map(decisionRow);
    });
  }

  // Casework (decisions, audit, investigation reads): the SQL lives in duckdb/casework.ts.
  recordCaseDecision(d: NewCaseDecision, audit: NewAuditEntry): Promise<CaseDecision> {
    return this.serial(async () => {
      this.assertWritable();
      try {
        return await casework.insertCaseDecision(this.conn, d, audit);
      } catch (e) {
        throw new StoreError('rejected', `Cannot record the decision on ${d.target.kind} "${d.target.id}" in "${this.path}": ${dbMessage(e)}`, { cause: e });
      }
    });
  }

  caseDecisions() {
    return this.serial(() => casework.selectCaseDecisions(this.conn));
  }

  auditLog(opts: { target?: DecisionTarget; limit: number; offset: number }) {
    return this.serial(() => casework.selectAudit(this.conn, opts));
  }

  accountExchanges(accountId: string, opts: { limit: number; offset: number }) {
    return this.serial(() => casework.selectAccountExchanges(this.conn, accountId, opts, this.previewsApart));
  }

  hourlyActivity(accountIds: readonly string[]) {
    return this.serial(() => casework.selectHourlyActivity(this.conn, accountIds));
  }

  hourlyTotals() {
    return this.serial(() => casework.selectHourlyTotals(this.conn));
  }

  hourlyCapabilities(accountIds: readonly string[]) {
    return this.serial(() => casework.selectHourlyCapabilities(this.conn, accountIds));
  }

  indicatorHoldings(accountIds: readonly string[], indicators: readonly { kind: SearchKind; value: string }[]) {
    return this.serial(() => casework.selectIndicatorHoldings(this.conn, accountIds, indicators));
  }

  indicatorHolders(kind: SearchKind, value: string, limit: number) {
    return this.serial(() => casework.selectIndicatorHolders(this.conn, kind, value, limit));
  }

  hasAccount(accountId: string) {
    return this.serial(() => casework.accountExists(this.conn, accountId));
  }

  saveRollup(input: RollupInput): Promise<void> {
    return this.serial(async () => {
      this.assertWritable();
      try {
        await casework.replaceRollup(this.conn, input);
      } catch (e) {
        throw new StoreError('rejected', `Cannot save the rollup in "${this.path}": ${dbMessage(e)}`, { cause: e });
      }
    });
  }

  rolledTimeline(generatedAt: string, campaignId: string) {
    return this.serial(() => casework.selectRolledTimeline(this.conn, generatedAt, campaignId));
  }

  rolledTotals(generatedAt: string) {
    return this.serial(() => casework.selectRolledTotals(this.conn, generatedAt));
  }

  rolledGraph(generatedAt: string, campaignId: string) {
    return this.serial(() => casework.selectRolledGraph(this.conn, generatedAt, campaignId));
  }

  importIntel(records: readonly IntelIndicatorRecord[]): Promise<AppendOutcome> {
    return this.serial(async () => {
      this.assertWritable();
      const count = async (): Promise<number> => Number((await this.conn.runAndReadAll('SELECT count(*) FROM intel_indicators')).getRows()[0]![0]);
      await this.conn.run('BEGIN TRANSACTION');
      try {
        const before = await count();
        for (const r of records) {
          // An empty key stands for "none": a key is part of the primary key, which takes no null.
          await this.conn.run('INSERT OR IGNORE INTO intel_indicators (bundle_id, producer, indicator_id, match_key, pattern, confidence, valid_from) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
            r.bundleId,
            r.producer,
            r.indicatorId,
            r.key ?? '',
            r.pattern,
            r.confidence,
            r.validFrom,
          ]);
        }
        const inserted = (await count()) - before;
        await this.conn.run('COMMIT');
        return { inserted, duplicates: records.length - inserted };
      } catch (e) {
        await this.rollback();
        throw new StoreError('rejected', `Cannot store the imported indicators in "${this.path}": ${dbMessage(e)}`, { cause: e });
      }
    });
  }

  intelIndicators(): Promise<IntelIndicatorRecord[]> {
    return this.serial(async () => {
      // A store opened read-only may predate the table.
      const t = await this.conn.runAndReadAll("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND table_name = 'intel_indicators'");
      if (Number(t.getRows()[0]![0]) === 0) return [];
      const r = await this.conn.runAndReadAll('SELECT bundle_id, producer, indicator_id, match_key, pattern, confidence, valid_from FROM intel_indicators ORDER BY bundle_id, indicator_id, match_key');
      return r.getRows().map((row) => ({
        bundleId: String(row[0]),
        producer: String(row[1]),
        indicatorId: String(row[2]),
        key: row[3] === '' ? null : String(row[3]),
        pattern: String(row[4]),
        confidence: row[5] === null ? null : Number(row[5]),
        validFrom: row[6] === null ? null : String(row[6]),
      }));
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Let calls already queued finish before the connection goes.
    await this.queue;
    if (this.closed) return;
    this.closed = true;
    for (const reader of this.readers) {
      // A fetch may be under way on a worker thread: interrupt it rather than pull the
      // connection from under it; the replay then reports the store closed.
      reader.interrupt();
      reader.closeSync();
    }
    this.readers.clear();
    this.conn.closeSync();
    this.instance.closeSync();
    if (this.registeredAs) openInThisProcess.delete(this.registeredAs);
  }
}

/** Whether `exchanges` has the primary key on `id` of schema 1 stores. */
async function hasIdIndex(conn: DuckDBConnection): Promise<boolean> {
  const r = await conn.runAndReadAll(
    "SELECT count(*) FROM duckdb_constraints() WHERE database_name = current_database() AND table_name = 'exchanges' AND constraint_type = 'PRIMARY KEY'",
  );
  return Number(r.getRows()[0]![0]) > 0;
}

async function hasTable(conn: DuckDBConnection, name: string): Promise<boolean> {
  const r = await conn.runAndReadAll("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = $1", [name]);
  return Number(r.getRows()[0]![0]) > 0;
}

async function prepareSchema(conn: DuckDBConnection, path: string, readOnly: boolean): Promise<void> {
  const tables = await conn.runAndReadAll(
    "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND NOT temporary",
  );
  const names = new Set(tables.getRows().map((r) => String(r[0])));
  if (!names.has('schema_version') && (names.size > 0 || readOnly)) {
    throw new StoreError('not_a_store', `Cannot open the store "${path}": it is a DuckDB database but not a DistillWatch store`);
  }
  if (names.has('schema_version')) {
    const v = await conn.runAndReadAll('SELECT max(version) FROM schema_version');
    const found = v.getRows()[0]?.[0];
    if (found !== null && found !== undefined && Number(found) > SCHEMA_VERSION) {
      throw new StoreError(
        'newer_schema',
        `Cannot open the store "${path}": it was written by a newer DistillWatch (schema ${String(found)}, this one knows up to ${SCHEMA_VERSION})`,
      );
    }
  }
  if (readOnly) return;
  await conn.run('BEGIN TRANSACTION');
  try {
    await conn.run(SCHEMA_DDL);
    await conn.run(casework.CASEWORK_DDL);
    // Schema 2 to 3: the table of previews is made above; the signatures' column is added here.
    await conn.run('ALTER TABLE exchanges ADD COLUMN IF NOT EXISTS preview_sig VARCHAR');
    const v = await conn.runAndReadAll('SELECT coalesce(max(version), 0) FROM schema_version');
    if (Number(v.getRows()[0]![0]) < SCHEMA_VERSION) await conn.run('INSERT INTO schema_version (version) VALUES ($1)', [SCHEMA_VERSION]);
    await conn.run('COMMIT');
  } catch (e) {
    await conn.run('ROLLBACK').catch(() => undefined);
    throw e;
  }
  await conn.run(STAGING_DDL);
}

/**
 * Opens the DuckDB store at `path`, creating the file and its tables when absent; `':memory:'`
 * gives a throw-away store. Fails with a StoreError (one printable line) when another process
 * holds the file, when it is not a DistillWatch store, or when a newer DistillWatch wrote it.
 *
 * @example
 * const store = await openDuckDbStore('distillwatch.duckdb');
 * try {
 *   for await (const batch of store.replay()) engine.observe(batch);
 * } finally {
 *   await store.close();
 * }
 */
const MEMORY_SIZE = /^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i;
const DEFAULT_THREADS = 2;


/**
 * The default budget follows the store's size: a base for sorts, appends and the replay's
 * windows, plus what the id index takes per stored exchange (about 60 bytes for ids of 17
 * characters, measured; 96 leaves room for longer ids). A fixed budget either ran out (the
 * index cannot be evicted) or, as half the machine, filled up with cached blocks.
 */
const BUDGET_BASE_BYTES = 768 * 2 ** 20;
const BUDGET_BYTES_PER_EXCHANGE = 96;
/** The budget is raised in steps of this much, not after every batch. */
const BUDGET_STEP_BYTES = 256 * 2 ** 20;

function budgetFor(exchanges: number): number {
  const wanted = BUDGET_BASE_BYTES + exchanges * BUDGET_BYTES_PER_EXCHANGE;
  const stepped = Math.ceil(wanted / BUDGET_STEP_BYTES) * BUDGET_STEP_BYTES;
  return Math.min(stepped, Math.max(BUDGET_BASE_BYTES, Math.floor(totalmem() / 2)));
}

const mbString = (bytes: number): string => `${Math.floor(bytes / 2 ** 20)}MB`;

export async function openDuckDbStore(path: string, opts: DuckDbStoreOptions = {}): Promise<Store> {
  // DuckDB takes an empty path for a memory database: almost surely a missing setting here.
  if (path === '') throw new StoreError('cannot_open', 'Cannot open the store "": no path given');
  const inMemory = path === ':memory:';
  if (opts.threads !== undefined && (!Number.isInteger(opts.threads) || opts.threads < 1)) {
    throw new StoreError('cannot_open', `Cannot open the store "${path}": ${opts.threads} threads is not a whole number of at least 1`);
  }
  if (opts.replayWindowRows !== undefined && (!Number.isSafeInteger(opts.replayWindowRows) || opts.replayWindowRows < 1)) {
    throw new StoreError('cannot_open', `Cannot open the store "${path}": ${opts.replayWindowRows} rows per replay window is not a whole number of at least 1`);
  }
  if (opts.memoryLimit !== undefined && !MEMORY_SIZE.test(opts.memoryLimit)) {
    throw new StoreError('cannot_open', `Cannot open the store "${path}": memory budget "${opts.memoryLimit}" is not a size such as 512MB or 4GB`);
  }
  const readOnly = (opts.readOnly ?? false) && !inMemory;
  const key = inMemory ? null : canonicalPath(path);
  if (key) {
    if (openInThisProcess.has(key)) throw new StoreError('in_use', `Cannot open the store "${path}": it is already open in this process`);
    // Claimed before the first await, so that two opens racing in this process cannot both pass.
    openInThisProcess.add(key);
  }
  try {
    let instance: DuckDBInstance;
    const memoryLimit = opts.memoryLimit ?? mbString(BUDGET_BASE_BYTES);
    try {
      const memory = { memory_limit: memoryLimit, threads: String(opts.threads ?? DEFAULT_THREADS) };
      instance = await DuckDBInstance.create(path, readOnly ? { access_mode: 'READ_ONLY', ...memory } : { checkpoint_threshold: CHECKPOINT_THRESHOLD, ...memory });
    } catch (e) {
      throw openError(path, e);
    }
    let conn: DuckDBConnection | null = null;
    try {
      conn = await instance.connect();
      await prepareSchema(conn, path, readOnly);
    } catch (e) {
      conn?.closeSync();
      instance.closeSync();
      if (e instanceof StoreError) throw e;
      throw new StoreError('cannot_open', `Cannot open the store "${path}": ${dbMessage(e)}`, { cause: e });
    }
    const idIndexed = await hasIdIndex(conn);
    const previewsApart = await hasTable(conn, 'prompt_previews');
    const store = new DuckDbStore(path, key, instance, conn, readOnly, opts.memoryLimit === undefined && idIndexed, idIndexed, previewsApart, opts.replayWindowRows ?? DEFAULT_REPLAY_WINDOW_ROWS, memoryLimit);
    await store.fitBudget();
    if (!readOnly) await store.readLatest();
    return store;
  } catch (e) {
    if (key) openInThisProcess.delete(key);
    throw e;
  }
}
