/**
 * Feature CPU benchmark (a script, not a test): CPU microseconds per exchange of
 * `computeFeatures` alone, over the first exchanges of a scenario (the "medium" one that
 * bench:scan reads, by default), read back from JSON as a
 * scan reads them. CPU time, not wall time, so that a busy machine moves the figure less.
 *
 *   node dist/bench/feature-cpu.js [--exchanges 100000] [--rounds 3] [--seed 1] [--scenario medium]
 *   node --cpu-prof dist/bench/feature-cpu.js   (a profile of the feature function)
 */
import { parseArgs } from 'node:util';
import type { Exchange } from '../core/exchange.js';
import { computeFeatures } from '../signals/features.js';
import { prepareSimulation } from '../traffic/simulate.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      exchanges: { type: 'string', default: '100000' },
      rounds: { type: 'string', default: '3' },
      seed: { type: 'string', default: '1' },
      scenario: { type: 'string', default: 'medium' },
    },
  });
  const target = Number(values.exchanges);
  const rounds = Number(values.rounds);
  if (!Number.isSafeInteger(target) || target < 1) throw new Error(`--exchanges "${values.exchanges}" is not a positive whole number`);
  if (!Number.isSafeInteger(rounds) || rounds < 1) throw new Error(`--rounds "${values.rounds}" is not a positive whole number`);
  const sim = await prepareSimulation({ scenario: values.scenario, seed: Number(values.seed) });
  // Through JSON, as a scan sees them: parsed objects, not the simulator's own.
  const exchanges: Exchange[] = [];
  for (const ex of sim.exchanges) {
    exchanges.push(JSON.parse(JSON.stringify(ex)) as Exchange);
    if (exchanges.length >= target) break;
  }
  const opts = { ipHashKey: 'bench-key' };
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const c = process.cpuUsage();
    let sink = 0;
    for (const ex of exchanges) sink += computeFeatures(ex, opts).prompt_chars;
    const used = process.cpuUsage(c);
    const us = (used.user + used.system) / exchanges.length;
    best = Math.min(best, us);
    process.stdout.write(`round ${r + 1}: ${us.toFixed(2)} µs CPU per exchange (${exchanges.length} exchanges, checksum ${sink})\n`);
  }
  process.stdout.write(`computeFeatures: best ${best.toFixed(2)} µs CPU per exchange\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`feature-cpu: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
