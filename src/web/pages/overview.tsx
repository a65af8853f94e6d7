import { BarList, ScatterChart, TimeChart } from '../charts.js';
import type { Overview, Shadow } from '../api.js';
import { useApi } from '../use-api.js';
import { hrefAccount, hrefCampaign, num, pct, when } from '../format.js';
import { Pending } from './common.js';

export function OverviewPage() {
  const r = useApi<Overview>('/overview');
  if (!r || !r.ok) return <Pending r={r} what="the overview" />;
  const o = r.data;
  const caps = Object.entries(o.capabilities).sort((a, b) => b[1] - a[1]);
  return (
    <section data-testid="overview">
      <h1>Overview</h1>
      <div class="cards">
        <div><b>{num(o.exchanges)}</b>exchanges</div>
        <div><b>{num(o.accounts)}</b>accounts</div>
        <div><b>{o.campaigns.length}</b>campaigns</div>
        <div><a href="#/queue"><b data-testid="queue-length">{o.review_queue}</b>awaiting review</a></div>
      </div>
      <p class="muted">Scan of {when(o.generated_at)}.</p>
      <h2>Exchanges over time</h2>
      <TimeChart testId="overview-hourly" yLabel="exchanges per hour" series={[{ name: 'all exchanges', colour: '#1565c0', points: o.hourly.map((h) => ({ t: Date.parse(h.hour), v: h.exchanges })) }]} markers={o.flags.map((f) => ({ t: Date.parse(f.at), label: `${f.campaign_id} flagged ${when(f.at)}` }))} />
      <div class="two">
        <div>
          <h2>Campaigns by confidence and size</h2>
          <ScatterChart testId="overview-campaigns" xLabel="accounts in the campaign" yLabel="confidence (0–1)" points={o.campaigns.map((c) => ({ id: c.id, x: c.accounts, y: c.confidence, size: c.exchanges, colour: c.decision ? '#2e7d32' : '#c62828', href: hrefCampaign(c.id) }))} />
        </div>
        <div>
          <h2>Capabilities targeted</h2>
          <BarList testId="overview-capabilities" unit="campaign exchanges" rows={caps.map(([k, v]) => ({ label: k, value: v }))} />
        </div>
      </div>
      <h2>Campaigns</h2>
      <table data-testid="campaign-list">
        <thead><tr><th>campaign</th><th>confidence</th><th>accounts</th><th>exchanges</th><th>top capability</th><th>tactics</th><th>first flagged</th><th>decision</th></tr></thead>
        <tbody>
          {o.campaigns.map((c) => (
            <tr data-campaign={c.id}>
              <td><a href={hrefCampaign(c.id)}>{c.id}</a></td>
              <td>{c.confidence.toFixed(2)}</td>
              <td>{num(c.accounts)}</td>
              <td>{num(c.exchanges)}</td>
              <td>{c.top_capability ?? '—'}</td>
              <td>{c.tactics.join(', ')}</td>
              <td>{when(c.first_flagged_at)}</td>
              <td>{c.decision ? `${c.decision.kind} by ${c.decision.actor}` : 'none'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="muted">Confidence is the engine's (0–1); a share like {pct(0.5)} is of the campaign's exchanges.</p>
      <ShadowPanel />
    </section>
  );
}

/** What the gateway's policy would have done in shadow mode: measured before it is let act. */
function ShadowPanel() {
  const r = useApi<Shadow>('/shadow');
  if (!r || !r.ok) return null;
  const s = r.data;
  return (
    <div data-testid="shadow">
      <h2>Shadow mode: what the gateway would have done</h2>
      {!s.available ? (
        <p class="muted">{s.reason}</p>
      ) : (
        <>
          <p class="muted">
            Gateway {s.gateway}, policy mode <b>{s.mode}</b>, counting since {when(s.since)}
            {s.mode === 'enforce' ? ' (enforcing: nothing is counted as would-have)' : ': requests it served that the policy would have acted on'}.
          </p>
          <div class="cards">
            <div><b data-testid="would-have-blocked">{num(s.would_have.block)}</b>would have been blocked</div>
            <div><b>{num(s.would_have.degrade)}</b>would have been degraded</div>
            <div><b>{num(s.would_have.throttle)}</b>would have been throttled</div>
            <div><b>{num(s.would_have.flag)}</b>would have been flagged</div>
          </div>
          {s.accounts.length > 0 && (
            <table data-testid="shadow-accounts">
              <thead><tr><th>account</th><th>would have blocked</th><th>degraded</th><th>throttled</th><th>flagged</th></tr></thead>
              <tbody>
                {s.accounts.slice(0, 10).map((a) => (
                  <tr><td><a href={hrefAccount(a.account_id)}>{a.account_id}</a></td><td>{num(a.block)}</td><td>{num(a.degrade)}</td><td>{num(a.throttle)}</td><td>{num(a.flag)}</td></tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </div>
  );
}
