/**
 * The reference documents name everything a user meets: each detector parameter, each
 * field of report.json, each table and column of the store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { DEFAULT_PARAMS } from './detect/params.js';
import { sampleReport } from './store/contract.js';
import { openDuckDbStore } from './store/duckdb/store.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const doc = (name: string): string => readFileSync(join(ROOT, 'docs', name), 'utf8');

test('docs/parameters.md documents every detector parameter with its default', () => {
  const text = doc('parameters.md');
  for (const [k, v] of Object.entries(DEFAULT_PARAMS)) {
    assert.match(text, new RegExp(`\\| \`${k}\` \\| ${v}[ |]`), `${k} (default ${v})`);
  }
});

test('docs/formats.md documents every field of report.json', () => {
  const text = doc('formats.md');
  const section = text.slice(text.indexOf('## report.json'));
  assert.ok(section.length > 20, 'a report.json section');
  const r = sampleReport();
  const fields = [
    ...Object.keys(r),
    ...Object.keys(r.input),
    'sources',
    'path',
    'lines',
    'complete',
    'this_scan',
    ...Object.keys(r.campaigns[0]!),
    'findings',
    ...Object.keys(r.campaigns[0]!.indicators),
    ...Object.keys(r.accounts[0]!),
    ...Object.keys(r.engine!),
  ];
  for (const f of fields) assert.match(section, new RegExp('[`.]' + f + '[`.\\[]'), f);
});

test('docs/store.md documents every table and column of the store', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dw-docs-'));
  try {
    const path = join(dir, 's.duckdb');
    await (await openDuckDbStore(path)).close();
    const db = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
    const conn = await db.connect();
    const rows = (await conn.runAndReadAll("SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'")).getRows();
    conn.closeSync();
    db.closeSync();
    assert.ok(rows.length > 20);
    const text = doc('store.md');
    for (const [table, column] of rows) {
      assert.match(text, new RegExp(`\\| \`${String(table)}\` \\|`), `table ${String(table)}`);
      assert.match(text, new RegExp(`\`${String(column)}\``), `column ${String(table)}.${String(column)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
