import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStoreContract } from './contract.js';
import { openDuckDbStore } from './duckdb.js';

const dir = mkdtempSync(join(tmpdir(), 'dw-store-'));
let n = 0;
let last = '';
runStoreContract(
  'DuckDB',
  () => openDuckDbStore((last = join(dir, `s${++n}.duckdb`))),
  () => openDuckDbStore(last),
);

describe('openDuckDbStore', () => {
  it('names the file when it is not a database', async () => {
    const p = join(dir, 'not-a-db.duckdb');
    writeFileSync(p, 'hello, this is text');
    await assert.rejects(openDuckDbStore(p), (e: Error) => e.message.startsWith(`Cannot open the store "${p}"`));
  });
});
