/**
 * Where each node of a campaign's graph is drawn, computed on the server once per scan (the
 * rollup keeps it): a ForceAtlas2 layout of a few hundred nodes is cheap here and was the
 * slowest part of opening a campaign page in the browser.
 */
import { createRequire } from 'node:module';
import { UndirectedGraph } from 'graphology';
import type { AbstractGraph } from 'graphology-types';

// CommonJS with an ES-style default in its types; require gives the function and its helpers.
const forceAtlas2 = createRequire(import.meta.url)('graphology-layout-forceatlas2') as {
  assign(graph: AbstractGraph, params: { iterations: number; settings: Record<string, unknown> }): void;
  inferSettings(graph: AbstractGraph): Record<string, unknown>;
};

const ITERATIONS = 300;

/** A position in the unit square, with three decimals (enough for any screen). */
export interface Position {
  x: number;
  y: number;
}

/**
 * Lays out nodes and edges; positions depend only on the set of nodes and edges, not on
 * their order, so a campaign is drawn the same way on every scan of the same store.
 *
 * @example layoutGraph(['a', 'b', 'ip:x'], [{ source: 'a', target: 'ip:x' }]).get('a') // { x: 0.12, y: 0.9 }
 */
export function layoutGraph(nodeIds: readonly string[], edges: readonly { source: string; target: string }[]): Map<string, Position> {
  const g = new UndirectedGraph();
  const sorted = [...new Set(nodeIds)].sort();
  // A golden-angle spiral: distinct, spread-out starting points that depend only on the order.
  sorted.forEach((n, k) => {
    const r = Math.sqrt(k + 1) * 10;
    const th = k * 2.399963229728653;
    g.addNode(n, { x: r * Math.cos(th), y: r * Math.sin(th) });
  });
  const sortedEdges = [...edges].sort((a, b) => a.source.localeCompare(b.source) || a.target.localeCompare(b.target));
  for (const e of sortedEdges) if (g.hasNode(e.source) && g.hasNode(e.target)) g.mergeEdge(e.source, e.target);
  if (g.size > 0) forceAtlas2.assign(g, { iterations: ITERATIONS, settings: { ...forceAtlas2.inferSettings(g), gravity: 1, scalingRatio: 4, barnesHutOptimize: g.order > 2000 } });
  const xs = g.mapNodes((_, a) => a.x as number);
  const ys = g.mapNodes((_, a) => a.y as number);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const unit = (v: number, lo: number, hi: number) => (hi - lo < 1e-9 ? 0.5 : Math.round(((v - lo) / (hi - lo)) * 1000) / 1000);
  const out = new Map<string, Position>();
  g.forEachNode((id, a) => out.set(id, { x: unit(a.x as number, x0, x1), y: unit(a.y as number, y0, y1) }));
  return out;
}
