/**
 * Output countermeasures for accounts the policy degrades: less useful for training a copy,
 * barely noticed by an honest user. Request-side caps live in each dialect, and so does
 * the filter that withholds reasoning from streams; here the unstreamed response side:
 * reasoning withheld, and a hook for a per-account output watermark (applied to whole
 * texts, so not to streams, whose text is never held whole).
 */
import type { DegradeOptions, Dialect } from './dialect.js';

/** Marks response text for one account, so that a copy trained on it can be traced. */
export type Watermark = (accountId: string, text: string) => string;

export function applyDegrade(dialect: Dialect, body: Record<string, unknown>, opts: DegradeOptions, accountId: string, watermark?: Watermark): Record<string, unknown> {
  const out = dialect.degradeResponse(body, opts);
  if (!watermark) return out;
  if (Array.isArray(out.choices)) {
    for (const ch of out.choices as any[]) if (typeof ch?.message?.content === 'string') ch.message.content = watermark(accountId, ch.message.content);
  }
  if (Array.isArray(out.content)) {
    for (const b of out.content as any[]) if (b?.type === 'text' && typeof b.text === 'string') b.text = watermark(accountId, b.text);
  }
  return out;
}
