/**
 * Output countermeasures for accounts the policy degrades: less useful for training a copy,
 * barely noticed by an honest user. Request-side caps live in each dialect, and so do the
 * stream filters (reasoning withheld, text handed to the watermark word by word); here the
 * unstreamed response side and the pieces the stream filters share.
 */
import type { SseEvent } from './sse.js';
import type { DegradeOptions, Dialect } from './dialect.js';

/**
 * Marks response text for one account, so that a copy trained on it can be traced. A
 * streamed answer is never held whole: it is marked in pieces of whole words (each piece
 * ends at whitespace), so a watermark must mark words independently of the rest of the text.
 */
export type Watermark = (accountId: string, text: string) => string;

/** A stream filter: each event in, the events to send on in its place (none withholds it). */
export type StreamFilter = (e: SseEvent) => SseEvent[];

/**
 * The filter a degraded stream goes through: reasoning withheld, then text marked. Null
 * when there is nothing to do, so that the stream passes as it came.
 */
export function streamDegrade(dialect: Dialect, opts: DegradeOptions, accountId: string, watermark?: Watermark): StreamFilter | null {
  const reasoning = opts.withholdReasoning ? dialect.streamDegrader(opts) : null;
  const marker = watermark ? dialect.streamWatermarker((text) => watermark(accountId, text)) : null;
  if (!reasoning && !marker) return null;
  return (e) => {
    const kept = reasoning ? reasoning(e) : e;
    if (kept === null) return [];
    return marker ? marker(kept) : [kept];
  };
}

/** An unstreamed response degraded: reasoning withheld, the text marked whole. */
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
