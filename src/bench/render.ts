/**
 * Benchmark output for people: a text table per scenario and an SVG chart of time to detect.
 */
import type { ScenarioResult } from './detection.js';

const f2 = (x: number | null | undefined): string => (x === null || x === undefined ? '-' : x.toFixed(2));
const f3 = (x: number | null | undefined): string => (x === null || x === undefined ? '-' : x.toFixed(3));
const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number): string => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? pad(c, widths[i]!) : lpad(c, widths[i]!))).join('  ')).join('\n');
}

export function formatResults(results: readonly ScenarioResult[]): string {
  const out: string[] = [];
  for (const r of results) {
    out.push(`== ${r.scenario} (seed ${r.seed}): ${r.exchanges} exchanges, ${r.accounts} accounts (${r.maliciousAccounts} malicious); scan ${Number.isFinite(r.scanSeconds) ? `${r.scanSeconds.toFixed(1)} s, ${Math.round(r.exchangesPerSecond)} exchanges/s` : 'time not given'}, peak RSS ${Number.isFinite(r.peakRssMb) ? `${Math.round(r.peakRssMb)} MB` : 'not given'}`);
    const rows: string[][] = [['detector', 'precision', 'recall', 'F1', 'FP', 'TTD h p50', 'TTD h p90', 'TTD ex p50', 'TTD ex p90', 'cost/acct']];
    for (const d of r.detectors) {
      rows.push([d.name, f3(d.precision), f3(d.recall), f3(d.f1), String(d.fp), f2(d.ttdHours.median), f2(d.ttdHours.p90), f2(d.ttdExchanges.median), f2(d.ttdExchanges.p90), f2(d.attackCost)]);
    }
    out.push(table(rows));
    const dw = r.detectors[0]!;
    const pb = Object.entries(dw.playbooks);
    if (pb.length) {
      const rows2: string[][] = [['playbook', 'accounts', ...r.detectors.map((d) => `recall ${d.name}`)]];
      for (const [name, g] of pb) rows2.push([name, String(g.accounts), ...r.detectors.map((d) => f3(d.playbooks[name]?.recall))]);
      out.push(table(rows2));
    }
    const pops = Object.entries(dw.populations);
    if (pops.length) {
      const rows3: string[][] = [['benign population', 'accounts', ...r.detectors.map((d) => `FPR ${d.name}`)]];
      for (const [name, g] of pops) rows3.push([name, String(g.accounts), ...r.detectors.map((d) => f3(d.populations[name]?.fpr))]);
      out.push(table(rows3));
    }
    const ttd = Object.entries(dw.playbookTtd ?? {});
    if (ttd.length) {
      const pctOf = (x: number | null): string => (x === null ? 'never' : (x * 100).toFixed(1) + '%');
      const rows4: string[][] = [['time to detect (distillwatch)', 'first flag: share', 'first flag: h', 'acct h p50', 'acct h p90', 'acct ex p50', 'acct ex p90']];
      for (const [name, g] of ttd) rows4.push([name, pctOf(g.firstFlagShare), f2(g.firstFlagHours), f2(g.hoursP50), f2(g.hoursP90), f2(g.exchangesP50), f2(g.exchangesP90)]);
      out.push(table(rows4));
    }
    const ops = Object.entries(dw.operatorsShareBeforeFlag);
    if (ops.length) {
      out.push('share of each operator\'s exchanges made before its first flag: ' + ops.map(([op, s]) => `${op} ${s === null ? 'never flagged' : (s * 100).toFixed(1) + '%'}`).join(', '));
    }
    const rc = r.reconstruction;
    out.push(`campaign reconstruction: ${rc.operators} operators caught, ${rc.split} split across campaigns, ${rc.campaigns} campaigns, ${rc.merged} merging several operators or benign accounts`);
    out.push('');
  }
  return out.join('\n');
}

/** Strip chart of time to detect (hours, log scale) per detector and scenario. */
export function ttdChartSvg(results: readonly ScenarioResult[]): string {
  const rows: { label: string; hours: number[] }[] = [];
  for (const r of results) for (const s of r.ttdSamples) rows.push({ label: `${r.scenario}/${r.seed} ${s.detector}`, hours: s.hours });
  const W = 900;
  const rowH = 22;
  const left = 260;
  const top = 40;
  const H = top + rows.length * rowH + 40;
  const maxH = Math.max(1, ...rows.flatMap((r) => r.hours));
  const x = (h: number): number => left + ((W - left - 20) * Math.log10(1 + h)) / Math.log10(1 + maxH);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<text x="${left}" y="20" font-size="13">Time to detect per caught malicious account (hours after its first exchange, log scale)</text>`,
  ];
  for (const tick of [0, 1, 6, 24, 72, 168, 720].filter((t) => t <= maxH)) {
    parts.push(`<line x1="${x(tick)}" y1="${top - 5}" x2="${x(tick)}" y2="${H - 30}" stroke="#ddd"/><text x="${x(tick)}" y="${H - 15}" text-anchor="middle">${tick}h</text>`);
  }
  rows.forEach((r, i) => {
    const y = top + i * rowH + rowH / 2;
    parts.push(`<text x="${left - 8}" y="${y + 4}" text-anchor="end">${r.label.replace(/&/g, '&amp;').replace(/</g, '&lt;')} (${r.hours.length})</text>`);
    const step = Math.max(1, Math.floor(r.hours.length / 400));
    for (let k = 0; k < r.hours.length; k += step) parts.push(`<circle cx="${x(r.hours[k]!).toFixed(1)}" cy="${y}" r="2" fill="#3b6ea5" fill-opacity="0.35"/>`);
    const sorted = [...r.hours].sort((a, b) => a - b);
    if (sorted.length) {
      const med = sorted[Math.floor(sorted.length / 2)]!;
      parts.push(`<line x1="${x(med)}" y1="${y - 8}" x2="${x(med)}" y2="${y + 8}" stroke="#c0392b" stroke-width="2"/>`);
    }
  });
  parts.push('</svg>');
  return parts.join('\n');
}
