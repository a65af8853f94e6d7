import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chartPanels, exchangesScale, formatReport, planAccounts, planExchanges, type Calibration, type CostRow, type Saved } from './cost-report.js';

// 500,000 exchanges and 2,500 accounts at scale 0.25 over 14 days.
const CALIBRATION: Calibration = { scale: 0.25, days: 14, exchanges: 500_000, accounts: 2_500 };

function row(series: CostRow['series'], exchanges: number, accounts: number): CostRow {
  const cpuSeconds = 120e-6 * exchanges + 2e-3 * accounts;
  return { series, scale: 1, days: 14, fileMb: exchanges / 4000, exchanges, accounts, wallSeconds: cpuSeconds / 1.8, cpuSeconds, peakRssMb: 600 + 0.015 * accounts, storeMb: exchanges / 5000, bound: { lines: exchanges, wallSeconds: 10e-6 * exchanges, cpuSeconds: 10e-6 * exchanges } };
}

const SAVED: Saved = {
  scenario: 'medium',
  seed: 1,
  calibrations: [CALIBRATION],
  rows: [row('exchanges', 1e6, 5000), row('exchanges', 4e6, 5050), row('exchanges', 16e6, 5100), row('accounts', 1.9e6, 10_000), row('accounts', 3.8e6, 20_000), row('accounts', 7.6e6, 40_000)],
};

describe('planning the sizes', () => {
  it('holds the scale and stretches the days for the exchanges series', () => {
    assert.equal(exchangesScale(CALIBRATION, 1e6), 0.5);
    assert.deepEqual(
      planExchanges(CALIBRATION, [400_000, 1e6, 4e6]).map((p) => [p.series, p.scale, p.days]),
      [['exchanges', 0.25, 14], ['exchanges', 0.25, 28], ['exchanges', 0.25, 112]],
    );
  });
  it('raises the scale over the usual days for the accounts series', () => {
    assert.deepEqual(
      planAccounts(CALIBRATION, [10_000, 20_000, 40_000]).map((p) => [p.series, p.scale, p.days]),
      [['accounts', 1, 14], ['accounts', 2, 14], ['accounts', 4, 14]],
    );
  });
});

describe('formatReport', () => {
  it('gives a row per scan, the spread of accounts, the fit and the extrapolation to hydra-28m', () => {
    const md = formatReport(SAVED, 'cost-growth.svg');
    const rows = md.split('\n').filter((l) => /^\| (exchanges|accounts) \|/.test(l));
    assert.equal(rows.length, 6);
    assert.ok(rows[0]!.includes('| 1,000,000 | 5,000 |') && rows[0]!.includes('| 130 | 13,846 | 130.0 | 10.0 | 7.7% | 675 MB | 200 MB |'), rows[0]);
    assert.match(md, /holds 5,000 to 5,100 accounts \(2\.0% apart\) while its exchanges grow 16\.0-fold/);
    assert.match(md, /CPU seconds ≈ 120\.0 µs × exchanges \+ 2\.00 ms × accounts/);
    assert.match(md, /peak RSS ≈ 600 MB \+ 15\.0 KB × accounts \+ -?0\.0 MB per million exchanges/);
    // 120 µs × 49,043,771 + 2 ms × 134,085 = 6,153 s; 600 MB + 15 KB × 134,085 = 2.6 GB.
    assert.match(md, /expected for hydra-28m \(49,043,771 exchanges, 134,085 accounts\): 6,153 CPU seconds .* peak RSS 2\.6 GB/);
    assert.ok(md.includes('](cost-growth.svg)'));
  });

  it('says there is no fit when one series alone was measured', () => {
    const md = formatReport({ ...SAVED, rows: SAVED.rows.filter((r) => r.series === 'accounts') }, null);
    assert.match(md, /No fit: the points do not vary exchanges and accounts independently/);
  });
});

describe('chartPanels', () => {
  it('draws each series against its own size, the model out to hydra-28m', () => {
    const panels = chartPanels(SAVED.rows, { cpuPerExchange: 120e-6, cpuPerAccount: 2e-3, rssBaseMb: 600, rssPerAccountMb: 0.015, rssPerExchangeMb: 0, points: 6 });
    assert.deepEqual(panels.map((p) => [p.xLabel, p.measured.length]), [['exchanges', 3], ['accounts', 3], ['exchanges', 3], ['accounts', 3]]);
    assert.equal(panels[0]!.expected.at(-1)!.x, 49_043_771);
    assert.equal(Math.round(panels[1]!.expected.at(-1)!.x), 134_085);
    assert.match(panels[0]!.title, /at ~5K accounts/);
    assert.match(panels[1]!.title, /at ~190 exchanges per account/);
  });
});
