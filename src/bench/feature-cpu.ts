/**
 * Feature CPU benchmark (a script, not a test): CPU microseconds per exchange over the first
 * exchanges of a scenario (the "medium" one that bench:scan reads, by default), two ways:
 *
 * - the worker's whole path: what a feature worker runs per block of the input's bytes
 *   (`linesOfBlock`, then `featurize`: cut and decode the lines, `JSON.parse`, read and
 *   validate the record, compute the features, check and encode the row), over the same
 *   canonical JSONL a scan reads, in blocks of about 1 MiB as the scan's cutter makes them;
 * - `computeFeatures` alone, over the same exchanges already parsed.
 *
 * CPU time, not wall time, so that a busy machine moves the figure less. The two are
 * alternated round by round, so that a change of load hits both alike.
 *
 *   node dist/bench/feature-cpu.js [--exchanges 100000] [--rounds 3] [--seed 1] [--scenario medium]
 *   node --cpu-prof dist/bench/feature-cpu.js --only worker   (a profile of a worker's path)
 */
import { parseArgs } from 'node:util';
import type { Exchange } from '../core/exchange.js';
import { DEFAULT_MAX_LINE_BYTES, linesOfBlock, type LineBlock } from '../ingest/lines.js';
import { RecordReader } from '../ingest/read.js';
import { featurize } from '../pipeline/featurize.js';
import { computeFeatures } from '../signals/features.js';
import { prepareSimulation } from '../traffic/simulate.js';

/** Blocks of about this many bytes of whole lines, as the scan's 1 MiB reads give them. */
const BLOCK_BYTES = 1024 * 1024;

/** The lines as a scan's file holds them, cut into blocks of whole lines. */
function blocksOf(lines: readonly string[]): LineBlock[] {
  const blocks: LineBlock[] = [];
  let parts: string[] = [];
  let bytes = 0;
  let firstLine = 1;
  const flush = (): void => {
    if (parts.length === 0) return;
    blocks.push({ firstLine, bytes: new Uint8Array(Buffer.from(parts.join(''))) });
    firstLine += parts.length;
    parts = [];
    bytes = 0;
  };
  for (const line of lines) {
    parts.push(line + '\n');
    bytes += Buffer.byteLength(line) + 1;
    if (bytes >= BLOCK_BYTES) flush();
  }
  flush();
  return blocks;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      exchanges: { type: 'string', default: '100000' },
      rounds: { type: 'string', default: '3' },
      seed: { type: 'string', default: '1' },
      scenario: { type: 'string', default: 'medium' },
      only: { type: 'string' },
    },
  });
  const target = Number(values.exchanges);
  const rounds = Number(values.rounds);
  if (!Number.isSafeInteger(target) || target < 1) throw new Error(`--exchanges "${values.exchanges}" is not a positive whole number`);
  if (!Number.isSafeInteger(rounds) || rounds < 1) throw new Error(`--rounds "${values.rounds}" is not a positive whole number`);
  if (values.only !== undefined && values.only !== 'worker' && values.only !== 'features') throw new Error(`--only "${values.only}" is neither "worker" nor "features"`);
  const sim = await prepareSimulation({ scenario: values.scenario, seed: Number(values.seed) });
  // Through JSON, as a scan sees them: the file's lines, and parsed objects, not the simulator's own.
  const lines: string[] = [];
  for (const ex of sim.exchanges) {
    lines.push(JSON.stringify(ex));
    if (lines.length >= target) break;
  }
  const exchanges = lines.map((l) => JSON.parse(l) as Exchange);
  const blocks = blocksOf(lines);
  const opts = { ipHashKey: 'bench-key' };
  const path = 'bench.jsonl';

  const worker = (): number => {
    let sink = 0;
    for (const block of blocks) {
      // As feature-worker.ts does: a reader per block, the format known.
      const out = featurize(new RecordReader(path, 'canonical'), linesOfBlock(block, DEFAULT_MAX_LINE_BYTES), opts);
      const bad = out.bad[0];
      if (bad !== undefined) throw new Error(`line ${bad.bad.line} of the bench input is bad: ${bad.bad.reason}`);
      sink += out.rows.length;
    }
    return sink;
  };
  const features = (): number => {
    let sink = 0;
    for (const ex of exchanges) sink += computeFeatures(ex, opts).prompt_chars;
    return sink;
  };
  const modes = [
    { name: 'worker path (lines, parse, read, features, columns)', run: worker, best: Infinity, key: 'worker' },
    { name: 'computeFeatures alone', run: features, best: Infinity, key: 'features' },
  ].filter((m) => values.only === undefined || m.key === values.only);

  for (let r = 0; r < rounds; r++) {
    for (const m of modes) {
      const c = process.cpuUsage();
      const sink = m.run();
      const used = process.cpuUsage(c);
      const us = (used.user + used.system) / exchanges.length;
      m.best = Math.min(m.best, us);
      process.stdout.write(`round ${r + 1}, ${m.name}: ${us.toFixed(2)} µs CPU per exchange (${exchanges.length} exchanges, checksum ${sink})\n`);
    }
  }
  for (const m of modes) process.stdout.write(`${m.name}: best ${m.best.toFixed(2)} µs CPU per exchange\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`feature-cpu: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
