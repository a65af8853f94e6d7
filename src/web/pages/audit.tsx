import type { AuditEntry, Page } from '../api.js';
import { useApi } from '../use-api.js';
import { hrefAccount, hrefCampaign, when } from '../format.js';
import { Pending } from './common.js';

export function AuditPage() {
  const r = useApi<Page<AuditEntry>>('/audit?limit=200');
  if (!r || !r.ok) return <Pending r={r} what="the audit" />;
  return (
    <section data-testid="audit">
      <h1>Audit ({r.data.total})</h1>
      <p class="muted">Every change, newest first.</p>
      <table>
        <thead><tr><th>when</th><th>who</th><th>role</th><th>what</th><th>target</th><th>why</th></tr></thead>
        <tbody>
          {r.data.items.map((e) => (
            <tr data-audit={e.seq}>
              <td>{when(e.at)}</td>
              <td>{e.actor}</td>
              <td>{e.role}</td>
              <td>{e.action}</td>
              <td><a href={e.target.kind === 'campaign' ? hrefCampaign(e.target.id) : hrefAccount(e.target.id)}>{e.target.kind} {e.target.id}</a></td>
              <td>{e.why}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
