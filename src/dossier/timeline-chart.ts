/**
 * The timeline chart as inline SVG: the members' exchanges per hour (bars), the campaign's
 * flag time (a red line) and each member's flag time (ticks under the axis), with axes, units
 * and a legend. Plain SVG so the document stays self-contained and prints as drawn.
 */
import { hourlyTotals } from './build.js';
import type { CampaignTimeline } from '../investigate/campaigns.js';
import { escapeXml } from './escape.js';

const W = 900;
const H = 300;
const M = { left: 64, right: 40, top: 40, bottom: 64 };
const HOUR = 3_600_000;

/** A round step for about `target` ticks over `span`. */
function niceStep(span: number, target: number): number {
  const raw = span / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

export function timelineSvg(t: CampaignTimeline): string {
  const totals = hourlyTotals(t.activity);
  if (totals.length === 0) return `<p class="note">No exchanges of the members are in the store.</p>`;
  const hours = totals.map((x) => Date.parse(x.hour));
  const flagTimes = t.flags.map((f) => Date.parse(f.at));
  const t0 = Math.min(hours[0]!, ...flagTimes);
  const t1 = Math.max(hours[hours.length - 1]! + HOUR, ...flagTimes);
  const maxY = Math.max(...totals.map((x) => x.exchanges));
  const yStep = niceStep(maxY, 5);
  const yMax = Math.ceil(maxY / yStep) * yStep;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (ms: number) => M.left + ((ms - t0) / (t1 - t0)) * pw;
  const y = (v: number) => M.top + ph - (v / yMax) * ph;
  const bw = Math.max(1, (HOUR / (t1 - t0)) * pw - 0.5);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="Exchanges per hour of the campaign's members, with flag times" class="chart timeline">`);
  // Y axis: exchanges per hour.
  for (let v = 0; v <= yMax; v += yStep) {
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e3e3e3"/>`);
    out.push(`<text x="${M.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="11">${v}</text>`);
  }
  out.push(`<text transform="translate(14 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="12">exchanges per hour</text>`);
  // X axis: a tick per day (or per few hours on a short span), labelled in UTC.
  const spanH = (t1 - t0) / HOUR;
  const tickH = spanH <= 36 ? 6 : spanH <= 24 * 10 ? 24 : 24 * Math.ceil(spanH / 24 / 10);
  const firstTick = Math.ceil(t0 / (tickH * HOUR)) * tickH * HOUR;
  for (let ms = firstTick; ms <= t1; ms += tickH * HOUR) {
    const iso = new Date(ms).toISOString();
    const label = tickH < 24 ? `${iso.slice(5, 10)} ${iso.slice(11, 13)}h` : iso.slice(0, 10);
    out.push(`<line x1="${x(ms).toFixed(1)}" x2="${x(ms).toFixed(1)}" y1="${M.top + ph}" y2="${M.top + ph + 5}" stroke="#333"/>`);
    out.push(`<text x="${x(ms).toFixed(1)}" y="${M.top + ph + 18}" text-anchor="middle" font-size="11">${label}</text>`);
  }
  out.push(`<text x="${M.left + pw / 2}" y="${H - 8}" text-anchor="middle" font-size="12">time (UTC)</text>`);
  // Bars.
  for (const b of totals) {
    const bx = x(Date.parse(b.hour));
    out.push(`<rect x="${bx.toFixed(1)}" y="${y(b.exchanges).toFixed(1)}" width="${bw.toFixed(2)}" height="${(M.top + ph - y(b.exchanges)).toFixed(1)}" fill="#4a7bb7"><title>${escapeXml(b.hour)}: ${b.exchanges} exchanges from ${b.accounts} accounts</title></rect>`);
  }
  out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${M.top + ph}" y2="${M.top + ph}" stroke="#333"/>`);
  out.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + ph}" stroke="#333"/>`);
  // Flags: members' as ticks in a strip under the axis labels, the campaign's as a full line.
  for (const f of t.flags) {
    const fx = x(Date.parse(f.at)).toFixed(1);
    if (f.account_id === null) out.push(`<line x1="${fx}" x2="${fx}" y1="${M.top - 6}" y2="${M.top + ph}" stroke="#c0392b" stroke-width="2"><title>campaign flagged ${escapeXml(f.at)}</title></line>`);
    else out.push(`<line x1="${fx}" x2="${fx}" y1="${M.top + ph + 24}" y2="${M.top + ph + 34}" stroke="#e67e22"><title>${escapeXml(f.account_id)} flagged ${escapeXml(f.at)}</title></line>`);
  }
  // Legend.
  const lg = (lx: number, swatch: string, label: string) => `<g transform="translate(${lx} 14)">${swatch}<text x="18" y="10" font-size="12">${label}</text></g>`;
  out.push(lg(M.left, `<rect width="12" height="12" fill="#4a7bb7"/>`, 'exchanges of all members per hour'));
  out.push(lg(M.left + 260, `<line x1="6" x2="6" y1="0" y2="12" stroke="#c0392b" stroke-width="2"/>`, 'campaign flagged'));
  out.push(lg(M.left + 400, `<line x1="6" x2="6" y1="0" y2="12" stroke="#e67e22"/>`, 'a member flagged (strip under the time axis)'));
  out.push('</svg>');
  return out.join('\n');
}
