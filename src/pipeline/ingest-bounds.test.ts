import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../store/open.js';
import type { BatchWriter, Store } from '../store/store.js';
import { BufferedBatch } from '../store/buffered-batch.js';
import { writeSimulation } from '../traffic/simulate.js';
import { ingest, startEarlyDetect } from './scan.js';

const dir = mkdtempSync(join(tmpdir(), 'dw-bounds-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** What the store was handed: each batch's rows and size (ExchangeColumns.sizes), and the most parts it had not taken yet at once. */
interface Handed {
  batches: { rows: number; chars: number; largest: number }[];
  mostWaiting: number;
}

/**
 * The real store, with every batch it is handed recorded. `holding`: its batches hold their
 * rows until the commit (as ClickHouse's do), so the scan bounds them by bytes; else the
 * store's own batches, which take each part as it comes (DuckDB's).
 */
function recording(store: Store, holding: boolean): { store: Store; handed: Handed } {
  const handed: Handed = { batches: [], mostWaiting: 0 };
  const appendColumns: Store['appendColumns'] = (rows, bad, cp) => {
    let chars = 0;
    let largest = 0;
    for (const size of rows.sizes) {
      chars += size;
      largest = Math.max(largest, size);
    }
    handed.batches.push({ rows: rows.length, chars, largest });
    return store.appendColumns(rows, bad, cp);
  };
  let waiting = 0;
  const openBatch = (): BatchWriter => {
    if (holding) return new BufferedBatch({ appendColumns });
    const inner = store.openBatch();
    const seen = { rows: 0, chars: 0, largest: 0 };
    return {
      get rows() {
        return inner.rows;
      },
      holdsRows: inner.holdsRows,
      add: async (rows) => {
        for (const size of rows.sizes) {
          seen.chars += size;
          seen.largest = Math.max(seen.largest, size);
        }
        seen.rows += rows.length;
        handed.mostWaiting = Math.max(handed.mostWaiting, ++waiting);
        try {
          await inner.add(rows);
        } finally {
          waiting--;
        }
      },
      commit: (bad, cp) => {
        handed.batches.push(seen);
        return inner.commit(bad, cp);
      },
      abandon: () => inner.abandon(),
    };
  };
  // Every other call goes to the store itself, bound to it.
  const wrapped = new Proxy(store, {
    get: (target, key) => {
      if (key === 'appendColumns') return appendColumns;
      if (key === 'openBatch') return openBatch;
      const v: unknown = Reflect.get(target, key);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { store: wrapped, handed };
}

describe('ingest bounds what the scan holds', () => {
  const traffic = join(dir, 'traffic.jsonl');
  let exchanges = 0;
  before(async () => {
    exchanges = (await writeSimulation({ scenario: 'demo', seed: 2, out: traffic, truthOut: join(dir, 'truth.json') })).exchanges;
  });

  for (const engineAlong of ['none', 'here', 'thread'] as const) {
    const along = engineAlong === 'none' ? '' : `, the engine fed along ${engineAlong === 'here' ? 'on the same thread' : 'on its own thread'}`;
    it(`hands a store that holds its batches batches of at most batchBytes of rows, every row stored once${along}`, async () => {
      const real = await openStore(join(dir, `s-${engineAlong}.duckdb`));
      const early = engineAlong === 'none' ? null : await startEarlyDetect(real, undefined, { engineThread: engineAlong === 'thread' });
      try {
        const { store, handed } = recording(real, true);
        const batchBytes = 64 * 1024;
        const summary = await ingest({ inputs: [traffic], store, batchBytes, featureWorkers: 1, early });
        assert.equal(summary.read, exchanges);
        assert.equal((await real.counts()).exchanges, exchanges);
        if (early) {
          // The engine saw exactly the stored rows, in an order it could use (else it would say why not).
          const outcome = await early.finish(exchanges, { exchanges, accounts: 0, bad_records: 0, files: [] });
          assert.equal(outcome.ok, true, JSON.stringify(outcome));
        }
        const { batches } = handed;
        const rows = batches.reduce((n, b) => n + b.rows, 0);
        assert.equal(rows, exchanges);
        // A batch is sent once it reaches the bound: it passes it by at most its last row.
        for (const b of batches) assert.ok(b.chars - b.largest < batchBytes, `a batch of ${b.rows} rows holds ${b.chars} characters, over the bound of ${batchBytes}`);
        // And it is sent no sooner: every batch but the input's last is full.
        assert.ok(batches.length > 1, `${batches.length} batches`);
        for (const b of batches.slice(0, -1)) assert.ok(b.chars >= batchBytes, `a batch of ${b.rows} rows was sent at ${b.chars} characters, short of ${batchBytes}`);
      } finally {
        await early?.close();
        await real.close();
      }
    });
  }

  it('hands a store that takes each part as it comes its parts at once, batches of batchSize rows, every row stored once', async () => {
    const real = await openStore(join(dir, 's-parts.duckdb'));
    const early = await startEarlyDetect(real, undefined, { engineThread: true });
    assert.ok(early, 'an empty store is scanned with the engine fed along');
    try {
      const { store, handed } = recording(real, false);
      // Far below the rows' bytes: a store that takes the parts is not bound by it.
      const batchSize = 700;
      const summary = await ingest({ inputs: [traffic], store, batchSize, batchBytes: 1024, featureWorkers: 1, early });
      assert.equal(summary.read, exchanges);
      assert.equal((await real.counts()).exchanges, exchanges);
      const outcome = await early.finish(exchanges, { exchanges, accounts: 0, bad_records: 0, files: [] });
      assert.equal(outcome.ok, true, JSON.stringify(outcome));
      const { batches } = handed;
      assert.equal(batches.reduce((n, b) => n + b.rows, 0), exchanges);
      assert.ok(batches.length > 2, `${batches.length} batches`);
      for (const b of batches.slice(0, -1)) assert.equal(b.rows, batchSize);
      // The scan waited for the store whenever more parts than a few were not taken yet.
      assert.ok(handed.mostWaiting >= 1 && handed.mostWaiting <= 5, `${handed.mostWaiting} parts waiting at once`);
    } finally {
      await early.close();
      await real.close();
    }
  });
});
