/**
 * The commands beyond scan: report, simulate, demo, bench.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { FIELD_FAMILIES, type FieldFamily } from '../bench/ablate.js';
import { runScenario, type ScenarioResult } from '../bench/detection.js';
import { confusion, flagsFromReport, perGroup, type TruthLike } from '../bench/metrics.js';
import { formatResults, ttdChartSvg } from '../bench/render.js';
import { SCENARIOS } from '../traffic/scenario.js';
import { writeSimulation } from '../traffic/simulate.js';
import { formatSummary } from '../report/summary.js';
import { UserError } from './errors.js';
import { loadParams, runScan } from './scan-command.js';
import { openCommandStore, STORE_OPTION_HELP, storeName, storeUrlOf } from './store-option.js';

function positiveNumber(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number, got "${v}"`);
    return n;
  };
}

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a whole number above 0, got "${v}"`);
    return n;
  };
}

function scenarioName(v: string): string {
  if (!(v in SCENARIOS)) throw new InvalidArgumentError(`unknown scenario "${v}"; known: ${Object.keys(SCENARIOS).join(', ')}`);
  return v;
}

export function registerExtraCommands(program: Command): void {
  program
    .command('report')
    .description('Print the summary of the latest scan saved in a store, and write its report.json again')
    .option('--db <file>', 'the store a scan wrote (DuckDB file)')
    .option('--store <url>', STORE_OPTION_HELP)
    .option('-o, --out <file>', 'write the report here too')
    .option('--max-accounts <n>', 'accounts listed in the summary', positiveNumber('--max-accounts'), 10)
    .action(async (o) => {
      const url = storeUrlOf(o);
      if (url === undefined) throw new UserError('report needs --db or --store: the store a scan wrote');
      const store = await openCommandStore(url, { readOnly: true });
      try {
        const report = await store.latestReport();
        if (!report) throw new UserError(`No report in the store "${storeName(url)}": no scan has finished into it`);
        if (o.out) writeFileSync(o.out, JSON.stringify(report, null, 2) + '\n');
        process.stdout.write(formatSummary(report, { maxAccounts: o.maxAccounts, color: process.stdout.isTTY === true }) + '\n');
      } finally {
        await store.close();
      }
    });

  program
    .command('simulate')
    .description('Write simulated traffic (canonical JSONL, gzip by .gz) and its ground truth')
    .requiredOption('--scenario <name>', `scenario name: ${Object.keys(SCENARIOS).join(', ')}`, scenarioName)
    .option('--out <file>', 'traffic file', 'traffic.jsonl.gz')
    .option('--truth <file>', 'ground-truth file', 'truth.json')
    .option('--seed <n>', 'random seed', positiveNumber('--seed'), 1)
    .option('--scale <x>', 'multiply the scenario volumes', positiveNumber('--scale'))
    .option('--datasets <dir>', 'folder of public prompt sets (*.jsonl.gz); built-in prompts when absent')
    .option('--shards <n>', "shards the actors are cut into (changes the traffic; default: the scenario's, else 1)", positiveInt('--shards'))
    .option('--workers <n>', 'threads writing the shards (the output is the same whatever this is; default: one per core)', positiveInt('--workers'))
    .action(async (o) => {
      const started = Date.now();
      const r = await writeSimulation({ scenario: o.scenario, seed: o.seed, out: o.out, truthOut: o.truth, ...(o.scale ? { scale: o.scale } : {}), ...(o.datasets ? { datasetsDir: o.datasets } : {}), ...(o.shards ? { shards: o.shards } : {}), ...(o.workers ? { workers: o.workers } : {}) });
      process.stderr.write(`wrote ${o.out} and ${o.truth}: ${JSON.stringify(r)} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    });

  program
    .command('demo')
    .description('Simulate a small population with two campaigns, scan it on the embedded store, and show the result')
    .option('--dir <dir>', 'where the demo writes its files', 'distillwatch-demo')
    .option('--seed <n>', 'random seed', positiveNumber('--seed'), 7)
    .action(async (o) => {
      mkdirSync(o.dir, { recursive: true });
      const traffic = join(o.dir, 'traffic.jsonl.gz');
      const truthFile = join(o.dir, 'truth.json');
      process.stderr.write(`simulating the "demo" scenario into ${traffic}\n`);
      await writeSimulation({ scenario: 'demo', seed: o.seed, out: traffic, truthOut: truthFile });
      const report = await runScan([traffic], {
        out: join(o.dir, 'report.json'),
        db: join(o.dir, 'demo.duckdb'),
        format: 'auto',
        fresh: true,
        progress: true,
        promptPreview: 200,
        maxAccounts: 5,
        summary: true,
      });
      // The demo knows the truth, so it can say how the verdicts compare; a real scan cannot.
      const truth = JSON.parse(readFileSync(truthFile, 'utf8')) as TruthLike;
      const flagged = new Set(flagsFromReport(report).keys());
      const c = confusion(truth, flagged);
      const g = perGroup(truth, flagged);
      const lines = [
        'Compared with the simulation\'s ground truth:',
        `  precision ${c.precision.toFixed(3)}, recall ${c.recall.toFixed(3)} (${c.tp} attacker accounts caught, ${c.fn} missed, ${c.fp} benign accounts flagged)`,
        ...Object.entries(g.playbooks).map(([k, v]) => `  playbook ${k}: ${v.caught}/${v.accounts} accounts caught`),
        ...Object.entries(g.populations).map(([k, v]) => `  benign ${k}: ${v.flagged}/${v.accounts} flagged`),
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });

  program
    .command('bench')
    .description('Detection benchmark: simulate scenarios, scan them, score against the truth and two baselines')
    .option('--scenarios <names>', 'comma-separated scenario names', 'small,benign-only')
    .option('--seeds <list>', 'comma-separated seeds (the spread across seeds is reported)', '1')
    .option('--scale <x>', 'multiply the scenario volumes', positiveNumber('--scale'))
    .option('--datasets <dir>', 'folder of public prompt sets; built-in prompts when absent')
    .option('--params <file>', 'detector parameters (JSON)')
    .option('--drop <families>', `field families removed from the logs before the scan, comma-separated (${FIELD_FAMILIES.join(', ')})`)
    .option('--people-volume <x>', 'multiply people\'s visits per day (ordinary users, bystanders, reseller customers), for the largest populations', positiveNumber('--people-volume'))
    .option('--memory', 'run the scan\'s engine on the logs in memory instead of through a store (same verdicts, much faster for large populations)')
    .option('--out <file>', 'results as JSON', 'bench.json')
    .option('--chart <file>', 'time-to-detect chart (SVG)', 'bench-ttd.svg')
    .action(async (o) => {
      const scenarios = String(o.scenarios).split(',').map((s) => scenarioName(s.trim()));
      const seeds = String(o.seeds).split(',').map((s) => {
        const n = Number(s);
        if (!Number.isInteger(n) || n < 0) throw new UserError(`Invalid seed "${s}": expected a whole number`);
        return n;
      });
      const params = loadParams(o.params);
      const drop = o.drop === undefined ? [] : String(o.drop).split(',').map((f) => {
        const family = f.trim();
        if (!(FIELD_FAMILIES as readonly string[]).includes(family)) throw new UserError(`Invalid --drop "${family}": expected one of ${FIELD_FAMILIES.join(', ')}`);
        return family as FieldFamily;
      });
      const results: ScenarioResult[] = [];
      for (const scenario of scenarios) {
        for (const seed of seeds) {
          process.stderr.write(`running ${scenario} seed ${seed}\n`);
          const r = await runScenario({ scenario, seed, ...(o.scale ? { scale: o.scale } : {}), ...(o.peopleVolume ? { peopleVolume: o.peopleVolume } : {}), ...(o.datasets ? { datasetsDir: o.datasets } : {}), ...(params ? { params } : {}), ...(drop.length ? { drop } : {}), ...(o.memory ? { scan: 'memory' as const } : {}) });
          results.push(r);
          process.stdout.write(formatResults([r]) + '\n');
        }
      }
      if (seeds.length > 1) process.stdout.write(formatSpread(results) + '\n');
      writeFileSync(o.out, JSON.stringify(results, null, 2) + '\n');
      writeFileSync(o.chart, ttdChartSvg(results));
      process.stderr.write(`wrote ${o.out} and ${o.chart}\n`);
    });
}

/** Mean and spread across seeds of each detector's precision and recall, per scenario. */
export function formatSpread(results: readonly ScenarioResult[]): string {
  const by = new Map<string, ScenarioResult[]>();
  for (const r of results) by.set(r.scenario, [...(by.get(r.scenario) ?? []), r]);
  const out: string[] = ['== spread across seeds (mean ± standard deviation, min–max)'];
  const stat = (xs: number[]): string => {
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1));
    return `${m.toFixed(3)} ± ${sd.toFixed(3)} (${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)})`;
  };
  for (const [scenario, rs] of by) {
    for (const name of rs[0]!.detectors.map((d) => d.name)) {
      const ds = rs.map((r) => r.detectors.find((d) => d.name === name)!);
      out.push(`${scenario} ${name}: precision ${stat(ds.map((d) => d.precision))}, recall ${stat(ds.map((d) => d.recall))}`);
    }
  }
  return out.join('\n');
}
