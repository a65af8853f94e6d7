/** The decision buttons: confirm, dismiss (a reason from the fixed list, and text), allowlist, block, snooze until a date. */
import { useState } from 'preact/hooks';
import { api, DISMISS_REASONS } from './api.js';

export function DecisionForm(props: { target: { kind: 'campaign' | 'account'; id: string }; onDone: () => void }) {
  const [reason, setReason] = useState<string>(DISMISS_REASONS[0]);
  const [note, setNote] = useState('');
  const [until, setUntil] = useState(new Date(Date.now() + 7 * 86400_000).toISOString().slice(0, 10));
  const [status, setStatus] = useState<string | null>(null);
  const send = async (kind: string) => {
    const extra = kind === 'dismiss' ? { reason } : kind === 'snooze' ? { until: new Date(until + 'T00:00:00Z').toISOString() } : {};
    const r = await api<{ accounts: unknown[] }>('/decisions', { method: 'POST', body: { target: props.target, kind, note, ...extra } });
    setStatus(r.ok ? `Recorded: ${kind} (${r.data.accounts.length} account(s) changed)` : `Not recorded: ${r.message}`);
    if (r.ok) props.onDone();
  };
  return (
    <div class="decide" data-testid={`decide-${props.target.id}`}>
      <input aria-label="note" placeholder="note (why)" value={note} onInput={(e) => setNote((e.target as HTMLInputElement).value)} />
      <button class="confirm" onClick={() => send('confirm')}>Confirm</button>
      <select aria-label="dismiss reason" value={reason} onChange={(e) => setReason((e.target as HTMLSelectElement).value)}>
        {DISMISS_REASONS.map((r) => <option value={r}>{r.replaceAll('_', ' ')}</option>)}
      </select>
      <button class="dismiss" onClick={() => send('dismiss')}>Dismiss</button>
      <button onClick={() => send('allowlist')}>Allowlist</button>
      <button class="block" onClick={() => send('block')}>Block</button>
      <input type="date" aria-label="snooze until" value={until} onInput={(e) => setUntil((e.target as HTMLInputElement).value)} />
      <button onClick={() => send('snooze')}>Snooze</button>
      {status && <span class="status" role="status">{status}</span>}
    </div>
  );
}
