import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Exchange } from '../core/exchange.js';
import { prepareSimulation } from '../traffic/simulate.js';
import { runScenario } from './detection.js';
import { memoryScan } from './memory-scan.js';

describe('memoryScan', () => {
  it('gives the verdicts, times and campaigns of a scan through the store', async () => {
    const [stored, memory] = [await runScenario({ scenario: 'demo', seed: 13 }), await runScenario({ scenario: 'demo', seed: 13, scan: 'memory' })];
    assert.ok(stored.detectors[0]!.tp > 0, 'the demo has campaigns to find');
    assert.deepEqual(memory.detectors, stored.detectors);
    assert.deepEqual(memory.reconstruction, stored.reconstruction);
    assert.deepEqual(memory.ttdSamples, stored.ttdSamples);
    assert.equal(memory.exchanges, stored.exchanges);
    assert.equal(memory.accounts, stored.accounts);
  });

  it('scans logs whose times are cut to the hour, a late line an hour behind the one before it', async () => {
    // Written a second apart across an hour boundary, out of order, then cut to the hour.
    const sim = await prepareSimulation({ scenario: 'demo', seed: 13 });
    const rows: Exchange[] = [];
    for (const ex of sim.exchanges) if (rows.length < 40) rows.push(ex);
    // Twenty lines in hour 0, one in hour 1, then a line of hour 0 written late (its id sorts first), then hour 1.
    const at = (i: number): string => (i < 20 || i === 21 ? '2026-04-22T00:00:00.000Z' : '2026-04-22T01:00:00.000Z');
    const lines = rows.map((ex, i) => JSON.stringify({ ...ex, ts: at(i), ...(i === 21 ? { id: 'a-late' } : {}) }));
    const dir = mkdtempSync(join(tmpdir(), 'dw-memscan-'));
    try {
      const file = join(dir, 'cut.jsonl');
      writeFileSync(file, lines.join('\n') + '\n');
      const report = await memoryScan(file);
      assert.equal(report.input.exchanges, 40);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
