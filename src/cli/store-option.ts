/**
 * `--store URL` and its DuckDB shorthand `--db PATH`, the same on every command that opens a
 * store: checked before anything starts, so that a mistyped URL is one line and exit code 2.
 */
import { StoreError } from '../store/errors.js';
import { openStore, type OpenStoreOptions } from '../store/open.js';
import type { Store, StoreReader } from '../store/store.js';
import { displayStoreUrl, parseStoreUrl } from '../store/url.js';
import { UserError } from './errors.js';

export const STORE_OPTION_HELP = 'store URL: duckdb:///path/file.duckdb, chdb:///path/dir (ClickHouse embedded) or clickhouse://user:pass@host:8123/db';

export interface StoreFlags {
  store?: string;
  db?: string;
}

/**
 * The store a command names: `--store`, else `--db` as a DuckDB path, else `fallback`
 * (undefined when the command may run without one). Both flags at once is an error.
 *
 * @example
 * storeUrlOf({ db: 'a.duckdb' }, 'distillwatch.duckdb') // 'duckdb://a.duckdb'
 */
export function storeUrlOf(o: StoreFlags, fallback: string): string;
export function storeUrlOf(o: StoreFlags, fallback?: string): string | undefined;
export function storeUrlOf(o: StoreFlags, fallback?: string): string | undefined {
  if (o.store !== undefined && o.db !== undefined) throw new UserError('Cannot use both --store and --db: --db PATH is short for --store duckdb://PATH, give one');
  if (o.db !== undefined && o.db.trim() === '') throw new UserError('Cannot use --db "": no path given');
  // A --db path is DuckDB's whatever it looks like ("a:b.duckdb" is a file, not a kind of store).
  if (o.db !== undefined) return `duckdb://${o.db}`;
  if (o.store === undefined) return fallback;
  const r = parseStoreUrl(o.store);
  if (!r.ok) throw new UserError(`--store: ${r.error}`);
  return o.store;
}

/** How messages name the store: a DuckDB file by its path, anything else by its URL without a password. */
export function storeName(url: string): string {
  const r = parseStoreUrl(url);
  if (r.ok && r.location.kind === 'duckdb') return r.location.path;
  return displayStoreUrl(url);
}

/**
 * Opens a command's store. Reading one that is not there is the user's to fix (one line, exit
 * code 2); other failures stay StoreErrors (a store in use, a folder missing for a new one).
 */
export async function openCommandStore(url: string, opts: OpenStoreOptions & { readOnly: true }): Promise<StoreReader>;
export async function openCommandStore(url: string, opts?: OpenStoreOptions & { readOnly?: false }): Promise<Store>;
export async function openCommandStore(url: string, opts: OpenStoreOptions = {}): Promise<Store | StoreReader> {
  try {
    return opts.readOnly ? await openStore(url, { ...opts, readOnly: true }) : await openStore(url, { ...opts, readOnly: false });
  } catch (e) {
    if (opts.readOnly && e instanceof StoreError && (e.code === 'cannot_open' || e.code === 'not_a_store')) throw new UserError(e.message);
    throw e;
  }
}
