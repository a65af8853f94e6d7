import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openDuckDbStore } from '../store/duckdb/store.js';
import { TEST_KEYS, useStubUpstreamAndTempDir } from './_test-helpers.js';
import { killUnderLoadAndRestart, storedModels, tally } from './_process.js';

const fixture = useStubUpstreamAndTempDir('dw-crash-');
const { dir } = fixture;

const CLIENTS = 32;

test('kill -9 under 32-way load loses at most the commit window and doubles nothing after the restart', async () => {
  const storePath = join(dir, 'gw.duckdb');
  const config = { upstream: fixture.stub.url, keys: TEST_KEYS, replicaId: 'k1', storePath, spoolDir: join(dir, 'spool'), durability: { commitIntervalMs: 5 } };
  // Killed under load; the restart replays the write-ahead log; a clean stop then writes everything to the store.
  const answered = await killUnderLoadAndRestart(dir, config, 'm-kill', CLIENTS);

  const t = tally(answered, await storedModels(storePath, 'm-kill'));
  assert.equal(t.doubled, 0, `no exchange is stored twice: ${JSON.stringify(t)}`);
  // With one request at a time per client and a 5 ms window, at most one answer per client
  // can be in the group that had not reached the disk.
  assert.ok(t.lost <= CLIENTS, `lost ${t.lost} of ${t.answered} answered exchanges`);

  // The checkpoint goes on from where the last run left it, never back to 0.
  const store = await openDuckDbStore(storePath);
  try {
    const cp = await store.checkpoint({ key: 'gateway:k1', path: 'gateway:k1' });
    assert.ok(cp !== null && cp.line >= t.stored, `checkpoint ${cp?.line} after ${t.stored} stored`);
  } finally {
    await store.close();
  }
});
