/**
 * How a scan's cost grows (a script, not a test): the scan end to end at three sizes in
 * exchanges at a fixed population, and at three sizes in accounts at a fixed number of
 * exchanges per account, with a model of both fitted over the six scans and extrapolated.
 *
 *   node dist/bench/cost-growth.js [--quick] [--exchanges 1000000,4000000,16000000]
 *       [--accounts 10000,20000,40000] [--dir DIR] [--keep] [--out FILE.json] [--svg FILE.svg]
 *   node dist/bench/cost-growth.js --report FILE.json [--svg FILE.svg]   (the table, fit and chart again, from a saved run)
 *
 * Both series are the "medium" scenario (every playbook among a varied honest population):
 *   - in exchanges: one scale (the same accounts), the scenario stretched over more days
 *     until the file holds about the asked exchanges: every account active for longer (an
 *     attacker's campaign keeps its own length, so the extra exchanges are mostly honest);
 *   - in accounts: the scale raised (every population and attacker multiplied) over the
 *     scenario's usual 14 days, so exchanges per account stay about the same.
 * The scale and days for each size come from generations that count without writing (the
 * calibration: at a base scale for accounts, at the exchanges series' scale for the days),
 * since a scenario's volume is only roughly proportional to them; sizes are therefore about
 * the asked ones, and the table gives the ones measured. With --keep each file generated is
 * kept in --dir and reused by later runs with the same --dir (a file already there is always
 * reused); without it, a file is deleted once scanned: at the default sizes the six files are
 * about 40 GB of gzip (~1.1 KB an exchange), the largest alone about 18 GB.
 *
 * Each scan runs in a fresh process (scan-throughput's child: ingest with the engine fed
 * along, report written to a DuckDB store), and the bound, gunzip + JSON.parse of the same
 * file on one core, is measured in the same run: on a shared machine compare CPU seconds
 * and the share of the bound, not wall seconds.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readLines } from '../ingest/lines.js';
import { SCENARIOS } from '../traffic/scenario.js';
import { prepareSimulation, writeSimulation } from '../traffic/simulate.js';
import { costChartSvg } from './cost-chart.js';
import { fitCost } from './cost-fit.js';
import { chartPanels, formatReport, int, exchangesScale, planAccounts, planExchanges, TARGET, type Bound, type Calibration, type CostRow, type Plan, type Saved } from './cost-report.js';

const SCENARIO = 'medium';
const SEED = 1;
const CALIBRATION_SCALE = 0.25;

/**
 * The scenario stretched over `days`: the same actors, each active for longer. Registered
 * beside the named scenarios under a name of its own, so the simulator writes it as it
 * writes them (no option of the simulator sets the days).
 */
function stretched(days: number): string {
  const spec = SCENARIOS[SCENARIO]!;
  if (days === spec.days) return SCENARIO;
  const name = `${SCENARIO}-over-${days}-days`;
  SCENARIOS[name] ??= { ...spec, days, description: `${spec.description}, stretched over ${days} days` };
  return name;
}

/** Counts what the scenario gives at this scale over its usual days (cached in the folder with the traffic). */
async function calibrate(dir: string, scale: number): Promise<Calibration> {
  const file = join(dir, `calibration-scale${scale}.json`);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Calibration;
  process.stderr.write(`calibrating: ${SCENARIO} at scale ${scale}\n`);
  const sim = await prepareSimulation({ scenario: SCENARIO, seed: SEED, scale });
  let exchanges = 0;
  for (const _ of sim.exchanges) exchanges++;
  const c: Calibration = { scale, days: SCENARIOS[SCENARIO]!.days, exchanges, accounts: Object.keys(sim.truth.accounts).length };
  writeFileSync(file, JSON.stringify(c, null, 1) + '\n');
  return c;
}

const trafficPath = (dir: string, plan: Plan): string => join(dir, `${SCENARIO}-seed${SEED}-scale${plan.scale}-days${plan.days}.jsonl.gz`);
const truthPath = (file: string): string => file.replace(/\.jsonl\.gz$/, '.truth.json');

/** The traffic file of a plan, generated unless an earlier run left it (written aside, then renamed, so a stopped run leaves no half file). */
async function trafficFile(dir: string, plan: Plan): Promise<string> {
  const file = trafficPath(dir, plan);
  if (existsSync(file)) return file;
  process.stderr.write(`generating ${file}\n`);
  const partial = file + '.partial';
  await writeSimulation({ scenario: stretched(plan.days), seed: SEED, scale: plan.scale, out: partial, truthOut: truthPath(file) });
  renameSync(partial, file);
  return file;
}

async function measureBound(file: string): Promise<Bound> {
  const t = process.hrtime.bigint();
  const c = process.cpuUsage();
  let lines = 0;
  for await (const item of readLines(file)) {
    if ('text' in item) {
      JSON.parse(item.text);
      lines++;
    }
  }
  const used = process.cpuUsage(c);
  return { lines, wallSeconds: Number(process.hrtime.bigint() - t) / 1e9, cpuSeconds: (used.user + used.system) / 1e6 };
}

/** The fields of scan-throughput's child result read here, checked, so a change there fails with its name. */
function readChild(stdout: string): Pick<CostRow, 'exchanges' | 'accounts' | 'wallSeconds' | 'cpuSeconds' | 'peakRssMb' | 'storeMb'> {
  const r = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
  const num = (v: unknown, name: string): number => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`the scan's result has no number "${name}"`);
    return v;
  };
  const ph = (name: string): { wallSeconds: number; cpuSeconds: number } => {
    const p = (r[name] ?? {}) as Record<string, unknown>;
    return { wallSeconds: num(p.wallSeconds, `${name}.wallSeconds`), cpuSeconds: num(p.cpuSeconds, `${name}.cpuSeconds`) };
  };
  const ing = ph('ingest');
  const det = ph('detect');
  return {
    exchanges: num(r.exchanges, 'exchanges'),
    accounts: num(r.accounts, 'accounts'),
    wallSeconds: ing.wallSeconds + det.wallSeconds,
    cpuSeconds: ing.cpuSeconds + det.cpuSeconds,
    peakRssMb: num(r.maxRssMb, 'maxRssMb'),
    storeMb: num(r.storeMb, 'storeMb'),
  };
}

function scan(file: string, db: string): ReturnType<typeof readChild> {
  const child = fileURLToPath(new URL('./scan-throughput.js', import.meta.url));
  const r = spawnSync(process.execPath, ['--expose-gc', child, '--child', file, '--db', db], { encoding: 'utf8', maxBuffer: 1 << 24 });
  for (const f of [db, db + '.wal']) rmSync(f, { force: true });
  if (r.status !== 0) throw new Error(`the scan of "${file}" failed: ${r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`}`);
  return readChild(r.stdout);
}

function chart(saved: Saved): string {
  const fit = fitCost(saved.rows);
  return costChartSvg(`How a scan's cost grows (${saved.scenario} scenario; dashed: the fit, out to ${TARGET.name}'s size)`, chartPanels(saved.rows, fit.ok ? fit.fit : null));
}

function sizes(text: string, option: string, least: number): number[] {
  const out = text.split(',').map((s) => Number(s.trim()));
  if (out.length === 0 || out.some((n) => !Number.isSafeInteger(n) || n < least)) throw new UsageError(`${option} "${text}" is not a list of whole numbers of at least ${least}, comma-separated`);
  return out;
}

class UsageError extends Error {}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      exchanges: { type: 'string' },
      accounts: { type: 'string' },
      dir: { type: 'string' },
      keep: { type: 'boolean', default: false },
      out: { type: 'string' },
      svg: { type: 'string' },
      report: { type: 'string' },
    },
  });
  if (values.report !== undefined) {
    if (!existsSync(values.report)) throw new UsageError(`--report "${values.report}": no such file`);
    const saved = JSON.parse(readFileSync(values.report, 'utf8')) as Saved;
    if (values.svg) writeFileSync(values.svg, chart(saved));
    process.stdout.write(formatReport(saved, values.svg ?? null));
    return;
  }
  const exchanges = sizes(values.exchanges ?? (values.quick ? '100000,400000,1600000' : '1000000,4000000,16000000'), '--exchanges', 1000);
  const accounts = sizes(values.accounts ?? (values.quick ? '1000,2000,4000' : '10000,20000,40000'), '--accounts', 100);
  const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'distillwatch-costgrowth-'));
  mkdirSync(dir, { recursive: true });
  const base = await calibrate(dir, CALIBRATION_SCALE);
  const atScale = await calibrate(dir, exchangesScale(base, Math.min(...exchanges)));
  const saved: Saved = { scenario: SCENARIO, seed: SEED, calibrations: [base, atScale], rows: [] };
  for (const plan of [...planExchanges(atScale, exchanges), ...planAccounts(base, accounts)]) {
    const existed = existsSync(trafficPath(dir, plan));
    const file = await trafficFile(dir, plan);
    process.stderr.write(`measuring bare gunzip + JSON.parse of ${file}\n`);
    const bound = await measureBound(file);
    process.stderr.write(`scanning ${file} (${int(bound.lines)} exchanges)\n`);
    const s = scan(file, join(dir, 'cost.duckdb'));
    saved.rows.push({ series: plan.series, scale: plan.scale, days: plan.days, fileMb: statSync(file).size / 1e6, ...s, bound });
    process.stderr.write(`  ${int(s.exchanges)} exchanges, ${int(s.accounts)} accounts: ${s.cpuSeconds.toFixed(0)} s CPU, ${s.wallSeconds.toFixed(0)} s wall, peak RSS ${int(s.peakRssMb)} MB\n`);
    if (!values.keep && !existed) for (const f of [file, truthPath(file)]) rmSync(f, { force: true });
    // Saved after every scan, so a run stopped part way keeps what it measured.
    if (values.out) writeFileSync(values.out, JSON.stringify(saved, null, 1) + '\n');
  }
  if (values.svg) writeFileSync(values.svg, chart(saved));
  process.stdout.write(formatReport(saved, values.svg ?? null));
  if (!values.keep && !values.dir) rmSync(dir, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  process.stderr.write(`cost-growth: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(e instanceof UsageError ? 2 : 1);
});
