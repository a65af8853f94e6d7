import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { costChartSvg, formatCount, logTicks, type ChartPanel } from './cost-chart.js';

const panel = (title: string, measured: number, expected: number): ChartPanel => ({
  title,
  xLabel: 'exchanges',
  yLabel: 'peak RSS',
  xUnit: 'count',
  yUnit: 'mb',
  measured: Array.from({ length: measured }, (_, i) => ({ x: 1e6 * 4 ** i, y: 600 + 10 * i })),
  expected: Array.from({ length: expected }, (_, i) => ({ x: 1e6 * 2 ** i, y: 600 + 5 * i })),
});

describe('costChartSvg', () => {
  it('draws every panel with its measured points, axis labels and the dashed model', () => {
    const svg = costChartSvg('How cost grows', [panel('RSS against exchanges', 3, 6), panel('RSS against accounts', 3, 6), panel('CPU & <time>', 2, 0)]);
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[^>]*>/);
    assert.ok(svg.trimEnd().endsWith('</svg>'));
    assert.equal((svg.match(/<circle class="measured"/g) ?? []).length, 8);
    assert.equal((svg.match(/<polyline class="measured-line"/g) ?? []).length, 3);
    assert.equal((svg.match(/<polyline class="expected"/g) ?? []).length, 2, 'no dashed line where the model is absent');
    assert.equal((svg.match(/class="x-label"[^>]*>exchanges</g) ?? []).length, 3);
    assert.equal((svg.match(/class="y-label"[^>]*>peak RSS</g) ?? []).length, 3);
    assert.ok(svg.includes('CPU &amp; &lt;time&gt;'), 'titles are escaped');
    assert.ok(svg.includes('>1M<') && svg.includes('>10M<'), 'x ticks read as counts');
    assert.ok(!/NaN|Infinity|undefined/.test(svg));
  });

  it('says a panel with nothing to draw was not measured', () => {
    const svg = costChartSvg('t', [panel('empty', 0, 0)]);
    assert.ok(svg.includes('not measured'));
    assert.ok(!/NaN|Infinity/.test(svg));
  });

  it('places a measured point where the log scales say', () => {
    const svg = costChartSvg('t', [panel('p', 3, 0)]);
    const cx = [...svg.matchAll(/<circle class="measured" cx="([\d.]+)"/g)].map((m) => Number(m[1]));
    // x grows 4-fold each point: equal steps on a log axis.
    assert.equal(cx.length, 3);
    assert.ok(Math.abs(cx[1]! - cx[0]! - (cx[2]! - cx[1]!)) < 0.2, `steps ${cx.join(', ')}`);
  });
});

describe('logTicks and formatCount', () => {
  it('ticks the decades of a wide range and 1-2-5 of a narrow one', () => {
    assert.deepEqual(logTicks(500, 2e6), [1e3, 1e4, 1e5, 1e6]);
    assert.deepEqual(logTicks(400, 3000), [500, 1000, 2000]);
  });
  it('writes counts as people read them', () => {
    assert.deepEqual([999, 40_000, 1_600_000, 49_043_771].map(formatCount), ['999', '40K', '1.6M', '49M']);
  });
});
