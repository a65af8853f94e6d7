/** The dashboard: a token gate, then pages chosen by the URL fragment (`#/campaign/ID`). */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { clearToken, getToken, setToken, takeTokenFromFragment } from './api.js';
import { OverviewPage } from './pages/overview.js';
import { CampaignPage } from './pages/campaign.js';
import { AccountPage } from './pages/account.js';
import { IndicatorPage } from './pages/indicator.js';
import { QueuePage } from './pages/queue.js';
import { AuditPage } from './pages/audit.js';
import './style.css';

takeTokenFromFragment();

function useHash(): string {
  const [h, setH] = useState(location.hash);
  useEffect(() => {
    const on = () => {
      // A link with a token may arrive while the page is open: take it as at start.
      takeTokenFromFragment();
      setH(location.hash);
    };
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return h;
}

function TokenGate(props: { onToken: () => void }) {
  const [v, setV] = useState('');
  return (
    <form class="gate" onSubmit={(e) => { e.preventDefault(); setToken(v.trim()); props.onToken(); }}>
      <h1>DistillWatch</h1>
      <p>Enter your API token. It is kept for this browser tab only.</p>
      <input type="password" name="token" aria-label="token" value={v} onInput={(e) => setV((e.target as HTMLInputElement).value)} autoFocus />
      <button type="submit">Open</button>
    </form>
  );
}

function route(hash: string) {
  const parts = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  switch (parts[0]) {
    case 'campaign': return <CampaignPage id={parts[1] ?? ''} />;
    case 'account': return <AccountPage id={parts[1] ?? ''} />;
    case 'indicator': return <IndicatorPage kind={parts[1] ?? ''} value={parts.slice(2).join('/')} />;
    case 'queue': return <QueuePage />;
    case 'audit': return <AuditPage />;
    default: return <OverviewPage />;
  }
}

function App() {
  const hash = useHash();
  const [, setTick] = useState(0);
  if (!getToken()) return <TokenGate onToken={() => setTick((t) => t + 1)} />;
  return (
    <>
      <nav>
        <strong>DistillWatch</strong>
        <a href="#/">Overview</a>
        <a href="#/queue">Review queue</a>
        <a href="#/audit">Audit</a>
        <a href="#/" class="right" onClick={() => { clearToken(); setTick((t) => t + 1); }}>Sign out</a>
      </nav>
      <main key={hash}>{route(hash)}</main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
