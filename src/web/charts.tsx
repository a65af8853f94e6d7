/**
 * SVG charts with their axes, units and legends: a person should read them without help.
 * Time runs along x in UTC hours; every chart says what its y counts.
 */
import type { ComponentChildren } from 'preact';
import { num } from './format.js';

const W = 760;
const H = 220;
const M = { l: 56, r: 16, t: 12, b: 40 };

export interface Series { name: string; colour: string; points: { t: number; v: number }[] }
export interface Marker { t: number; label: string }

function ticks(max: number, n = 4): number[] {
  if (max <= 0) return [0];
  const step = Math.pow(10, Math.floor(Math.log10(max / n)));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => max / s <= n) ?? step * 10;
  const out: number[] = [];
  for (let v = 0; v <= max + 1e-9; v += nice) out.push(v);
  return out;
}

const hourLabel = (t: number) => new Date(t).toISOString().slice(5, 13).replace('T', ' ') + 'h';

/** Lines (or stacked bars) over time, with vertical flag markers. */
export function TimeChart(props: { series: Series[]; markers?: Marker[]; yLabel: string; yMax?: number; yFormat?: (v: number) => string; testId?: string; stacked?: boolean }) {
  const all = props.series.flatMap((s) => s.points);
  const t0 = Math.min(...all.map((p) => p.t), ...(props.markers ?? []).map((m) => m.t));
  const t1 = Math.max(...all.map((p) => p.t), ...(props.markers ?? []).map((m) => m.t), t0 + 3600_000);
  let yMax = props.yMax ?? 0;
  if (props.yMax === undefined) {
    if (props.stacked) {
      const sums = new Map<number, number>();
      for (const p of all) sums.set(p.t, (sums.get(p.t) ?? 0) + p.v);
      yMax = Math.max(1, ...sums.values());
    } else yMax = Math.max(1, ...all.map((p) => p.v));
  }
  const x = (t: number) => M.l + ((t - t0) / (t1 - t0)) * (W - M.l - M.r);
  const y = (v: number) => H - M.b - (v / yMax) * (H - M.t - M.b);
  const fmt = props.yFormat ?? num;
  const xt = [0, 0.25, 0.5, 0.75, 1].map((f) => t0 + f * (t1 - t0));
  const barW = Math.max(1.5, ((W - M.l - M.r) / Math.max(1, (t1 - t0) / 3600_000)) * 0.8);
  const base = new Map<number, number>();
  if (all.length === 0) return <p class="muted">No data.</p>;
  return (
    <figure class="chart" data-testid={props.testId}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={props.yLabel}>
        {ticks(yMax).map((v) => (
          <g>
            <line x1={M.l} x2={W - M.r} y1={y(v)} y2={y(v)} class="grid" />
            <text x={M.l - 6} y={y(v) + 4} text-anchor="end" class="tick">{fmt(v)}</text>
          </g>
        ))}
        {xt.map((t) => <text x={x(t)} y={H - M.b + 16} text-anchor="middle" class="tick">{hourLabel(t)}</text>)}
        <text x={(W + M.l) / 2} y={H - 4} text-anchor="middle" class="axis-label">time (UTC, per hour)</text>
        <text x={14} y={(H - M.b + M.t) / 2} text-anchor="middle" transform={`rotate(-90 14 ${(H - M.b + M.t) / 2})`} class="axis-label">{props.yLabel}</text>
        <line x1={M.l} x2={M.l} y1={M.t} y2={H - M.b} class="axis" />
        <line x1={M.l} x2={W - M.r} y1={H - M.b} y2={H - M.b} class="axis" />
        {props.series.map((s) =>
          props.stacked ? (
            s.points.map((p) => {
              const b = base.get(p.t) ?? 0;
              base.set(p.t, b + p.v);
              return <rect x={x(p.t) - barW / 2} y={y(b + p.v)} width={barW} height={Math.max(0.5, y(b) - y(b + p.v))} fill={s.colour} />;
            })
          ) : (
            <polyline fill="none" stroke={s.colour} stroke-width="1.6" points={s.points.map((p) => `${x(p.t)},${y(p.v)}`).join(' ')} />
          ),
        )}
        {(props.markers ?? []).map((m) => (
          <g class="marker">
            <line x1={x(m.t)} x2={x(m.t)} y1={M.t} y2={H - M.b} />
            <title>{m.label}</title>
          </g>
        ))}
      </svg>
      <figcaption class="legend">
        {props.series.map((s) => <span><i style={{ background: s.colour }} />{s.name}</span>)}
        {props.markers && props.markers.length > 0 && <span><i class="marker-key" />flagged ({props.markers.length})</span>}
      </figcaption>
    </figure>
  );
}

/** Horizontal bars with their values written at the end. */
export function BarList(props: { rows: { label: ComponentChildren; value: number; colour?: string }[]; unit: string; format?: (v: number) => string; testId?: string }) {
  const max = Math.max(1, ...props.rows.map((r) => r.value));
  const fmt = props.format ?? num;
  return (
    <table class="bars" data-testid={props.testId}>
      <thead><tr><th /><th>{props.unit}</th></tr></thead>
      <tbody>
        {props.rows.map((r) => (
          <tr>
            <td class="bar-label">{r.label}</td>
            <td class="bar-cell"><span class="bar" style={{ width: `${(r.value / max) * 100}%`, background: r.colour ?? '#1565c0' }} /><span class="bar-value">{fmt(r.value)}</span></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Campaigns as dots: x the number of accounts, y the confidence, area the exchanges. */
export function ScatterChart(props: { points: { id: string; x: number; y: number; size: number; colour: string; href: string }[]; xLabel: string; yLabel: string; testId?: string }) {
  const xMax = Math.max(1, ...props.points.map((p) => p.x)) * 1.1;
  const sMax = Math.max(1, ...props.points.map((p) => p.size));
  const x = (v: number) => M.l + (v / xMax) * (W - M.l - M.r);
  const y = (v: number) => H - M.b - v * (H - M.t - M.b);
  return (
    <figure class="chart" data-testid={props.testId}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={props.yLabel}>
        {[0, 0.25, 0.5, 0.75, 1].map((v) => (
          <g>
            <line x1={M.l} x2={W - M.r} y1={y(v)} y2={y(v)} class="grid" />
            <text x={M.l - 6} y={y(v) + 4} text-anchor="end" class="tick">{v.toFixed(2)}</text>
          </g>
        ))}
        {ticks(xMax).map((v) => <text x={x(v)} y={H - M.b + 16} text-anchor="middle" class="tick">{num(v)}</text>)}
        <text x={(W + M.l) / 2} y={H - 4} text-anchor="middle" class="axis-label">{props.xLabel}</text>
        <text x={14} y={(H - M.b + M.t) / 2} text-anchor="middle" transform={`rotate(-90 14 ${(H - M.b + M.t) / 2})`} class="axis-label">{props.yLabel}</text>
        <line x1={M.l} x2={M.l} y1={M.t} y2={H - M.b} class="axis" />
        <line x1={M.l} x2={W - M.r} y1={H - M.b} y2={H - M.b} class="axis" />
        {props.points.map((p) => (
          <a href={p.href}>
            <circle cx={x(p.x)} cy={y(p.y)} r={4 + 14 * Math.sqrt(p.size / sMax)} fill={p.colour} fill-opacity="0.55" stroke={p.colour}>
              <title>{`${p.id}: ${num(p.x)} accounts, confidence ${p.y.toFixed(2)}, ${num(p.size)} exchanges`}</title>
            </circle>
          </a>
        ))}
      </svg>
      <figcaption class="legend"><span>dot area: exchanges</span><span><i style={{ background: '#c62828' }} />undecided</span><span><i style={{ background: '#2e7d32' }} />decided</span></figcaption>
    </figure>
  );
}
