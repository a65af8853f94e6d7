/**
 * The account–indicator graph as inline SVG: the campaign's members and the indicators they
 * share, an edge where a member holds one, laid out with ForceAtlas2. The layout starts from
 * positions fixed by the nodes' order and runs a fixed number of iterations, so the same
 * campaign always draws the same picture (a document may be compared with an earlier copy).
 */
import { createRequire } from 'node:module';
import { UndirectedGraph } from 'graphology';
import type { AbstractGraph } from 'graphology-types';
import type { Verdict } from '../core/report.js';
import type { HeldIndicator } from './build.js';
import { escapeXml } from './escape.js';

// CommonJS with an ES-style default in its types; require gives the function and its helpers.
const forceAtlas2 = createRequire(import.meta.url)('graphology-layout-forceatlas2') as {
  assign(graph: AbstractGraph, params: { iterations: number; settings: Record<string, unknown> }): void;
  inferSettings(graph: AbstractGraph): Record<string, unknown>;
};

export const VERDICT_COLOURS: Record<Verdict, string> = { distillation: '#c0392b', suspicious: '#e67e22', benign: '#7f8c8d' };
export const KIND_COLOURS: Record<string, string> = {
  ip: '#2980b9',
  subnet: '#5dade2',
  asn: '#1abc9c',
  payment: '#8e44ad',
  user_agent: '#95a5a6',
  harness: '#27ae60',
  system: '#16a085',
  template: '#d4ac0d',
};

const W = 900;
const H = 620;
const PAD = 40;
const ITERATIONS = 400;

export interface GraphMember {
  account_id: string;
  verdict: Verdict;
}

export function graphSvg(members: readonly GraphMember[], indicators: readonly HeldIndicator[]): string {
  const g = new UndirectedGraph();
  const sorted = [...members].sort((a, b) => a.account_id.localeCompare(b.account_id));
  const nodes = [...sorted.map((m) => `a:${m.account_id}`), ...indicators.map((i) => `i:${i.kind}:${i.value}`)];
  // A golden-angle spiral: distinct, spread-out starting points that depend only on the order.
  nodes.forEach((n, k) => {
    const r = Math.sqrt(k + 1) * 10;
    const th = k * 2.399963229728653;
    g.addNode(n, { x: r * Math.cos(th), y: r * Math.sin(th) });
  });
  for (const i of indicators) for (const m of [...i.members].sort()) if (g.hasNode(`a:${m}`)) g.mergeEdge(`a:${m}`, `i:${i.kind}:${i.value}`);
  forceAtlas2.assign(g, { iterations: ITERATIONS, settings: { ...forceAtlas2.inferSettings(g), gravity: 1, barnesHutOptimize: false } });

  const xs = g.mapNodes((_, a) => a.x as number);
  const ys = g.mapNodes((_, a) => a.y as number);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const s = Math.min((W - 2 * PAD) / Math.max(1e-9, x1 - x0), (H - 2 * PAD - 30) / Math.max(1e-9, y1 - y0));
  const px = (n: string) => (PAD + ((g.getNodeAttribute(n, 'x') as number) - x0) * s).toFixed(1);
  const py = (n: string) => (PAD + 30 + ((g.getNodeAttribute(n, 'y') as number) - y0) * s).toFixed(1);

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="Members and the indicators they share" class="chart graph">`);
  g.forEachEdge((_, __, a, b) => out.push(`<line x1="${px(a)}" y1="${py(a)}" x2="${px(b)}" y2="${py(b)}" stroke="#bbb" stroke-width="0.6"/>`));
  for (const m of sorted) {
    const n = `a:${m.account_id}`;
    out.push(`<circle cx="${px(n)}" cy="${py(n)}" r="5" fill="${VERDICT_COLOURS[m.verdict]}" class="member"><title>${escapeXml(m.account_id)} (${m.verdict})</title></circle>`);
  }
  for (const i of indicators) {
    const n = `i:${i.kind}:${i.value}`;
    const [cx, cy] = [Number(px(n)), Number(py(n))];
    const r = 5 + Math.min(6, Math.sqrt(i.members.length));
    out.push(`<rect x="${(cx - r).toFixed(1)}" y="${(cy - r).toFixed(1)}" width="${2 * r}" height="${2 * r}" transform="rotate(45 ${cx} ${cy})" fill="${KIND_COLOURS[i.kind] ?? '#34495e'}" stroke="#fff" class="indicator"><title>${escapeXml(i.kind)} ${escapeXml(i.value)}: ${i.members.length} members</title></rect>`);
    out.push(`<text x="${(cx + r + 3).toFixed(1)}" y="${(cy + 4).toFixed(1)}" font-size="10">${escapeXml(i.kind)} ${escapeXml(shortValue(i.value))}</text>`);
  }
  // Legend: verdicts (circles), then the indicator kinds present (diamonds).
  let lx = PAD;
  const item = (swatch: string, label: string) => {
    out.push(`<g transform="translate(${lx} 12)">${swatch}<text x="16" y="10" font-size="12">${escapeXml(label)}</text></g>`);
    lx += 26 + label.length * 6.5;
  };
  for (const v of ['distillation', 'suspicious', 'benign'] as const) if (sorted.some((m) => m.verdict === v)) item(`<circle cx="6" cy="6" r="5" fill="${VERDICT_COLOURS[v]}"/>`, `member: ${v}`);
  for (const k of [...new Set(indicators.map((i) => i.kind))]) item(`<rect x="2" y="2" width="8" height="8" transform="rotate(45 6 6)" fill="${KIND_COLOURS[k] ?? '#34495e'}"/>`, k);
  out.push('</svg>');
  return out.join('\n');
}

function shortValue(v: string): string {
  return v.length > 18 ? v.slice(0, 16) + '…' : v;
}
