/**
 * One storage interface, several backends. DuckDB is the embedded default (one file, no
 * server); a ClickHouse backend implements the same interface when one machine is not
 * enough. Every backend passes the same contract tests (store/contract.ts).
 */
import type { ExchangeFeatures } from '../core/features.js';
import type { ScanReport } from '../core/report.js';
import type { CaseworkStore, NewAuditEntry } from './casework.js';
import type { ExchangeColumns } from './column-batch.js';

/** A bad input record, set aside with where it came from and why. */
export interface BadRecord {
  file: string;
  line: number;
  reason: string;
  /** The start of the raw line (at most a few hundred characters), for a human to look at. */
  excerpt: string;
}

/**
 * Identifies one input so that an interrupted ingest of the same input can resume.
 * `key` is derived from the path, the size and the modification time (see ingest/source.ts).
 */
export interface SourceKey {
  key: string;
  path: string;
}

/** How far an input was committed: every line up to and including `line` is stored. */
export interface IngestCheckpoint {
  source: SourceKey;
  line: number;
  done: boolean;
}

declare const encoded: unique symbol;
/**
 * One exchange row already checked against the stored columns and encoded as a JSON object
 * (store/exchange-columns.ts, encodeExchange): what feature workers hand the store.
 */
export type EncodedExchange = string & { readonly [encoded]: 'EncodedExchange' };

export interface AppendOutcome {
  /** Rows that were new. */
  inserted: number;
  /** Rows whose id was already stored (re-ingest), ignored. */
  duplicates: number;
}

export interface StoreCounts {
  exchanges: number;
  accounts: number;
  bad_records: number;
}

/** An account's operator decisions: what enforcement reads. */
export interface AccountDecisions {
  /** A policy action that wins over risk (allow, flag, throttle, degrade, block), or null. */
  override: string | null;
  blocked: boolean;
}

/** One audited change of an account's decisions: who, when, what, before and after. */
export interface DecisionRecord {
  accountId: string;
  /** ISO 8601 time of the change. */
  at: string;
  /** Who made it, as the caller authenticated them (e.g. `admin`). */
  actor: string;
  /** Where it was made (the gateway replica). */
  origin: string;
  before: AccountDecisions;
  after: AccountDecisions;
}

/** One indicator imported from another provider's STIX bundle, with where it came from. */
export interface IntelIndicatorRecord {
  bundleId: string;
  /** Who shared it: the name of the bundle's producer identity. */
  producer: string;
  indicatorId: string;
  /**
   * What the engine can match it on, an indicator key (`harness:…`, `system:…`, `template:…`,
   * `payment:…`, `ip:…`, `subnet:…`), or null when its pattern names nothing the engine keys on
   * (an ASN, a user agent, a range): it is kept all the same.
   */
  key: string | null;
  pattern: string;
  /** The producer's confidence, 0..100, or null. */
  confidence: number | null;
  validFrom: string | null;
}

/** The casework reads (an investigation's queries), which a read-only store answers too. */
export type CaseworkReader = Omit<CaseworkStore, 'recordCaseDecision'>;

/**
 * The read side of a store: what a report, a dashboard or a dossier needs. A store opened
 * read-only is only this, so a write from such a caller is a compile error rather than a
 * failure at run time.
 */
export interface StoreReader extends CaseworkReader {
  /** Where a previous ingest of this source stopped, or null when it never started. */
  checkpoint(source: SourceKey): Promise<IngestCheckpoint | null>;
  /** Every stored exchange in event-time order (ties broken by id), in batches. */
  replay(batchSize?: number): AsyncIterable<ExchangeFeatures[]>;
  /** Every input ever appended (a report covers them all), each with its latest checkpoint, least recently written first. */
  sources(): Promise<IngestCheckpoint[]>;
  counts(): Promise<StoreCounts>;
  badRecords(limit?: number): Promise<BadRecord[]>;
  /** The results of the latest saved scan, or null. */
  latestReport(): Promise<ScanReport | null>;
  /** The latest record of each account: its `after` is the account's current decisions. */
  currentDecisions(): Promise<DecisionRecord[]>;
  /** An account's decision history, oldest first. */
  decisionHistory(accountId: string): Promise<DecisionRecord[]>;
  /** Every imported indicator, by bundle, indicator and key. */
  intelIndicators(): Promise<IntelIndicatorRecord[]>;
  /**
   * What the store's engine holds in this process's memory, by what holds it, when the engine
   * runs in the process (DuckDB); absent for a server. For benchmarks and memory traces.
   */
  engineMemory?(): Promise<EngineMemory>;
  close(): Promise<void>;
}

/** An embedded engine's memory in this process, in bytes, by its own tags (e.g. DuckDB's `BASE_TABLE`, `ART_INDEX`). */
export interface EngineMemory {
  totalBytes: number;
  byTag: Record<string, number>;
}

/** The write side of a store: ingest, scan results, decisions and imported intelligence. */
export interface StoreWriter {
  /**
   * Stores a batch together with the checkpoint that follows it: after a crash, a batch
   * whose checkpoint was not stored is sent again, and its ids already stored are ignored
   * (idempotent on `id`), as are bad records already set aside for that line. DuckDB stores
   * the batch and its checkpoint in one transaction; ClickHouse, which has none across
   * tables, stores the rows first and the checkpoint last.
   */
  append(rows: readonly ExchangeFeatures[], bad: readonly BadRecord[], checkpoint: IngestCheckpoint): Promise<AppendOutcome>;
  /**
   * As `append`, for rows already checked and laid out as columns where they were computed
   * (a feature worker, column-batch.ts): the store appends them column by column, with no
   * row objects and no JSON.
   */
  appendColumns(rows: ExchangeColumns, bad: readonly BadRecord[], checkpoint: IngestCheckpoint): Promise<AppendOutcome>;
  /**
   * A batch written as its parts arrive, then committed as `appendColumns` commits one: for a
   * scan, whose rows come from the feature workers a few hundred at a time. A store that can
   * take the parts at once (DuckDB, into the batch's open transaction) keeps none of them in
   * this process's heap; one that cannot holds them until the commit. The store's one writer
   * while a batch is open: a batch opened before the last commits begins after it, and no
   * other write may come between a batch's first part and its commit.
   */
  openBatch(): BatchWriter;
  /**
   * Rows a scan commits together by default: as many as the store writes best in one
   * transaction (DuckDB: one row group, written to the file directly and not through its log).
   */
  readonly batchRows: number;
  /** Saves the results of one scan (campaigns, account verdicts) as the latest results. */
  saveReport(report: ScanReport): Promise<void>;
  /**
   * Appends one audited decision; the latest of each account is its current decision. With
   * `audit`, the audit log's entry is written in the same transaction.
   */
  recordDecision(d: DecisionRecord, audit?: NewAuditEntry): Promise<void>;
  /** Stores imported indicators; one already stored (same bundle, indicator and key) is ignored. */
  importIntel(records: readonly IntelIndicatorRecord[]): Promise<AppendOutcome>;
  recordCaseDecision: CaseworkStore['recordCaseDecision'];
  close(): Promise<void>;
}

/** One batch of a scan, written part by part (see `StoreWriter.openBatch`). */
export interface BatchWriter {
  /**
   * Adds rows to the batch, in order: as `appendColumns`, ids already stored or already in
   * the batch are left out at the commit's count. The columns are the store's to use until the
   * promise settles, and may be dropped after. A failure fails the batch: the later calls fail
   * too, and nothing of it is stored.
   */
  add(rows: ExchangeColumns): Promise<void>;
  /** Rows added so far. */
  readonly rows: number;
  /** True when the rows added are held in this process until the commit (bound them by bytes too). */
  readonly holdsRows: boolean;
  /** Stores the rows added, the bad records and the checkpoint together, as `appendColumns` does. */
  commit(bad: readonly BadRecord[], checkpoint: IngestCheckpoint): Promise<AppendOutcome>;
  /** Drops the batch: nothing of it is stored. */
  abandon(): Promise<void>;
}

/** A store opened for reading and writing (ingest, the gateway, serve). */
export interface Store extends StoreReader, StoreWriter {}
