/**
 * The account–indicator graph on a canvas: laid out with graphology's ForceAtlas2, accounts
 * as circles coloured by verdict, indicators as squares coloured by kind. A click opens the
 * node's page. The canvas carries the number of nodes it drew (`data-drawn`), so a test can
 * tell a drawn graph from an empty one.
 */
import { useEffect, useRef } from 'preact/hooks';
import Graph from 'graphology';
import forceAtlas2 from 'graphology-layout-forceatlas2';
import type { GraphNode } from './api.js';
import { KIND_COLOURS, VERDICT_COLOURS, hrefAccount, hrefIndicator } from './format.js';

interface Placed { node: GraphNode; x: number; y: number; r: number }

/** A fixed-seed generator: the same campaign is drawn the same way each time it is opened. */
function seeded(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function layout(nodes: GraphNode[], edges: { source: string; target: string }[]): Map<string, { x: number; y: number }> {
  const g = new Graph({ type: 'undirected', multi: false });
  const rnd = seeded(nodes.length * 7919 + edges.length);
  for (const n of nodes) g.addNode(n.id, { x: rnd() * 100, y: rnd() * 100 });
  for (const e of edges) if (g.hasNode(e.source) && g.hasNode(e.target) && !g.hasEdge(e.source, e.target)) g.addEdge(e.source, e.target);
  if (g.size > 0) forceAtlas2.assign(g, { iterations: 300, settings: { ...forceAtlas2.inferSettings(g), gravity: 1, scalingRatio: 4 } });
  const out = new Map<string, { x: number; y: number }>();
  g.forEachNode((id, a) => out.set(id, { x: a.x as number, y: a.y as number }));
  return out;
}

export function GraphCanvas(props: { nodes: GraphNode[]; edges: { source: string; target: string }[]; focus?: string; height?: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const placed = useRef<Placed[]>([]);
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth;
    const h = props.height ?? 460;
    canvas.width = w * dpr;
    canvas.height = h * dpr;
    const ctx = canvas.getContext('2d')!;
    ctx.scale(dpr, dpr);
    ctx.clearRect(0, 0, w, h);
    const pos = layout(props.nodes, props.edges);
    const xs = [...pos.values()].map((p) => p.x);
    const ys = [...pos.values()].map((p) => p.y);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const pad = 28;
    const sx = (v: number) => pad + ((v - x0) / Math.max(1e-9, x1 - x0)) * (w - 2 * pad);
    const sy = (v: number) => pad + ((v - y0) / Math.max(1e-9, y1 - y0)) * (h - 2 * pad);
    const at = new Map<string, Placed>();
    for (const n of props.nodes) {
      const p = pos.get(n.id)!;
      const r = n.type === 'account' ? 5 + Math.min(7, Math.sqrt(n.exchanges) / 6) : 6;
      at.set(n.id, { node: n, x: props.nodes.length === 1 ? w / 2 : sx(p.x), y: props.nodes.length === 1 ? h / 2 : sy(p.y), r });
    }
    ctx.strokeStyle = 'rgba(80,80,80,0.25)';
    ctx.lineWidth = 1;
    for (const e of props.edges) {
      const a = at.get(e.source);
      const b = at.get(e.target);
      if (!a || !b) continue;
      ctx.beginPath();
      ctx.moveTo(a.x, a.y);
      ctx.lineTo(b.x, b.y);
      ctx.stroke();
    }
    let drawn = 0;
    for (const p of at.values()) {
      ctx.fillStyle = p.node.type === 'account' ? VERDICT_COLOURS[p.node.verdict]! : KIND_COLOURS[p.node.kind] ?? '#555';
      ctx.beginPath();
      if (p.node.type === 'account') ctx.arc(p.x, p.y, p.r, 0, 2 * Math.PI);
      else ctx.rect(p.x - p.r, p.y - p.r, 2 * p.r, 2 * p.r);
      ctx.fill();
      if (p.node.id === props.focus) {
        ctx.strokeStyle = '#000';
        ctx.lineWidth = 2.5;
        ctx.stroke();
      }
      drawn++;
    }
    placed.current = [...at.values()];
    canvas.dataset.drawn = String(drawn);
    canvas.dataset.accounts = String(props.nodes.filter((n) => n.type === 'account').length);
  }, [props.nodes, props.edges, props.focus]);

  const hit = (ev: MouseEvent): Placed | undefined => {
    const rect = ref.current!.getBoundingClientRect();
    const x = ev.clientX - rect.left;
    const y = ev.clientY - rect.top;
    return placed.current.find((p) => (p.x - x) ** 2 + (p.y - y) ** 2 <= (p.r + 3) ** 2);
  };
  const kinds = [...new Set(props.nodes.flatMap((n) => (n.type === 'indicator' ? [n.kind] : [])))];
  return (
    <figure class="graph">
      <canvas
        ref={ref}
        data-testid="graph"
        style={{ width: '100%', height: `${props.height ?? 460}px` }}
        onClick={(ev) => {
          const p = hit(ev);
          if (p) location.hash = p.node.type === 'account' ? hrefAccount(p.node.id) : hrefIndicator(p.node.kind, p.node.value);
        }}
        onMouseMove={(ev) => {
          const p = hit(ev);
          ref.current!.style.cursor = p ? 'pointer' : 'default';
          ref.current!.title = p ? (p.node.type === 'account' ? `${p.node.id} (${p.node.verdict}, ${p.node.exchanges} exchanges)` : `${p.node.kind}: ${p.node.value} (${p.node.accounts} members)`) : '';
        }}
      />
      <figcaption class="legend">
        {Object.entries(VERDICT_COLOURS).map(([v, c]) => <span><i class="dot" style={{ background: c }} />account: {v}</span>)}
        {kinds.map((k) => <span><i style={{ background: KIND_COLOURS[k] ?? '#555' }} />indicator: {k}</span>)}
        <span class="muted">click a node to open it</span>
      </figcaption>
    </figure>
  );
}
