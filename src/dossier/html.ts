/**
 * The dossier as one self-contained HTML document: inline CSS and SVG, no script, and a
 * content security policy that forbids every fetch, so it opens the same offline, in a mail
 * client or in a PDF printer, and cannot call home.
 */
import type { Tactic } from '../core/report.js';
import type { Dossier } from './build.js';
import { escapeXml as e } from './escape.js';
import { graphSvg } from './graph-chart.js';
import { timelineSvg } from './timeline-chart.js';

/** What each tactic means, for a reader who is not an engineer. */
const TACTIC_TEXT: Record<Tactic, string> = {
  hydra_proxy: 'many accounts run through shared proxies and networks, so that no one account looks large',
  synchronized_accounts: 'accounts act in the same minutes, as one operator would drive them',
  capability_sweep: 'prompts walk systematically across capabilities, as a training set is collected',
  cot_elicitation: "prompts ask for the model's reasoning itself (step by step, full derivations)",
  reward_grading: 'prompts ask the model to grade or rank answers, as reward data for training',
  model_pivot: 'traffic moves to a newly released model within days of its release',
  entry_point_farming: 'accounts are opened through many entry points (free tiers, resellers, trials)',
  ban_evasion: 'new accounts pick up where blocked ones stopped, with the same tooling',
  relay: 'requests are relayed for other parties through an account',
  around_the_clock: 'activity runs day and night with no human rhythm',
  no_ramp_up: 'accounts start at full volume from their first day',
  ip_rotation: 'accounts rotate IP addresses across networks',
};

const int = (n: number) => n.toLocaleString('en-US');
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
/** `2026-04-22 00:02 UTC` from an ISO time. */
export const utc = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

const CSS = `
body{font:14px/1.45 -apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;color:#1c1c1c;max-width:960px;margin:24px auto;padding:0 16px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ccc;padding-bottom:2px;break-after:avoid}
.meta{color:#555}.note{color:#555;font-style:italic}
dl.figures{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px}dl.figures dt{color:#555}dl.figures dd{margin:0;font-weight:600}
table{border-collapse:collapse;width:100%;margin:6px 0 12px;font-size:12.5px}th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}tr{break-inside:avoid}
.bar{display:inline-block;height:10px;background:#4a7bb7}
code{font:12px/1.3 "DejaVu Sans Mono",Menlo,monospace;word-break:break-all}
.chart{border:1px solid #eee;margin:6px 0;break-inside:avoid}
ul.compact{margin:4px 0;padding-left:20px}
`;

function table(head: string[], rows: string[][], numeric: number[] = []): string {
  if (rows.length === 0) return '<p class="note">None.</p>';
  const td = (c: string, k: number) => `<td${numeric.includes(k) ? ' class="n"' : ''}>${c}</td>`;
  return `<table><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map(td).join('')}</tr>`).join('')}</tbody></table>`;
}

const figure = (key: string, label: string, value: string) => `<dt>${label}</dt><dd data-figure="${key}">${value}</dd>`;

export function dossierHtml(d: Dossier): string {
  const c = d.campaign;
  const capabilities = Object.entries(c.capabilities).sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0)) as [string, number][];
  const flagged = d.detail.members.filter((m) => m.verdict !== 'benign').length;
  const decision = d.detail.decision;
  const ind = c.indicators;
  const redactionText = {
    mask: 'Prompt previews are shortened and addresses, links, IP addresses, key-like strings and long numbers are masked.',
    omit: 'Prompt text is omitted: only the metadata of each exchange is shown.',
    none: 'Prompt previews are shown as the store keeps them (a preview, never the whole prompt).',
  }[d.options.redaction];

  const s: string[] = [];
  s.push(`<!doctype html><html lang="en"><head><meta charset="utf-8">`);
  s.push(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
  s.push(`<title>Campaign ${e(c.id)}: evidence dossier</title><style>${CSS}</style></head><body>`);
  s.push(`<h1>Distillation campaign ${e(c.id)}: evidence dossier</h1>`);
  s.push(`<p class="meta">Prepared ${e(utc(d.options.preparedAt))} by DistillWatch from the scan of ${e(d.report.generated_at ? utc(d.report.generated_at) : 'an unknown time')}, which covered ${int(d.report.input.exchanges)} exchanges of ${int(d.report.input.accounts)} accounts.</p>`);

  s.push(`<h2 id="summary">Summary</h2>`);
  s.push(
    `<p>${int(c.accounts.length)} accounts made ${int(c.exchanges)} exchanges between ${e(utc(c.first_seen))} and ${e(utc(c.last_seen))} that DistillWatch attributes to one distillation campaign with confidence ${c.confidence.toFixed(2)}. ` +
      `The capability most targeted is ${e(capabilities[0]?.[0] ?? 'unknown')}${capabilities[0] ? ` (${pct(capabilities[0][1])} of the exchanges)` : ''}; tactics seen: ${c.tactics.map((t) => e(t.replaceAll('_', ' '))).join(', ') || 'none named'}. ` +
      (decision ? `An analyst decided "${e(decision.kind)}" on ${e(utc(decision.at))}.` : 'No analyst has decided on it yet.') +
      `</p>`,
  );
  s.push(`<p>${e(c.explanation)}</p>`);

  s.push(`<h2 id="scale">Scale</h2><dl class="figures">`);
  s.push(figure('accounts', 'Accounts', int(c.accounts.length)));
  s.push(figure('flagged-accounts', 'Accounts flagged on their own evidence', int(flagged)));
  s.push(figure('exchanges', 'Exchanges', int(c.exchanges)));
  s.push(figure('first-seen', 'First seen', e(utc(c.first_seen))));
  s.push(figure('last-seen', 'Last seen', e(utc(c.last_seen))));
  s.push(figure('first-flagged', 'First flagged', c.first_flagged_at ? e(utc(c.first_flagged_at)) : 'not flagged'));
  s.push(figure('confidence', 'Confidence', c.confidence.toFixed(3)));
  s.push(`</dl>`);

  s.push(`<h2 id="capabilities">Capabilities targeted</h2>`);
  s.push(table(['Capability', 'Share of exchanges', ''], capabilities.map(([k, v]) => [`<span data-capability="${e(k)}">${e(k.replaceAll('_', ' '))}</span>`, pct(v), `<span class="bar" style="width:${Math.round(v * 300)}px"></span>`]), [1]));

  s.push(`<h2 id="tactics">Tactics</h2>`);
  s.push(c.tactics.length ? `<ul class="compact">${c.tactics.map((t) => `<li><b>${e(t.replaceAll('_', ' '))}</b>: ${e(TACTIC_TEXT[t] ?? t)}</li>`).join('')}</ul>` : '<p class="note">None named.</p>');

  s.push(`<h2 id="infrastructure">Infrastructure</h2>`);
  const list = (xs: readonly (string | number)[]) => (xs.length ? xs.map((x) => `<code>${e(String(x))}</code>`).join(', ') : '<span class="note">none</span>');
  s.push(
    table(
      ['Kind', 'Count', 'Values (as the scan reports them)'],
      [
        ['IP addresses', String(ind.ips.length), list(ind.ips)],
        ['Subnets', String(ind.subnets.length), list(ind.subnets)],
        ['Networks (ASN)', String(ind.asns.length), list(ind.asns)],
        ['Payment fingerprints', String(ind.payment_fingerprints.length), list(ind.payment_fingerprints)],
        ['User agents', String(ind.user_agents.length), list(ind.user_agents)],
        ['Harness and system-prompt signatures', String(ind.harnesses.length), list(ind.harnesses)],
        ['Prompt template signatures', String(ind.templates.length), list(ind.templates)],
      ],
      [1],
    ),
  );

  s.push(`<h2 id="timeline">Timeline</h2>`);
  s.push(timelineSvg(d.timeline));

  s.push(`<h2 id="graph">Accounts and the indicators they share</h2>`);
  s.push(`<p class="meta">Circles are member accounts coloured by verdict; diamonds are indicators coloured by kind, sized by how many members hold them; a line joins a member to an indicator it holds. The ${d.indicators.length} most shared indicators are drawn.</p>`);
  s.push(graphSvg(d.detail.members, d.indicators));

  s.push(`<h2 id="evidence">Evidence</h2>`);
  s.push(`<h3>How the accounts are linked</h3>`);
  s.push(table(['Link', 'Account pairs joined'], Object.entries(c.links).sort((a, b) => b[1] - a[1]).map(([k, n]) => [e(k.replaceAll('_', ' ')), int(n)]), [1]));
  s.push(`<h3>Shared indicators</h3>`);
  s.push(table(['Kind', 'Value', 'Members holding it', 'Accounts outside the campaign holding it'], d.indicators.map((i) => [e(i.kind), `<code>${e(i.value)}</code>`, `${int(i.members.length)} of ${int(c.accounts.length)}`, int(i.outsiders)]), [2, 3]));
  s.push(`<h3>Members</h3>`);
  const members = [...d.detail.members].sort((a, b) => b.risk - a.risk || a.account_id.localeCompare(b.account_id));
  s.push(table(['Account', 'Verdict', 'Risk', 'Exchanges', 'First flagged', 'Decision'], members.map((m) => [`<code>${e(m.account_id)}</code>`, e(m.verdict), m.risk.toFixed(3), int(m.exchanges), m.first_flagged_at ? e(utc(m.first_flagged_at)) : '', m.decision ? e(`${m.decision.kind} (${utc(m.decision.at)})`) : '']), [2, 3]));
  s.push(`<h3>Findings with their measured values</h3>`);
  s.push(`<p class="meta">The engine's findings on the ${Math.min(10, members.length)} highest-risk members, as it states them.</p>`);
  s.push(table(['Account', 'Findings'], members.slice(0, 10).map((m) => [`<code>${e(m.account_id)}</code>`, `<ul class="compact">${m.reasons.map((r) => `<li>${e(r)}</li>`).join('')}</ul>`])));

  s.push(`<h2 id="samples">Sample exchanges</h2>`);
  s.push(`<p class="meta">The latest exchanges of the most active members. ${redactionText}</p>`);
  s.push(
    table(
      ['Time', 'Account', 'Model', 'Capability', 'Reasoning asked', 'Prompt (preview)'],
      d.samples.map((x) => [e(utc(x.ts)), `<code>${e(x.account_id)}</code>`, e(x.model), e(x.capability), pct(x.elicitation), x.shown === null ? '<span class="note">not shown</span>' : `<span class="preview">${e(x.shown)}</span>`]),
    ),
  );

  s.push(`<h2 id="method">Method and confidence</h2>`);
  s.push(
    `<p>DistillWatch scores each account from signals measured on its own traffic (reasoning asked for, template reuse, timing regularity, IP and client rotation, capability coverage, among others), then links accounts that share indicators a bystander would not share (a payment fingerprint, a harness or system-prompt signature, a prompt template, networks and synchronised bursts), groups the linked accounts into communities, and scores each community as a whole. ` +
      `A campaign's confidence (here ${c.confidence.toFixed(3)}) is the engine's combined score of that group's evidence, from 0 to 1; the findings above give each measured value behind it. ` +
      `Times are event times: when the traffic happened, not when it was scanned.</p>`,
  );
  if (d.report.engine) s.push(`<p class="meta">Engine ${e(d.report.engine.version)}; its parameters are kept with the scan's report.</p>`);

  s.push(`<h2 id="decisions">Decisions</h2>`);
  s.push(
    table(
      ['When', 'Who', 'On', 'Decision', 'Reason', 'Note'],
      d.decisions.map((x) => [e(utc(x.at)), e(x.actor), `${e(x.target.kind)} <code>${e(x.target.id)}</code>`, e(x.kind + (x.kind === 'snooze' ? ` until ${utc(x.until)}` : '')), x.kind === 'dismiss' ? e(x.reason.replaceAll('_', ' ')) : '', e(x.note)]),
    ),
  );
  if (d.audit.length) {
    s.push(`<h3>Audit of the campaign</h3>`);
    s.push(table(['When', 'Who', 'Role', 'What', 'Why'], d.audit.map((a) => [e(utc(a.at)), e(a.actor), e(a.role), e(a.action), e(a.why)])));
  }
  s.push(`</body></html>\n`);
  return s.join('\n');
}
