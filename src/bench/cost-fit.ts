/**
 * How a scan's cost grows, as two small linear models fitted by least squares over measured
 * scans: CPU seconds ≈ a·exchanges + b·accounts (no constant: a scan of nothing costs
 * nothing worth fitting), and peak RSS ≈ c + d·accounts + e·exchanges (a base for the
 * process, its threads and the store, then what grows). If memory is flat in exchanges, e
 * comes out near zero.
 *
 * Pure functions, so the fit and what it extrapolates can be checked without a scan.
 */

/** One measured scan, the figures the models are fitted on. */
export interface CostPoint {
  exchanges: number;
  accounts: number;
  /** CPU seconds of every thread of the scan's process, ingest to report written. */
  cpuSeconds: number;
  peakRssMb: number;
}

export interface CostFit {
  /** CPU seconds ≈ cpuPerExchange·exchanges + cpuPerAccount·accounts. */
  cpuPerExchange: number;
  cpuPerAccount: number;
  /** Peak RSS (MB) ≈ rssBaseMb + rssPerAccountMb·accounts + rssPerExchangeMb·exchanges. */
  rssBaseMb: number;
  rssPerAccountMb: number;
  rssPerExchangeMb: number;
  /** Points the models were fitted on. */
  points: number;
}

export type FitResult = { ok: true; fit: CostFit } | { ok: false; reason: string };

/**
 * Least squares for y ≈ X·β. Columns are scaled to their largest magnitude before the normal
 * equations are solved (exchanges are counted in millions, accounts in thousands: unscaled,
 * the equations lose the accounts' column to rounding), then the coefficients scaled back.
 * Returns null when the columns are not independent (e.g. every point has the same accounts
 * per exchange, so the two cannot be told apart).
 */
export function leastSquares(rows: readonly (readonly number[])[], y: readonly number[]): number[] | null {
  const k = rows[0]?.length ?? 0;
  if (k === 0 || rows.length < k || rows.length !== y.length) return null;
  const scale = Array.from({ length: k }, (_, j) => Math.max(...rows.map((r) => Math.abs(r[j]!))) || 1);
  // Normal equations (XᵀX)β = Xᵀy on the scaled columns, as an augmented matrix.
  const m: number[][] = Array.from({ length: k }, (_, i) =>
    [...Array.from({ length: k }, (_, j) => rows.reduce((s, r) => s + (r[i]! / scale[i]!) * (r[j]! / scale[j]!), 0)), rows.reduce((s, r, n) => s + (r[i]! / scale[i]!) * y[n]!, 0)],
  );
  for (let col = 0; col < k; col++) {
    let pivot = col;
    for (let r = col + 1; r < k; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    if (Math.abs(m[pivot]![col]!) < 1e-9 * rows.length) return null;
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    for (let r = 0; r < k; r++) {
      if (r === col) continue;
      const f = m[r]![col]! / m[col]![col]!;
      for (let c = col; c <= k; c++) m[r]![c]! -= f * m[col]![c]!;
    }
  }
  return m.map((row, i) => row[k]! / row[i]! / scale[i]!);
}

/** Fits both models over every point (both series together: one alone cannot tell exchanges from accounts). */
export function fitCost(points: readonly CostPoint[]): FitResult {
  if (points.length < 3) return { ok: false, reason: `${points.length} points measured; the memory model needs at least 3` };
  const cpu = leastSquares(points.map((p) => [p.exchanges, p.accounts]), points.map((p) => p.cpuSeconds));
  const rss = leastSquares(points.map((p) => [1, p.accounts, p.exchanges]), points.map((p) => p.peakRssMb));
  if (cpu === null || rss === null) return { ok: false, reason: 'the points do not vary exchanges and accounts independently (measure both series)' };
  return { ok: true, fit: { cpuPerExchange: cpu[0]!, cpuPerAccount: cpu[1]!, rssBaseMb: rss[0]!, rssPerAccountMb: rss[1]!, rssPerExchangeMb: rss[2]!, points: points.length } };
}

/** What the models expect of a scan of this size. */
export function predictCost(fit: CostFit, size: { exchanges: number; accounts: number }): { cpuSeconds: number; peakRssMb: number } {
  return {
    cpuSeconds: fit.cpuPerExchange * size.exchanges + fit.cpuPerAccount * size.accounts,
    peakRssMb: fit.rssBaseMb + fit.rssPerAccountMb * size.accounts + fit.rssPerExchangeMb * size.exchanges,
  };
}
