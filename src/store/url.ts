/**
 * Where a store is, as a URL: `duckdb:///path/file.duckdb` (the embedded default),
 * `chdb:///path/dir` (ClickHouse embedded through chdb) or
 * `clickhouse://user:pass@host:8123/db` (a ClickHouse server; `clickhouses://` for TLS).
 * A bare path is the DuckDB shorthand that `--db PATH` gives.
 */

/** A ClickHouse database name: spliced into DDL as an identifier, so only a plain word is taken. */
const DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
export const DEFAULT_DATABASE = 'distillwatch';

export type StoreLocation =
  | { kind: 'duckdb'; path: string }
  | { kind: 'chdb'; path: string; database: string }
  | { kind: 'clickhouse'; url: string; username: string; password: string; database: string; secure: boolean };

export type ParsedStoreUrl = { ok: true; location: StoreLocation } | { ok: false; error: string };

/** The URL as it may be printed: a password never is. */
export function displayStoreUrl(text: string): string {
  return text.replace(/^(clickhouses?:\/\/[^:@/]*):[^@/]*@/, '$1:***@');
}

function fail(text: string, why: string): ParsedStoreUrl {
  return { ok: false, error: `Cannot use the store URL "${displayStoreUrl(text)}": ${why}` };
}

function databaseFrom(text: string, name: string | null): { ok: true; database: string } | { ok: false; error: string } {
  const database = name === null || name === '' ? DEFAULT_DATABASE : name;
  if (!DATABASE_NAME.test(database)) {
    const r = fail(text, `database "${database}" is not a name of letters, digits and underscores`);
    return { ok: false, error: (r as { error: string }).error };
  }
  return { ok: true, database };
}

/**
 * Parses a store URL (or a DuckDB path, for `--db`).
 *
 * @example
 * parseStoreUrl('chdb:///var/lib/distillwatch?database=prod')
 * // { ok: true, location: { kind: 'chdb', path: '/var/lib/distillwatch', database: 'prod' } }
 */
export function parseStoreUrl(text: string): ParsedStoreUrl {
  if (text.trim() === '') return fail(text, 'it is empty');
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined) return { ok: true, location: { kind: 'duckdb', path: text } };
  if (scheme === 'duckdb' || scheme === 'chdb') {
    if (!text.slice(scheme.length + 1).startsWith('//')) return fail(text, `expected ${scheme}:// then a path, e.g. ${scheme}:///var/lib/distillwatch${scheme === 'duckdb' ? '/store.duckdb' : ''}`);
    // Everything after "scheme://" is the path: "duckdb:///a/b" is /a/b, "duckdb://a/b" the relative a/b.
    const rest = text.slice(scheme.length + 3);
    const q = rest.indexOf('?');
    const path = decodeURIComponent(q < 0 ? rest : rest.slice(0, q));
    const params = new URLSearchParams(q < 0 ? '' : rest.slice(q + 1));
    if (path === '') return fail(text, 'no path given');
    if (scheme === 'duckdb') {
      if (q >= 0) return fail(text, 'a DuckDB store takes no options');
      return { ok: true, location: { kind: 'duckdb', path } };
    }
    for (const k of params.keys()) if (k !== 'database') return fail(text, `unknown option "${k}" (known: database)`);
    const db = databaseFrom(text, params.get('database'));
    if (!db.ok) return db;
    return { ok: true, location: { kind: 'chdb', path, database: db.database } };
  }
  if (scheme === 'clickhouse' || scheme === 'clickhouses') {
    let u: URL;
    try {
      u = new URL(text);
    } catch {
      return fail(text, 'not a URL such as clickhouse://user:pass@host:8123/db');
    }
    if (u.hostname === '') return fail(text, 'no host given');
    if (u.search !== '' || u.hash !== '') return fail(text, 'a ClickHouse URL takes no options (put the database in the path)');
    const path = u.pathname.replace(/^\//, '');
    if (path.includes('/')) return fail(text, 'the path names one database');
    const db = databaseFrom(text, decodeURIComponent(path));
    if (!db.ok) return db;
    const secure = scheme === 'clickhouses';
    const port = u.port || (secure ? '8443' : '8123');
    return {
      ok: true,
      location: {
        kind: 'clickhouse',
        url: `${secure ? 'https' : 'http'}://${u.hostname}:${port}`,
        username: decodeURIComponent(u.username) || 'default',
        password: decodeURIComponent(u.password),
        database: db.database,
        secure,
      },
    };
  }
  return fail(text, `unknown kind "${scheme}" (known: duckdb://, chdb://, clickhouse://)`);
}
