import { useState } from 'preact/hooks';
import { BarList, TimeChart, type Series } from '../charts.js';
import { download, type CampaignDetail, type ExchangePreview, type Graph, type Page, type Timeline } from '../api.js';
import { useApi } from '../use-api.js';
import { GraphCanvas } from '../graph.js';
import { DecisionForm } from '../decide.js';
import { KIND_COLOURS, PALETTE, VERDICT_COLOURS, hrefAccount, hrefIndicator, num, pct, when } from '../format.js';
import { Pending } from './common.js';

const SEARCHABLE = new Set(['ip', 'subnet', 'asn', 'payment', 'user_agent', 'harness', 'system', 'template']);

function capabilitySeries(t: Timeline): { volume: Series[]; elicitation: Series[] } {
  const byCap = new Map<string, { t: number; v: number }[]>();
  const eli = new Map<number, { n: number; sum: number }>();
  for (const c of t.capabilities) {
    const at = Date.parse(c.hour);
    (byCap.get(c.capability) ?? byCap.set(c.capability, []).get(c.capability)!).push({ t: at, v: c.exchanges });
    const e = eli.get(at) ?? { n: 0, sum: 0 };
    e.n += c.exchanges;
    e.sum += c.elicitation * c.exchanges;
    eli.set(at, e);
  }
  const volume = [...byCap.entries()].sort((a, b) => b[1].reduce((n, p) => n + p.v, 0) - a[1].reduce((n, p) => n + p.v, 0)).map(([name, points], i) => ({ name, colour: PALETTE[i % PALETTE.length]!, points }));
  const elicitation = [{ name: 'mean elicitation score of the members\' exchanges', colour: '#6a1b9a', points: [...eli.entries()].sort((a, b) => a[0] - b[0]).map(([at, e]) => ({ t: at, v: e.sum / Math.max(1, e.n) })) }];
  return { volume, elicitation };
}

function activitySeries(t: Timeline): Series[] {
  const byVerdict = new Map<string, Map<number, number>>();
  for (const a of t.activity) {
    const v = a.verdict;
    const m = byVerdict.get(v) ?? byVerdict.set(v, new Map()).get(v)!;
    const at = Date.parse(a.hour);
    m.set(at, (m.get(at) ?? 0) + a.exchanges);
  }
  return [...byVerdict.entries()].map(([v, m]) => ({ name: `members judged ${v}`, colour: VERDICT_COLOURS[v]!, points: [...m.entries()].sort((a, b) => a[0] - b[0]).map(([at, n]) => ({ t: at, v: n })) }));
}

export function CampaignPage(props: { id: string }) {
  const [reload, setReload] = useState(0);
  const path = `/campaigns/${encodeURIComponent(props.id)}`;
  const d = useApi<CampaignDetail>(path, reload);
  const t = useApi<Timeline>(path + '/timeline');
  const g = useApi<Graph>(path + '/graph');
  const sampleOf = d?.ok ? d.data.members.slice().sort((a, b) => b.risk - a.risk)[0]?.account_id ?? null : null;
  const samples = useApi<Page<ExchangePreview>>(sampleOf ? `/accounts/${encodeURIComponent(sampleOf)}/exchanges?limit=8` : null);
  if (!d || !d.ok) return <Pending r={d} what={`campaign ${props.id}`} />;
  const c = d.data.campaign;
  const caps = t?.ok ? capabilitySeries(t.data) : null;
  return (
    <section data-testid="campaign" data-campaign={c.id}>
      <h1>Campaign {c.id}</h1>
      <div class="cards">
        <div><b>{c.confidence.toFixed(2)}</b>confidence</div>
        <div><b>{c.accounts.length}</b>accounts</div>
        <div><b>{num(c.exchanges)}</b>exchanges</div>
        <div><b>{when(c.first_flagged_at)}</b>first flagged</div>
        <div><b>{d.data.decision ? d.data.decision.kind : 'none'}</b>decision{d.data.decision ? ` by ${d.data.decision.actor}` : ''}</div>
      </div>
      <p class="muted">{when(c.first_seen)} to {when(c.last_seen)} · tactics: {c.tactics.join(', ') || '—'}</p>
      <DecisionForm target={{ kind: 'campaign', id: c.id }} onDone={() => setReload((n) => n + 1)} />
      <DossierButtons id={c.id} />
      <h2>Explanation</h2>
      <p class="explanation" data-testid="explanation">{c.explanation}</p>
      <h2>Accounts and the indicators they share</h2>
      {g?.ok ? <GraphCanvas nodes={g.data.nodes} edges={g.data.edges} /> : <Pending r={g} what="the graph" />}
      <h2>Members' activity</h2>
      {t?.ok ? (
        <TimeChart testId="timeline" stacked yLabel="exchanges per hour" series={activitySeries(t.data)} markers={t.data.flags.map((f) => ({ t: Date.parse(f.at), label: `${f.account_id ?? 'campaign'} flagged ${when(f.at)}` }))} />
      ) : <Pending r={t} what="the timeline" />}
      {caps && (
        <div class="two">
          <div>
            <h2>Capabilities over time</h2>
            <TimeChart testId="capabilities" stacked yLabel="exchanges per hour" series={caps.volume} />
          </div>
          <div>
            <h2>Elicitation share over time</h2>
            <TimeChart testId="elicitation" yLabel="mean elicitation score (%)" yMax={1} yFormat={pct} series={caps.elicitation} />
          </div>
        </div>
      )}
      <div class="two">
        <div>
          <h2>Top indicators</h2>
          <BarList testId="indicators" unit="members holding it" rows={(c.shared_indicators ?? []).map((s) => ({ label: SEARCHABLE.has(s.kind) ? <a href={hrefIndicator(s.kind, s.value)}>{s.kind}: {s.value}</a> : `${s.kind}: ${s.value}`, value: s.accounts, colour: KIND_COLOURS[s.kind] ?? '#555' }))} />
        </div>
        <div>
          <h2>Capabilities targeted</h2>
          <BarList unit="share of exchanges" format={pct} rows={Object.entries(c.capabilities).sort((a, b) => b[1] - a[1]).map(([k, v]) => ({ label: k, value: v }))} />
        </div>
      </div>
      <h2>Members</h2>
      <table data-testid="members">
        <thead><tr><th>account</th><th>verdict</th><th>risk</th><th>exchanges</th><th>first flagged</th><th>decision</th></tr></thead>
        <tbody>
          {d.data.members.map((m) => (
            <tr>
              <td><a href={hrefAccount(m.account_id)}>{m.account_id}</a></td>
              <td><span class="pill" style={{ background: VERDICT_COLOURS[m.verdict] }}>{m.verdict}</span></td>
              <td>{m.risk.toFixed(2)}</td>
              <td>{num(m.exchanges)}</td>
              <td>{when(m.first_flagged_at)}</td>
              <td>{m.decision?.kind ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Sample exchanges{sampleOf ? ` (of ${sampleOf}, the riskiest member)` : ''}</h2>
      {samples?.ok ? <ExchangeTable rows={samples.data.items} /> : <Pending r={samples} what="sample exchanges" />}
    </section>
  );
}

/** The campaign's evidence dossier for a policy or legal team, as HTML or PDF (the PDF takes Chromium a few seconds). */
function DossierButtons(props: { id: string }) {
  const [status, setStatus] = useState('');
  const get = async (format: 'html' | 'pdf') => {
    setStatus(`Preparing the ${format.toUpperCase()} dossier…`);
    const name = `dossier-${props.id.replace(/[^\w.-]/g, '_')}.${format}`;
    const r = await download(`/campaigns/${encodeURIComponent(props.id)}/dossier${format === 'pdf' ? '?format=pdf' : ''}`, name);
    setStatus(r.ok ? `Downloaded ${name}` : `Cannot prepare the dossier: ${r.message}`);
  };
  return (
    <p class="dossier" data-testid="dossier">
      Evidence dossier: <button class="dossier-html" onClick={() => void get('html')}>Download HTML</button>{' '}
      <button class="dossier-pdf" onClick={() => void get('pdf')}>Download PDF</button> <span class="status muted">{status}</span>
    </p>
  );
}

export function ExchangeTable(props: { rows: ExchangePreview[] }) {
  return (
    <table class="exchanges">
      <thead><tr><th>time</th><th>model</th><th>capability</th><th>elicitation</th><th>IP</th><th>prompt (preview)</th></tr></thead>
      <tbody>
        {props.rows.map((e) => (
          <tr><td>{when(e.ts)}</td><td>{e.model}</td><td>{e.capability}</td><td>{e.elicitation.toFixed(2)}</td><td>{e.ip ?? '—'}</td><td class="preview">{e.prompt_preview ?? '—'}</td></tr>
        ))}
      </tbody>
    </table>
  );
}
