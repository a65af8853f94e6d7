import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { writeSimulation } from '../traffic/simulate.js';
import { ingest, startEarlyDetect } from './scan.js';

const dir = mkdtempSync(join(tmpdir(), 'dw-bounds-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The real store, with every batch it is handed recorded: its rows and their size (ExchangeColumns.sizes). */
function recording(store: Store): { store: Store; batches: { rows: number; chars: number; largest: number }[] } {
  const batches: { rows: number; chars: number; largest: number }[] = [];
  const appendColumns: Store['appendColumns'] = (rows, bad, cp) => {
    let chars = 0;
    let largest = 0;
    for (const size of rows.sizes) {
      chars += size;
      largest = Math.max(largest, size);
    }
    batches.push({ rows: rows.length, chars, largest });
    return store.appendColumns(rows, bad, cp);
  };
  // Every other call goes to the store itself, bound to it.
  const wrapped = new Proxy(store, {
    get: (target, key) => {
      if (key === 'appendColumns') return appendColumns;
      const v: unknown = Reflect.get(target, key);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { store: wrapped, batches };
}

describe('ingest bounds what the scan holds', () => {
  const traffic = join(dir, 'traffic.jsonl');
  let exchanges = 0;
  before(async () => {
    exchanges = (await writeSimulation({ scenario: 'demo', seed: 2, out: traffic, truthOut: join(dir, 'truth.json') })).exchanges;
  });

  for (const engineAlong of ['none', 'here', 'thread'] as const) {
    it(`hands the store batches of at most batchBytes of rows, every row stored once${engineAlong === 'none' ? '' : `, the engine fed along ${engineAlong === 'here' ? 'on the same thread' : 'on its own thread'}`}`, async () => {
      const real = await openStore(join(dir, `s-${engineAlong}.duckdb`));
      const early = engineAlong === 'none' ? null : await startEarlyDetect(real, undefined, { engineThread: engineAlong === 'thread' });
      try {
        const { store, batches } = recording(real);
        const batchBytes = 64 * 1024;
        const summary = await ingest({ inputs: [traffic], store, batchBytes, featureWorkers: 1, early });
        assert.equal(summary.read, exchanges);
        assert.equal((await real.counts()).exchanges, exchanges);
        if (early) {
          // The engine saw exactly the stored rows, in an order it could use (else it would say why not).
          const outcome = await early.finish(exchanges, { exchanges, accounts: 0, bad_records: 0, files: [] });
          assert.equal(outcome.ok, true, JSON.stringify(outcome));
        }
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
});
