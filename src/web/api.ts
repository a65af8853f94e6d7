/**
 * The API client: every call carries the analyst's bearer token, kept for this browser tab
 * only (sessionStorage) and never put in a URL the page builds.
 */
const TOKEN_KEY = 'distillwatch.token';

/** Takes a token handed over in the fragment (`/#token=...`), keeps it, and wipes it from the address bar and history. */
export function takeTokenFromFragment(): void {
  const m = /^#token=([^&]+)/.exec(location.hash);
  if (!m) return;
  sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]!));
  history.replaceState(null, '', location.pathname + location.search + '#/');
}

export const getToken = (): string | null => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (t: string) => sessionStorage.setItem(TOKEN_KEY, t);
export const clearToken = () => sessionStorage.removeItem(TOKEN_KEY);

export type ApiResult<T> = { ok: true; data: T } | { ok: false; status: number; message: string };

export async function api<T>(path: string, init: { method?: 'GET' | 'POST'; body?: unknown } = {}): Promise<ApiResult<T>> {
  const token = getToken();
  const r = await fetch('/api/v1' + path, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${token ?? ''}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const json = (await r.json().catch(() => null)) as unknown;
  if (!r.ok) {
    const message = (json as { error?: { message?: string } } | null)?.error?.message ?? `HTTP ${r.status}`;
    return { ok: false, status: r.status, message };
  }
  return { ok: true, data: json as T };
}

/**
 * Fetches a document the API serves (a dossier) with the token and hands it to the browser as
 * a download: a plain link could not carry the token, and the token never goes in a URL.
 */
export async function download(path: string, filename: string): Promise<ApiResult<null>> {
  const r = await fetch('/api/v1' + path, { headers: { authorization: `Bearer ${getToken() ?? ''}` } });
  if (!r.ok) {
    const json = (await r.json().catch(() => null)) as { error?: { message?: string } } | null;
    return { ok: false, status: r.status, message: json?.error?.message ?? `HTTP ${r.status}` };
  }
  const url = URL.createObjectURL(await r.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  // Revoked once the browser has taken the file.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return { ok: true, data: null };
}

type ShadowCounts = { flag: number; throttle: number; degrade: number; block: number };
export type Shadow =
  | ({ available: true; gateway: string; mode: 'enforce' | 'shadow'; since: string; would_have: ShadowCounts; accounts: ({ account_id: string } & ShadowCounts)[] })
  | { available: false; reason: string };

export type Verdict = 'distillation' | 'suspicious' | 'benign';
export interface DecisionSummary { kind: string; at: string; actor: string; note: string; reason?: string; until?: string }
export interface CampaignSummary {
  id: string; confidence: number; accounts: number; exchanges: number; first_seen: string; last_seen: string;
  first_flagged_at: string | null; tactics: string[]; top_capability: string | null; decision: DecisionSummary | null;
}
export interface Overview {
  generated_at: string; exchanges: number; accounts: number; campaigns: CampaignSummary[];
  hourly: { hour: string; exchanges: number }[]; flags: { campaign_id: string; at: string }[];
  capabilities: Record<string, number>; review_queue: number;
}
export interface SharedIndicator { kind: string; value: string; accounts: number }
export interface CampaignDetail {
  campaign: {
    id: string; confidence: number; accounts: string[]; exchanges: number; first_seen: string; last_seen: string; first_flagged_at?: string;
    capabilities: Record<string, number>; tactics: string[]; explanation: string; links: Record<string, number>; shared_indicators?: SharedIndicator[];
  };
  decision: DecisionSummary | null;
  members: { account_id: string; risk: number; verdict: Verdict; exchanges: number; reasons: string[]; first_flagged_at: string | null; decision: DecisionSummary | null }[];
}
export interface Timeline {
  campaign_id: string;
  /** The members' exchanges per hour by verdict, and how many were active. */
  activity: { hour: string; verdict: Verdict; exchanges: number; accounts: number }[];
  flags: { account_id: string | null; at: string }[];
  capabilities: { hour: string; capability: string; exchanges: number; elicitation: number }[];
}
/** `x`, `y`: where the server laid the node out, in the unit square. */
export type GraphNode = (
  | { id: string; type: 'account'; verdict: Verdict; exchanges: number }
  | { id: string; type: 'indicator'; kind: string; value: string; accounts: number }
) & { x: number; y: number };
export interface Graph { campaign_id: string; nodes: GraphNode[]; edges: { source: string; target: string }[] }
export interface Account {
  account_id: string; risk: number; verdict: Verdict; campaign_id: string | null; first_flagged_at: string | null; exchanges: number;
  findings: string[]; decision: DecisionSummary | null; links: { campaign_id: string; accounts: string[]; shared_indicators: SharedIndicator[] } | null;
}
export interface ExchangePreview {
  id: string; ts: string; model: string; capability: string; elicitation: number; ip: string | null; user_agent: string | null;
  status: number | null; output_tokens: number | null; prompt_preview: string | null;
}
export interface Page<T> { total: number; items: T[] }
export interface SearchResult {
  kind: string; value: string; campaigns: string[];
  accounts: { account_id: string; exchanges: number; first_seen: string; last_seen: string; verdict: string; campaign_id: string | null }[];
}
export interface QueueItem { kind: 'campaign' | 'account'; id: string; flagged_at: string; confidence: number; accounts: number; campaign_id: string | null }
export interface AuditEntry { seq: number; at: string; actor: string; role: string; action: string; target: { kind: string; id: string }; why: string; before: unknown; after: unknown }

export const DISMISS_REASONS = ['legitimate_customer', 'shared_infrastructure', 'research_partner', 'evaluation_or_benchmark', 'detector_error', 'other'] as const;
export const SEARCH_KINDS = ['ip', 'subnet', 'asn', 'payment', 'user_agent', 'harness', 'system', 'template'] as const;
