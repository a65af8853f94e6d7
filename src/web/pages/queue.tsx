import { useState } from 'preact/hooks';
import type { QueueItem } from '../api.js';
import { useApi } from '../use-api.js';
import { DecisionForm } from '../decide.js';
import { hrefAccount, hrefCampaign, when } from '../format.js';
import { Pending } from './common.js';

export function QueuePage() {
  const [reload, setReload] = useState(0);
  const r = useApi<{ total: number; items: QueueItem[] }>('/review-queue', reload);
  if (!r || !r.ok) return <Pending r={r} what="the review queue" />;
  return (
    <section data-testid="queue">
      <h1>Review queue ({r.data.total})</h1>
      <p class="muted">Flagged campaigns and accounts nobody has decided on, oldest flag first.</p>
      <table>
        <thead><tr><th>flagged</th><th>kind</th><th>id</th><th>confidence</th><th>accounts</th><th>decide</th></tr></thead>
        <tbody>
          {r.data.items.map((i) => (
            <tr data-queue-item={i.id}>
              <td>{when(i.flagged_at)}</td>
              <td>{i.kind}</td>
              <td><a href={i.kind === 'campaign' ? hrefCampaign(i.id) : hrefAccount(i.id)}>{i.id}</a></td>
              <td>{i.confidence.toFixed(2)}</td>
              <td>{i.accounts}</td>
              <td><DecisionForm target={{ kind: i.kind, id: i.id }} onDone={() => setReload((n) => n + 1)} /></td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
