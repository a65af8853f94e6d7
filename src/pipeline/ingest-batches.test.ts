import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prepareSimulation } from '../traffic/simulate.js';
import { collectAll, fixtureWriter } from '../ingest/test-fixtures.js';
import { FeaturePool } from './feature-pool.js';
import { ingestBatches } from './ingest-batches.js';
import type { ExchangeFeatures } from '../core/features.js';
import { rowsOfColumns } from '../store/column-batch.js';
import type { BadRecord } from '../store/store.js';
import type { Featurized } from './featurize.js';

const write = fixtureWriter('dw-ingest-batches-');

/** Several MiB of demo exchanges with every kind of bad line, and a first batch with no readable record. */
async function mixedInput(): Promise<Buffer> {
  const sim = await prepareSimulation({ scenario: 'demo', seed: 3 });
  const parts: Buffer[] = [];
  // Over a MiB of lines that are not records: the format stays unknown for a whole batch.
  for (let i = 0; i < 1500; i++) parts.push(Buffer.from(`not a record ${'x'.repeat(800)} ${i}\n`));
  let i = 0;
  for (const ex of sim.exchanges) {
    if (i++ >= 6000) break;
    const line = JSON.stringify(ex);
    if (i % 500 === 1) parts.push(Buffer.from(line.slice(0, line.length / 2) + '\n')); // truncated
    else if (i % 500 === 2) parts.push(Buffer.from(JSON.stringify({ ...ex, ts: 12 }) + '\n')); // wrong type
    else if (i % 500 === 3) parts.push(Buffer.concat([Buffer.from(line.slice(0, 40)), Buffer.from([0xff, 0xfe]), Buffer.from(line.slice(40) + '\n')])); // invalid UTF-8
    else if (i % 500 === 4) parts.push(Buffer.from('\n')); // blank
    else parts.push(Buffer.from(line + '\n'));
  }
  return Buffer.concat(parts);
}

/** A block's outcome as one list of rows and bad records in line order. */
type Ingested = { kind: 'row'; line: number; row: ExchangeFeatures } | { kind: 'bad'; bad: BadRecord };
function itemsOf(f: Featurized): Ingested[] {
  const rows = rowsOfColumns(f.rows);
  const out: Ingested[] = [];
  let b = 0;
  for (let r = 0; r <= rows.length; r++) {
    while (b < f.bad.length && f.bad[b]!.before === r) out.push({ kind: 'bad', bad: f.bad[b++]!.bad });
    if (r < rows.length) out.push({ kind: 'row', line: f.lines[r]!, row: rows[r]! });
  }
  return out;
}

const flat = (batches: Featurized[]) => batches.flatMap(itemsOf);

test('feature workers give the same rows and bad records, in the same order, as the scan thread alone', async () => {
  const path = write(await mixedInput());
  const alone = flat(await collectAll(ingestBatches(path, { format: 'auto', pool: null })));
  const pool = new FeaturePool(2);
  try {
    const pooled = flat(await collectAll(ingestBatches(path, { format: 'auto', pool })));
    assert.ok(alone.filter((x) => x.kind === 'row').length > 5000, 'most lines are rows');
    assert.ok(alone.filter((x) => x.kind === 'bad').length > 1500, 'every kind of bad line is set aside');
    assert.deepEqual(pooled, alone);
    // Resuming part-way gives the tail of the same outcome.
    const resumed = flat(await collectAll(ingestBatches(path, { format: 'auto', pool, skipLines: 4000 })));
    const lineOf = (x: Ingested) => (x.kind === 'row' ? x.line : x.bad.line);
    assert.deepEqual(resumed, alone.filter((x) => (lineOf(x) ?? 0) > 4000));
  } finally {
    await pool.close();
  }
});

test('a feature pool refuses a size that is not a whole number of at least one', () => {
  assert.throws(() => new FeaturePool(0), /at least 1/);
});
