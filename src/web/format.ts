/** Small formatting helpers shared by the pages. */
export const pct = (x: number) => `${Math.round(x * 100)}%`;
export const num = (x: number) => x.toLocaleString('en-US');
/** `2026-01-02T03:00:00.000Z` as `2026-01-02 03:00 UTC`. */
export const when = (iso: string | null | undefined) => (iso ? iso.slice(0, 16).replace('T', ' ') + ' UTC' : '—');
export const VERDICT_COLOURS: Record<string, string> = { distillation: '#c62828', suspicious: '#ef8f00', benign: '#2e7d32' };
export const KIND_COLOURS: Record<string, string> = {
  ip: '#1565c0', subnet: '#42a5f5', asn: '#5e35b1', payment: '#ad1457', user_agent: '#00838f', harness: '#6d4c41', system: '#8d6e63', template: '#558b2f',
};
export const PALETTE = ['#1565c0', '#c62828', '#2e7d32', '#ef8f00', '#6a1b9a', '#00838f', '#ad1457', '#558b2f', '#4e342e', '#37474f'];
export const hrefCampaign = (id: string) => `#/campaign/${encodeURIComponent(id)}`;
export const hrefAccount = (id: string) => `#/account/${encodeURIComponent(id)}`;
export const hrefIndicator = (kind: string, value: string) => `#/indicator/${encodeURIComponent(kind)}/${encodeURIComponent(value)}`;
