/**
 * The account–indicator graph on a canvas, at the positions the server laid out once per
 * scan (no layout runs in the browser: it was the slowest part of opening a large campaign).
 * Accounts are circles coloured by verdict, indicators squares coloured by kind; a click
 * opens the node's page. A large campaign draws its most active members only, and says so.
 * The canvas carries the number of nodes it drew (`data-drawn`), so a test can tell a drawn
 * graph from an empty one.
 */
import { useEffect, useRef } from 'preact/hooks';
import type { GraphNode } from './api.js';
import { KIND_COLOURS, VERDICT_COLOURS, hrefAccount, hrefIndicator, num } from './format.js';

interface Placed { node: GraphNode; x: number; y: number; r: number }

/** Beyond this many members a canvas is a blot: the most active are drawn, the table lists all. */
export const MAX_MEMBERS_DRAWN = 300;

/** The members drawn (the most active, the focus always) and the indicators they hold. */
function capped(nodes: GraphNode[], edges: { source: string; target: string }[], focus: string | undefined) {
  const accounts = nodes.filter((n): n is Extract<GraphNode, { type: 'account' }> => n.type === 'account');
  if (accounts.length <= MAX_MEMBERS_DRAWN) return { nodes, edges };
  const kept = new Set(
    accounts
      .slice()
      .sort((a, b) => Number(b.id === focus) - Number(a.id === focus) || b.exchanges - a.exchanges || a.id.localeCompare(b.id))
      .slice(0, MAX_MEMBERS_DRAWN)
      .map((a) => a.id),
  );
  const keptEdges = edges.filter((e) => kept.has(e.source));
  const held = new Set(keptEdges.map((e) => e.target));
  return { nodes: nodes.filter((n) => (n.type === 'account' ? kept.has(n.id) : held.has(n.id))), edges: keptEdges };
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
    const { nodes, edges } = capped(props.nodes, props.edges, props.focus);
    const xs = nodes.map((n) => n.x);
    const ys = nodes.map((n) => n.y);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const pad = 28;
    const sx = (v: number) => pad + ((v - x0) / Math.max(1e-9, x1 - x0)) * (w - 2 * pad);
    const sy = (v: number) => pad + ((v - y0) / Math.max(1e-9, y1 - y0)) * (h - 2 * pad);
    const at = new Map<string, Placed>();
    for (const n of nodes) {
      const r = n.type === 'account' ? 5 + Math.min(7, Math.sqrt(n.exchanges) / 6) : 6;
      at.set(n.id, { node: n, x: nodes.length === 1 ? w / 2 : sx(n.x), y: nodes.length === 1 ? h / 2 : sy(n.y), r });
    }
    ctx.strokeStyle = 'rgba(80,80,80,0.25)';
    ctx.lineWidth = 1;
    // Every edge in one path and one stroke: a stroke per edge made thousands of paints.
    ctx.beginPath();
    for (const e of edges) {
      const a = at.get(e.source);
      const b = at.get(e.target);
      if (!a || !b) continue;
      ctx.moveTo(a.x, a.y);
      ctx.lineTo(b.x, b.y);
    }
    ctx.stroke();
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
    canvas.dataset.accounts = String(nodes.filter((n) => n.type === 'account').length);
  }, [props.nodes, props.edges, props.focus]);

  const hit = (ev: MouseEvent): Placed | undefined => {
    const rect = ref.current!.getBoundingClientRect();
    const x = ev.clientX - rect.left;
    const y = ev.clientY - rect.top;
    return placed.current.find((p) => (p.x - x) ** 2 + (p.y - y) ** 2 <= (p.r + 3) ** 2);
  };
  const kinds = [...new Set(props.nodes.flatMap((n) => (n.type === 'indicator' ? [n.kind] : [])))];
  const members = props.nodes.filter((n) => n.type === 'account').length;
  return (
    <figure class="graph">
      {members > MAX_MEMBERS_DRAWN && (
        <p class="muted" data-testid="graph-capped">
          Drawing the {num(MAX_MEMBERS_DRAWN)} most active of {num(members)} members and the indicators they hold; every member is listed below.
        </p>
      )}
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
