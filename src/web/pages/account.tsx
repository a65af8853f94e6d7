import { useState } from 'preact/hooks';
import type { Account, ExchangePreview, Graph, Page } from '../api.js';
import { useApi } from '../use-api.js';
import { GraphCanvas } from '../graph.js';
import { DecisionForm } from '../decide.js';
import { VERDICT_COLOURS, hrefCampaign, num, when } from '../format.js';
import { ExchangeTable } from './campaign.js';
import { Pending } from './common.js';

/** The account, the indicators it holds, and the accounts holding those: one hop out. */
function egoGraph(g: Graph, id: string): Graph {
  const mine = new Set(g.edges.filter((e) => e.source === id).map((e) => e.target));
  const edges = g.edges.filter((e) => mine.has(e.target));
  const keep = new Set([id, ...mine, ...edges.map((e) => e.source)]);
  return { campaign_id: g.campaign_id, nodes: g.nodes.filter((n) => keep.has(n.id)), edges };
}

export function AccountPage(props: { id: string }) {
  const [reload, setReload] = useState(0);
  const path = `/accounts/${encodeURIComponent(props.id)}`;
  const a = useApi<Account>(path, reload);
  const campaign = a?.ok ? a.data.campaign_id : null;
  const g = useApi<Graph>(campaign ? `/campaigns/${encodeURIComponent(campaign)}/graph` : null);
  const ex = useApi<Page<ExchangePreview>>(path + '/exchanges?limit=20');
  if (!a || !a.ok) return <Pending r={a} what={`account ${props.id}`} />;
  const acc = a.data;
  return (
    <section data-testid="account">
      <h1>Account {acc.account_id}</h1>
      <div class="cards">
        <div><b><span class="pill" style={{ background: VERDICT_COLOURS[acc.verdict] }}>{acc.verdict}</span></b>verdict</div>
        <div><b>{acc.risk.toFixed(2)}</b>risk (0–1)</div>
        <div><b>{num(acc.exchanges)}</b>exchanges</div>
        <div><b>{when(acc.first_flagged_at)}</b>first flagged</div>
        <div><b>{acc.campaign_id ? <a href={hrefCampaign(acc.campaign_id)}>{acc.campaign_id}</a> : '—'}</b>campaign</div>
        <div><b>{acc.decision?.kind ?? 'none'}</b>decision</div>
      </div>
      <DecisionForm target={{ kind: 'account', id: acc.account_id }} onDone={() => setReload((n) => n + 1)} />
      <h2>Findings</h2>
      {acc.findings.length ? <ul data-testid="findings">{acc.findings.map((f) => <li>{f}</li>)}</ul> : <p class="muted">No findings.</p>}
      <h2>One hop out</h2>
      {campaign === null ? <p class="muted">The account is in no campaign: nothing links it to others.</p> : g?.ok ? <GraphCanvas {...egoGraph(g.data, acc.account_id)} focus={acc.account_id} height={340} /> : <Pending r={g} what="the graph" />}
      <h2>Exchanges{ex?.ok ? ` (${num(Math.min(20, ex.data.total))} newest of ${num(ex.data.total)})` : ''}</h2>
      {ex?.ok ? <ExchangeTable rows={ex.data.items} /> : <Pending r={ex} what="exchanges" />}
    </section>
  );
}
