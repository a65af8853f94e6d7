/**
 * Simulated traffic of a chosen size for the benchmarks: the "medium" scenario, its scale
 * raised until the file holds at least the number of exchanges asked for (a scenario's
 * volume is only roughly proportional to its scale).
 */
import { join } from 'node:path';
import { writeSimulation } from '../traffic/simulate.js';

export async function writeMediumTraffic(file: string, dir: string, target: number): Promise<void> {
  let scale = target / 1_500_000;
  for (;;) {
    process.stderr.write(`generating ${file} (medium scenario, scale ${scale.toFixed(2)})\n`);
    const c = await writeSimulation({ scenario: 'medium', seed: 1, scale, out: file, truthOut: join(dir, 'truth.json') });
    if (c.exchanges >= target) return;
    scale *= (target / c.exchanges) * 1.05;
  }
}
