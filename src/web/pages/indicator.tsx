import type { SearchResult } from '../api.js';
import { useApi } from '../use-api.js';
import { VERDICT_COLOURS, hrefAccount, hrefCampaign, num, when } from '../format.js';
import { Pending } from './common.js';

export function IndicatorPage(props: { kind: string; value: string }) {
  const r = useApi<SearchResult>(`/search?kind=${encodeURIComponent(props.kind)}&value=${encodeURIComponent(props.value)}&limit=1000`);
  if (!r || !r.ok) return <Pending r={r} what="the indicator" />;
  const s = r.data;
  return (
    <section data-testid="indicator">
      <h1>{s.kind}: <code>{s.value}</code></h1>
      <p>Held by {num(s.accounts.length)} account(s); listed by {s.campaigns.length ? s.campaigns.map((c) => <a href={hrefCampaign(c)}>{c} </a>) : 'no campaign'}.</p>
      <table data-testid="holders">
        <thead><tr><th>account</th><th>verdict</th><th>campaign</th><th>exchanges with it</th><th>first seen</th><th>last seen</th></tr></thead>
        <tbody>
          {s.accounts.map((a) => (
            <tr>
              <td><a href={hrefAccount(a.account_id)}>{a.account_id}</a></td>
              <td><span class="pill" style={{ background: VERDICT_COLOURS[a.verdict] ?? '#555' }}>{a.verdict}</span></td>
              <td>{a.campaign_id ? <a href={hrefCampaign(a.campaign_id)}>{a.campaign_id}</a> : '—'}</td>
              <td>{num(a.exchanges)}</td>
              <td>{when(a.first_seen)}</td>
              <td>{when(a.last_seen)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
