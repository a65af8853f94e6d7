import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fitCost, leastSquares, predictCost, type CostPoint } from './cost-fit.js';

const close = (actual: number, expected: number, what: string): void => assert.ok(Math.abs(actual - expected) <= 1e-6 * Math.max(1, Math.abs(expected)), `${what}: ${actual}, expected ${expected}`);

/** Scans costing exactly 120 µs a exchange and 2 ms an account, 600 MB + 15 KB an account of memory, flat in exchanges. */
function exact(exchanges: number, accounts: number): CostPoint {
  return { exchanges, accounts, cpuSeconds: 120e-6 * exchanges + 2e-3 * accounts, peakRssMb: 600 + 0.015 * accounts };
}

const BOTH_SERIES = [exact(1e6, 5000), exact(4e6, 5100), exact(16e6, 5200), exact(1.9e6, 10_000), exact(3.8e6, 20_000), exact(7.6e6, 40_000)];

describe('fitCost', () => {
  it('recovers the constants of a cost that is exactly linear, memory flat in exchanges', () => {
    const r = fitCost(BOTH_SERIES);
    assert.ok(r.ok, r.ok ? '' : r.reason);
    close(r.fit.cpuPerExchange, 120e-6, 'CPU per exchange');
    close(r.fit.cpuPerAccount, 2e-3, 'CPU per account');
    close(r.fit.rssBaseMb, 600, 'memory base');
    close(r.fit.rssPerAccountMb, 0.015, 'memory per account');
    assert.ok(Math.abs(r.fit.rssPerExchangeMb) < 1e-9, `memory per exchange ${r.fit.rssPerExchangeMb}, expected 0`);
    assert.equal(r.fit.points, 6);
  });

  it('extrapolates with the fitted constants', () => {
    const r = fitCost(BOTH_SERIES);
    assert.ok(r.ok);
    const t = predictCost(r.fit, { exchanges: 49_043_771, accounts: 134_085 });
    close(t.cpuSeconds, 120e-6 * 49_043_771 + 2e-3 * 134_085, 'CPU seconds');
    close(t.peakRssMb, 600 + 0.015 * 134_085, 'peak RSS');
  });

  it('gives the least-squares line through noisy points', () => {
    // y = 2x + 1 with residuals +1, -1, -1, +1: the best line is still y = 2x + 1.
    const beta = leastSquares([[1, 0], [1, 1], [1, 2], [1, 3]], [2, 2, 4, 8]);
    assert.ok(beta);
    close(beta[0]!, 1, 'intercept');
    close(beta[1]!, 2, 'slope');
  });

  it('refuses points that cannot tell exchanges from accounts', () => {
    // One series alone at a fixed number of exchanges per account: the two columns are proportional.
    const r = fitCost([exact(1e6, 5000), exact(2e6, 10_000), exact(4e6, 20_000)]);
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.reason, /independently/);
  });

  it('refuses fewer points than the memory model has constants', () => {
    const r = fitCost(BOTH_SERIES.slice(0, 2));
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.reason, /2 points/);
  });
});
