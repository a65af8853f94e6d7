/**
 * The chart of how a scan's cost grows: four small panels, CPU seconds and peak RSS (rows)
 * against exchanges at a fixed population and against accounts at a fixed number of
 * exchanges per account (columns). Both axes are logarithmic, so a cost linear in the size
 * is a straight line of slope one and a flat one is level. Each panel draws the measured
 * points joined by a solid line and, dashed, what the fitted model expects along the same
 * series out to the size it is extrapolated to. Plain SVG text, no library.
 */

export interface ChartPoint {
  x: number;
  y: number;
}

export interface ChartPanel {
  title: string;
  xLabel: string;
  yLabel: string;
  /** How the axis ticks print their values (e.g. 4M, 40K, 2 GB). */
  xUnit: 'count' | 'mb';
  yUnit: 'seconds' | 'mb';
  measured: readonly ChartPoint[];
  /** The fitted model along the series, extended beyond the measured sizes; may be empty. */
  expected: readonly ChartPoint[];
}

const W = 420;
const H = 260;
const MARGIN = { left: 70, right: 16, top: 34, bottom: 48 };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A count as people read it: 400K, 16M, 1.2M. */
export function formatCount(n: number): string {
  const a = Math.abs(n);
  const short = (x: number, suffix: string): string => `${Number(x.toPrecision(2))}${suffix}`;
  if (a >= 1e9) return short(n / 1e9, 'G');
  if (a >= 1e6) return short(n / 1e6, 'M');
  if (a >= 1e3) return short(n / 1e3, 'K');
  return String(a >= 100 ? Math.round(n) : Number(n.toPrecision(2)));
}

function formatValue(v: number, unit: ChartPanel['xUnit'] | ChartPanel['yUnit']): string {
  if (unit === 'count') return formatCount(v);
  if (unit === 'mb') return v >= 1000 ? `${Number((v / 1000).toPrecision(2))} GB` : `${Number(v.toPrecision(2))} MB`;
  // Seconds throughout (2K s, not 33 min): the ticks stay round numbers and compare with the table.
  return `${formatCount(v)} s`;
}

/** Ticks at 1, 2 and 5 times the powers of ten within [lo, hi]; only the powers of ten when that gives enough. */
export function logTicks(lo: number, hi: number): number[] {
  const all: { v: number; decade: boolean }[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) for (const m of [1, 2, 5]) {
    const v = m * 10 ** e;
    if (v >= lo * 0.999 && v <= hi * 1.001) all.push({ v, decade: m === 1 });
  }
  const decades = all.filter((t) => t.decade);
  return (decades.length >= 3 ? decades : all).map((t) => t.v);
}

function panelSvg(p: ChartPanel, ox: number, oy: number): string[] {
  const all = [...p.measured, ...p.expected].filter((q) => q.x > 0 && q.y > 0);
  const out: string[] = [`<g transform="translate(${ox},${oy})">`, `<text x="${W / 2}" y="18" text-anchor="middle" font-size="13">${esc(p.title)}</text>`];
  if (all.length === 0) {
    out.push(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle">not measured</text>`, '</g>');
    return out;
  }
  // Log axes with a little room around the points; a single value gets a decade around it.
  const range = (vs: number[]): [number, number] => {
    const lo = Math.min(...vs);
    const hi = Math.max(...vs);
    return hi / lo < 1.5 ? [lo / 2, hi * 2] : [lo / 1.25, hi * 1.25];
  };
  const [x0, x1] = range(all.map((q) => q.x));
  const [y0, y1] = range(all.map((q) => q.y));
  const pw = W - MARGIN.left - MARGIN.right;
  const ph = H - MARGIN.top - MARGIN.bottom;
  const sx = (x: number): number => MARGIN.left + (pw * Math.log(x / x0)) / Math.log(x1 / x0);
  const sy = (y: number): number => MARGIN.top + ph - (ph * Math.log(y / y0)) / Math.log(y1 / y0);
  const f = (v: number): string => v.toFixed(1);
  out.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  for (const t of logTicks(x0, x1)) {
    out.push(`<line x1="${f(sx(t))}" y1="${MARGIN.top}" x2="${f(sx(t))}" y2="${MARGIN.top + ph}" stroke="#eee"/>`, `<text x="${f(sx(t))}" y="${MARGIN.top + ph + 14}" text-anchor="middle">${esc(formatValue(t, p.xUnit))}</text>`);
  }
  for (const t of logTicks(y0, y1)) {
    out.push(`<line x1="${MARGIN.left}" y1="${f(sy(t))}" x2="${MARGIN.left + pw}" y2="${f(sy(t))}" stroke="#eee"/>`, `<text x="${MARGIN.left - 6}" y="${f(sy(t) + 4)}" text-anchor="end">${esc(formatValue(t, p.yUnit))}</text>`);
  }
  out.push(`<text class="x-label" x="${MARGIN.left + pw / 2}" y="${H - 12}" text-anchor="middle">${esc(p.xLabel)}</text>`);
  out.push(`<text class="y-label" transform="translate(14,${MARGIN.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(p.yLabel)}</text>`);
  const path = (pts: readonly ChartPoint[]): string => [...pts].filter((q) => q.x > 0 && q.y > 0).sort((a, b) => a.x - b.x).map((q) => `${f(sx(q.x))},${f(sy(q.y))}`).join(' ');
  if (p.expected.length > 1) out.push(`<polyline class="expected" points="${path(p.expected)}" fill="none" stroke="#c0392b" stroke-width="1.5" stroke-dasharray="5,4"/>`);
  if (p.measured.length > 1) out.push(`<polyline class="measured-line" points="${path(p.measured)}" fill="none" stroke="#3b6ea5" stroke-width="2"/>`);
  for (const q of p.measured) if (q.x > 0 && q.y > 0) out.push(`<circle class="measured" cx="${f(sx(q.x))}" cy="${f(sy(q.y))}" r="3.5" fill="#3b6ea5"/>`);
  out.push('</g>');
  return out;
}

/** Panels laid out two a row, with a legend below. */
export function costChartSvg(title: string, panels: readonly ChartPanel[]): string {
  const rows = Math.ceil(panels.length / 2);
  const width = 2 * W;
  const height = 30 + rows * H + 30;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`,
  ];
  panels.forEach((p, i) => out.push(...panelSvg(p, (i % 2) * W, 30 + Math.floor(i / 2) * H)));
  const ly = 30 + rows * H + 14;
  out.push(
    `<circle cx="${MARGIN.left}" cy="${ly - 4}" r="3.5" fill="#3b6ea5"/><text x="${MARGIN.left + 10}" y="${ly}">measured (log scales)</text>`,
    `<line x1="${MARGIN.left + 180}" y1="${ly - 4}" x2="${MARGIN.left + 210}" y2="${ly - 4}" stroke="#c0392b" stroke-width="1.5" stroke-dasharray="5,4"/><text x="${MARGIN.left + 216}" y="${ly}">fitted model along the series, extended beyond it</text>`,
    '</svg>',
  );
  return out.join('\n') + '\n';
}
