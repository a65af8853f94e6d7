/**
 * The pure parts of the cost-growth benchmark: which simulator settings give which size, the
 * results as a markdown table with the fit and its extrapolation, and the chart's panels.
 */
import { formatCount, type ChartPanel, type ChartPoint } from './cost-chart.js';
import { fitCost, predictCost, type CostFit } from './cost-fit.js';

/** The campaign this product exists for, as `hydra-28m` writes it at full scale. */
export const TARGET = { name: 'hydra-28m', exchanges: 49_043_771, accounts: 134_085 };

export type Series = 'exchanges' | 'accounts';

/** What the scenario gives at one scale over its usual days, counted from a generation that writes nothing. */
export interface Calibration {
  scale: number;
  days: number;
  exchanges: number;
  accounts: number;
}

export interface Bound {
  lines: number;
  wallSeconds: number;
  cpuSeconds: number;
}

export interface CostRow {
  series: Series;
  scale: number;
  /** Days of traffic the scenario was stretched over. */
  days: number;
  fileMb: number;
  exchanges: number;
  accounts: number;
  wallSeconds: number;
  /** CPU seconds of every thread of the scan's process. */
  cpuSeconds: number;
  peakRssMb: number;
  storeMb: number;
  /** gunzip + JSON.parse of the same file on one core, measured just before the scan. */
  bound: Bound;
}

export interface Saved {
  scenario: string;
  seed: number;
  /** The generations the sizes were planned from: at a base scale, and at the exchanges series' scale. */
  calibrations: Calibration[];
  rows: CostRow[];
}

/** The simulator settings that give about this size, from the calibration's counts. */
export interface Plan {
  series: Series;
  target: number;
  scale: number;
  days: number;
}

const round = (x: number, digits: number): number => Number(x.toPrecision(digits));

/**
 * The scale for the exchanges series: the one whose usual days give about its smallest size,
 * taking exchanges as proportional to the scale (roughly so: a product or an attacker the
 * scale would make a fraction of one is still one, so small scales give more).
 */
export function exchangesScale(c: Calibration, smallest: number): number {
  return round((c.scale * smallest) / c.exchanges, 3);
}

/**
 * The exchanges series at the calibration's scale, over more days: the same accounts, each
 * active longer (an attacker's campaign keeps its own length, so the added exchanges are
 * mostly the honest population's). Exchanges taken as proportional to the days.
 */
export function planExchanges(c: Calibration, exchanges: readonly number[]): Plan[] {
  return exchanges.map((target) => ({ series: 'exchanges' as const, target, scale: c.scale, days: Math.max(c.days, Math.round((c.days * target) / c.exchanges)) }));
}

/** The accounts series over the usual days: accounts taken as proportional to the scale. */
export function planAccounts(c: Calibration, accounts: readonly number[]): Plan[] {
  return accounts.map((target) => ({ series: 'accounts' as const, target, scale: round((target * c.scale) / c.accounts, 3), days: c.days }));
}

export const int = (x: number): string => Math.round(x).toLocaleString('en-US');
const us = (seconds: number, n: number): number => (1e6 * seconds) / n;

/** The results as markdown: the table, the fit and the extrapolation. */
export function formatReport(saved: Saved, svgName: string | null): string {
  const rows = saved.rows;
  const out: string[] = [
    '| series | scale | days | exchanges | accounts | wall s | CPU s | exchanges/s (wall) | CPU µs / exchange | bound CPU µs / line | share of the bound, CPU | peak RSS | store |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => {
      const scanUs = us(r.cpuSeconds, r.exchanges);
      const boundUs = us(r.bound.cpuSeconds, r.bound.lines);
      return `| ${r.series} | ${r.scale} | ${r.days} | ${int(r.exchanges)} | ${int(r.accounts)} | ${r.wallSeconds.toFixed(0)} | ${r.cpuSeconds.toFixed(0)} | ${int(r.exchanges / r.wallSeconds)} | ${scanUs.toFixed(1)} | ${boundUs.toFixed(1)} | ${((100 * boundUs) / scanUs).toFixed(1)}% | ${int(r.peakRssMb)} MB | ${int(r.storeMb)} MB |`;
    }),
    '',
  ];
  const ex = rows.filter((r) => r.series === 'exchanges');
  if (ex.length > 1) {
    const accts = ex.map((r) => r.accounts);
    out.push(`The exchanges series holds ${int(Math.min(...accts))} to ${int(Math.max(...accts))} accounts (${(100 * (Math.max(...accts) / Math.min(...accts) - 1)).toFixed(1)}% apart) while its exchanges grow ${(Math.max(...ex.map((r) => r.exchanges)) / Math.min(...ex.map((r) => r.exchanges))).toFixed(1)}-fold.`);
  }
  const ac = rows.filter((r) => r.series === 'accounts');
  if (ac.length > 1) {
    const per = ac.map((r) => r.exchanges / r.accounts);
    out.push(`The accounts series keeps ${per.map((x) => x.toFixed(0)).join(', ')} exchanges per account.`);
  }
  const fit = fitCost(rows.map((r) => ({ exchanges: r.exchanges, accounts: r.accounts, cpuSeconds: r.cpuSeconds, peakRssMb: r.peakRssMb })));
  if (!fit.ok) {
    out.push('', `No fit: ${fit.reason}.`);
  } else {
    const f = fit.fit;
    const worst = (pick: (p: { cpuSeconds: number; peakRssMb: number }) => number): string =>
      (100 * Math.max(...rows.map((r) => Math.abs(pick(predictCost(f, r)) / pick(r) - 1)))).toFixed(0) + '%';
    const t = predictCost(f, TARGET);
    out.push(
      '',
      `Fitted over the ${f.points} scans (least squares):`,
      `- CPU seconds ≈ ${(1e6 * f.cpuPerExchange).toFixed(1)} µs × exchanges + ${(1e3 * f.cpuPerAccount).toFixed(2)} ms × accounts (largest miss on a measured scan: ${worst((p) => p.cpuSeconds)})`,
      `- peak RSS ≈ ${int(f.rssBaseMb)} MB + ${((1e6 * f.rssPerAccountMb) / 1e3).toFixed(1)} KB × accounts + ${(1e6 * f.rssPerExchangeMb).toFixed(1)} MB per million exchanges (largest miss: ${worst((p) => p.peakRssMb)})`,
      `- expected for ${TARGET.name} (${int(TARGET.exchanges)} exchanges, ${int(TARGET.accounts)} accounts): ${int(t.cpuSeconds)} CPU seconds (${(t.cpuSeconds / 2 / 60).toFixed(0)} min of wall if both cores are kept busy, ${(t.cpuSeconds / 60).toFixed(0)} on one), peak RSS ${(t.peakRssMb / 1000).toFixed(1)} GB`,
    );
  }
  if (svgName !== null) out.push('', `![CPU seconds and peak RSS against exchanges and against accounts](${svgName})`);
  return out.join('\n') + '\n';
}

/** Geometric steps from `lo` to `hi`, for the model's dashed line. */
function steps(lo: number, hi: number, n = 24): number[] {
  return Array.from({ length: n + 1 }, (_, i) => lo * (hi / lo) ** (i / n));
}

/** The four panels: CPU and peak RSS against exchanges (fixed accounts) and against accounts (fixed exchanges per account). */
export function chartPanels(rows: readonly CostRow[], fit: CostFit | null): ChartPanel[] {
  const ex = rows.filter((r) => r.series === 'exchanges');
  const ac = rows.filter((r) => r.series === 'accounts');
  const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
  const fixedAccounts = mean(ex.map((r) => r.accounts));
  const perAccount = mean(ac.map((r) => r.exchanges / r.accounts));
  const alongEx = (pick: (c: { cpuSeconds: number; peakRssMb: number }) => number): ChartPoint[] =>
    fit === null || ex.length === 0 ? [] : steps(Math.min(...ex.map((r) => r.exchanges)), TARGET.exchanges).map((x) => ({ x, y: pick(predictCost(fit, { exchanges: x, accounts: fixedAccounts })) }));
  const alongAc = (pick: (c: { cpuSeconds: number; peakRssMb: number }) => number): ChartPoint[] =>
    fit === null || ac.length === 0 ? [] : steps(Math.min(...ac.map((r) => r.accounts)), TARGET.accounts).map((x) => ({ x, y: pick(predictCost(fit, { exchanges: x * perAccount, accounts: x })) }));
  const exTitle = `at ~${formatCount(fixedAccounts)} accounts`;
  const acTitle = `at ~${perAccount.toFixed(0)} exchanges per account`;
  return [
    { title: `CPU against exchanges, ${exTitle}`, xLabel: 'exchanges', yLabel: 'CPU (all threads)', xUnit: 'count', yUnit: 'seconds', measured: ex.map((r) => ({ x: r.exchanges, y: r.cpuSeconds })), expected: alongEx((c) => c.cpuSeconds) },
    { title: `CPU against accounts, ${acTitle}`, xLabel: 'accounts', yLabel: 'CPU (all threads)', xUnit: 'count', yUnit: 'seconds', measured: ac.map((r) => ({ x: r.accounts, y: r.cpuSeconds })), expected: alongAc((c) => c.cpuSeconds) },
    { title: `Peak RSS against exchanges, ${exTitle}`, xLabel: 'exchanges', yLabel: 'peak RSS', xUnit: 'count', yUnit: 'mb', measured: ex.map((r) => ({ x: r.exchanges, y: r.peakRssMb })), expected: alongEx((c) => c.peakRssMb) },
    { title: `Peak RSS against accounts, ${acTitle}`, xLabel: 'accounts', yLabel: 'peak RSS', xUnit: 'count', yUnit: 'mb', measured: ac.map((r) => ({ x: r.accounts, y: r.peakRssMb })), expected: alongAc((c) => c.peakRssMb) },
  ];
}

