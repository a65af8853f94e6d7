/**
 * One way to open a store, whatever its engine: every command and service calls openStore
 * with the URL it was given (`--store`, or `--db PATH` for the DuckDB shorthand).
 */
import { existsSync, rmSync } from 'node:fs';
import { dropClickHouseStore, openClickHouseStore } from './clickhouse/store.js';
import { openDuckDbStore } from './duckdb/store.js';
import { StoreError } from './errors.js';
import type { Store, StoreReader } from './store.js';
import { parseStoreUrl, type StoreLocation } from './url.js';

export interface OpenStoreOptions {
  /**
   * Opens the store for reading only (a report, a dashboard, a dossier): the result has no
   * write methods, and a DuckDB file is shared with other readers.
   * @default false
   */
  readOnly?: boolean;
  /** DuckDB's memory budget (e.g. 4GB); ignored by ClickHouse, whose server has its own. */
  duckdbMemory?: string;
  /** DuckDB's threads, the calling one included (a whole number of at least 1); ignored by ClickHouse. @default 2 */
  duckdbThreads?: number;
}

/** The location a URL names, or a StoreError (one line, code `cannot_open`) when it names none. */
export function storeLocation(url: string): StoreLocation {
  const parsed = parseStoreUrl(url);
  if (!parsed.ok) throw new StoreError('cannot_open', parsed.error);
  return parsed.location;
}

/**
 * Opens the store at `url`: `duckdb:///path/file.duckdb` or a bare path (DuckDB),
 * `chdb:///path/dir` (ClickHouse embedded) or `clickhouse://user:pass@host:8123/db`.
 *
 * @example
 * const store = await openStore('chdb:///var/lib/distillwatch');
 * const reader = await openStore('duckdb:///srv/dw.duckdb', { readOnly: true });
 */
export async function openStore(url: string, opts: OpenStoreOptions & { readOnly: true }): Promise<StoreReader>;
export async function openStore(url: string, opts?: OpenStoreOptions & { readOnly?: false }): Promise<Store>;
export async function openStore(url: string, opts: OpenStoreOptions = {}): Promise<Store | StoreReader> {
  const loc = storeLocation(url);
  const readOnly = opts.readOnly ?? false;
  switch (loc.kind) {
    case 'duckdb':
      // DuckDB names a missing file read-only in its own words; this is the one every command prints.
      if (readOnly && loc.path !== ':memory:' && !existsSync(loc.path)) throw new StoreError('cannot_open', `Cannot open the store "${loc.path}": no such file`);
      return openDuckDbStore(loc.path, {
        readOnly,
        ...(opts.duckdbMemory ? { memoryLimit: opts.duckdbMemory } : {}),
        ...(opts.duckdbThreads !== undefined ? { threads: opts.duckdbThreads } : {}),
      });
    case 'chdb':
    case 'clickhouse':
      return openClickHouseStore(loc, { readOnly });
  }
}

/** Removes the store at `url` and all it holds (`scan --fresh`): the DuckDB file and its WAL, or the ClickHouse database. */
export async function dropStore(url: string): Promise<void> {
  const loc = storeLocation(url);
  if (loc.kind === 'duckdb') {
    rmSync(loc.path, { force: true });
    rmSync(loc.path + '.wal', { force: true });
    return;
  }
  await dropClickHouseStore(loc);
}
