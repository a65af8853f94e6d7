import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDuckDbStore } from '../store/duckdb/store.js';
import type { Store } from '../store/store.js';
import { computeFeatures } from '../signals/features.js';
import { ExchangeLog } from './exchange-log.js';
import { sleep, waitFor } from './_test-helpers.js';

function row(n: number) {
  return computeFeatures({
    id: `gw_log_${n}`,
    ts: new Date(Date.parse('2026-05-01T00:00:00Z') + n * 1000).toISOString(),
    account_id: 'acct_log',
    model: 'm',
    api: 'openai',
    request: { messages: [{ role: 'user', content: `Question ${n}` }] },
    response: { content: 'ok' },
    status: 200,
  });
}

test('exchanges arriving one by one while the store writes are stored in whole batches, and close writes the rest', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dw-log-'));
  const inner = await openDuckDbStore(':memory:');
  const sizes: number[] = [];
  // A store transaction takes time; exchanges keep coming while it runs.
  const store = new Proxy(inner, {
    get(target, prop, recv) {
      if (prop === 'append') {
        return async (...args: Parameters<Store['append']>) => {
          sizes.push(args[0].length);
          await sleep(15);
          return target.append(...args);
        };
      }
      const v = Reflect.get(target, prop, recv);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const log = new ExchangeLog({ store, replicaId: 'r1', spoolDir: join(dir, 'spool'), batchSize: 20, flushIntervalMs: 60_000 });
  try {
    for (let i = 0; i < 70; i++) {
      log.enqueue(row(i));
      await sleep(1);
    }
    // Wait for the writes themselves rather than a time: on a loaded machine they take longer.
    await waitFor(() => log.stored >= 60, 'three whole batches stored');
    assert.deepEqual(sizes, [20, 20, 20], 'each transaction costs the same whatever its size: no write of a few rows at a time');
    assert.equal(log.depth, 10, 'a part batch waits for the timer');
    await log.close();
    assert.deepEqual(sizes, [20, 20, 20, 10]);
    assert.equal(log.stored, 70);
    let stored = 0;
    for await (const b of inner.replay(100)) stored += b.length;
    assert.equal(stored, 70);
  } finally {
    await inner.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the checkpoint of gateway:<replica> goes on from the last run after a restart, never back to 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dw-log-'));
  const store = await openDuckDbStore(':memory:');
  const source = { key: 'gateway:r2', path: 'gateway:r2' };
  try {
    const first = new ExchangeLog({ store, replicaId: 'r2', spoolDir: join(dir, 'spool'), flushIntervalMs: 60_000 });
    for (let i = 0; i < 5; i++) first.enqueue(row(100 + i));
    await first.close();
    assert.equal((await store.checkpoint(source))?.line, 5);
    const second = new ExchangeLog({ store, replicaId: 'r2', spoolDir: join(dir, 'spool'), flushIntervalMs: 60_000 });
    for (let i = 0; i < 3; i++) second.enqueue(row(200 + i));
    await second.close();
    assert.equal((await store.checkpoint(source))?.line, 8);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
