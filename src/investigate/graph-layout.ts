/**
 * Where each node of a campaign's graph is drawn, computed on the server once per scan (the
 * rollup keeps it): a ForceAtlas2 layout of a few hundred nodes is cheap here and was the
 * slowest part of opening a campaign page in the browser.
 *
 * A force layout costs its iterations times the nodes and edges: an operation of 25,000
 * accounts took 42 s of the scan's last step, for a picture of which the dashboard draws 300
 * members. So only the `core` (the members drawn, with the indicators they hold) is laid out
 * by force; every other node is placed beside the nodes it is tied to, nearest the core first.
 */
import { createRequire } from 'node:module';
import { UndirectedGraph } from 'graphology';
import { FNV_SEED_A, fnv1a32Step } from '../signals/hash.js';
import type { AbstractGraph } from 'graphology-types';

// CommonJS with an ES-style default in its types; require gives the function and its helpers.
const forceAtlas2 = createRequire(import.meta.url)('graphology-layout-forceatlas2') as {
  assign(graph: AbstractGraph, params: { iterations: number; settings: Record<string, unknown> }): void;
  inferSettings(graph: AbstractGraph): Record<string, unknown>;
};

const ITERATIONS = 300;
const GOLDEN_ANGLE = 2.399963229728653;

/** A position in the unit square, with three decimals (enough for any screen). */
export interface Position {
  x: number;
  y: number;
}

interface Point {
  x: number;
  y: number;
}

/** A point on a golden-angle spiral: distinct, spread-out points that depend only on `k`. */
function spiral(k: number, step: number): Point {
  const r = Math.sqrt(k + 1) * step;
  const th = k * GOLDEN_ANGLE;
  return { x: r * Math.cos(th), y: r * Math.sin(th) };
}

/** A small offset from a node's name, the same on every run: nodes tied to the same others do not land on one point. */
function offsetOf(id: string, radius: number): Point {
  let h = FNV_SEED_A;
  for (let i = 0; i < id.length; i++) h = fnv1a32Step(h, id.charCodeAt(i));
  const u = (h >>> 0) / 4294967296;
  const th = u * 2 * Math.PI;
  const r = radius * (0.3 + 0.7 * (((h >>> 16) & 0xffff) / 65536));
  return { x: r * Math.cos(th), y: r * Math.sin(th) };
}

/** The box around `points` (empty: infinite the wrong way round). A loop, not Math.min(...): a spread of 25,000 arguments is near what a call takes. */
function boundsOf(points: Iterable<Point>): { x0: number; x1: number; y0: number; y1: number } {
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (const p of points) {
    x0 = Math.min(x0, p.x);
    x1 = Math.max(x1, p.x);
    y0 = Math.min(y0, p.y);
    y1 = Math.max(y1, p.y);
  }
  return { x0, x1, y0, y1 };
}

/** ForceAtlas2 over the nodes and edges given, from spiral starting points in sorted order. */
function forceLayout(sorted: readonly string[], edges: readonly { source: string; target: string }[]): Map<string, Point> {
  const g = new UndirectedGraph();
  sorted.forEach((n, k) => g.addNode(n, spiral(k, 10)));
  const sortedEdges = [...edges].sort((a, b) => a.source.localeCompare(b.source) || a.target.localeCompare(b.target));
  for (const e of sortedEdges) if (g.hasNode(e.source) && g.hasNode(e.target)) g.mergeEdge(e.source, e.target);
  if (g.size > 0) forceAtlas2.assign(g, { iterations: ITERATIONS, settings: { ...forceAtlas2.inferSettings(g), gravity: 1, scalingRatio: 4, barnesHutOptimize: g.order > 2000 } });
  const at = new Map<string, Point>();
  g.forEachNode((id, a) => at.set(id, { x: a.x as number, y: a.y as number }));
  return at;
}

/**
 * Places the nodes outside `at` in rings around it: each ring is the nodes tied to one already
 * placed, each at the centre of its placed neighbours plus a small offset of its own. Nodes no
 * ring reaches go on a spiral around everything. Order-free: a ring's positions read only
 * the rings before it.
 */
function placeAround(at: Map<string, Point>, sorted: readonly string[], edges: readonly { source: string; target: string }[]): void {
  const neighbours = new Map<string, string[]>();
  const link = (a: string, b: string): void => {
    const list = neighbours.get(a);
    if (list) list.push(b);
    else neighbours.set(a, [b]);
  };
  for (const e of edges) {
    link(e.source, e.target);
    link(e.target, e.source);
  }
  // Sorted, so that a centre is summed in one order whatever the order of the edges given.
  for (const list of neighbours.values()) list.sort();
  const { x0, x1, y0, y1 } = boundsOf(at.values());
  const span = at.size > 0 ? Math.max(x1 - x0, y1 - y0, 1) : 100;
  const radius = span / 40;
  let ring = new Set<string>();
  for (const id of at.keys()) for (const n of neighbours.get(id) ?? []) if (!at.has(n)) ring.add(n);
  while (ring.size > 0) {
    const placed: [string, Point][] = [];
    for (const id of ring) {
      let sx = 0;
      let sy = 0;
      let n = 0;
      for (const m of neighbours.get(id)!) {
        const p = at.get(m);
        if (p === undefined) continue;
        sx += p.x;
        sy += p.y;
        n++;
      }
      const o = offsetOf(id, radius);
      placed.push([id, { x: sx / n + o.x, y: sy / n + o.y }]);
    }
    for (const [id, p] of placed) at.set(id, p);
    const next = new Set<string>();
    for (const [id] of placed) for (const n of neighbours.get(id)!) if (!at.has(n)) next.add(n);
    ring = next;
  }
  const cx = at.size > 0 ? (x0 + x1) / 2 : 0;
  const cy = at.size > 0 ? (y0 + y1) / 2 : 0;
  let k = 0;
  for (const id of sorted) {
    if (at.has(id)) continue;
    // Outside everything placed: unconnected nodes do not hide the ones that are.
    const p = spiral(k++, radius);
    const out = span / 2 + radius;
    const len = Math.hypot(p.x, p.y) || 1;
    at.set(id, { x: cx + p.x + (p.x / len) * out, y: cy + p.y + (p.y / len) * out });
  }
}

/**
 * Lays out nodes and edges; positions depend only on the set of nodes and edges (and of
 * `core`), not on their order, so a campaign is drawn the same way on every scan of the same
 * store.
 *
 * @param core the nodes laid out by force, when not all of them: the rest are placed beside
 *   what they are tied to (`placeAround`), in time proportional to their number and edges
 * @example layoutGraph(['a', 'b', 'ip:x'], [{ source: 'a', target: 'ip:x' }]).get('a') // { x: 0.12, y: 0.9 }
 */
export function layoutGraph(nodeIds: readonly string[], edges: readonly { source: string; target: string }[], core?: ReadonlySet<string>): Map<string, Position> {
  const sorted = [...new Set(nodeIds)].sort();
  const inCore = core === undefined ? sorted : sorted.filter((n) => core.has(n));
  const at = forceLayout(inCore, core === undefined ? edges : edges.filter((e) => core.has(e.source) && core.has(e.target)));
  if (at.size < sorted.length) placeAround(at, sorted, edges);
  const { x0, x1, y0, y1 } = boundsOf(at.values());
  const unit = (v: number, lo: number, hi: number) => (hi - lo < 1e-9 ? 0.5 : Math.round(((v - lo) / (hi - lo)) * 1000) / 1000);
  const out = new Map<string, Position>();
  for (const id of sorted) {
    const p = at.get(id)!;
    out.set(id, { x: unit(p.x, x0, x1), y: unit(p.y, y0, y1) });
  }
  return out;
}
