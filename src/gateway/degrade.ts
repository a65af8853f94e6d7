/**
 * Output countermeasures for accounts the policy degrades: less useful for training a copy,
 * barely noticed by an honest user. Request-side caps live in each dialect, and so do the
 * stream filters (reasoning withheld, text handed to the watermark word by word); here the
 * unstreamed response side, the watermark hook, and the pieces the stream filters share.
 */
import type { SseEvent } from './sse.js';
import type { DegradeOptions, Dialect } from './dialect.js';
import type { Action } from './policy.js';

/** Who an answer goes to: what a watermark needs to choose whether, and with which key, to mark it. */
export interface Recipient {
  accountId: string;
  /** The flagged campaign the account belongs to, if any. */
  campaignId: string | null;
  /** What the policy does to this request. */
  action: Action;
}

/**
 * Marks one answer's text so that a copy trained on it can be traced: called with each
 * text slot (an OpenAI choice, an Anthropic content block) and its text, in order. A
 * streamed answer is never held whole: it comes in pieces of whole words (each piece ends
 * at whitespace, but for a run of 200 characters without any), in order, so a marker that
 * keys a word on the words before it keeps what it needs per slot.
 */
export type AnswerMarker = (slot: number, text: string) => string;

/** The watermark hook: a marker for one answer, or null to leave it as it is. */
export type Watermark = (to: Recipient) => AnswerMarker | null;

/** A stream filter: each event in, the events to send on in its place (none withholds it). */
export type StreamFilter = (e: SseEvent) => SseEvent[];

/**
 * The filter a stream goes through: reasoning withheld (when degraded), then text marked.
 * Null when there is nothing to do, so that the stream passes as it came.
 */
export function streamDegrade(dialect: Dialect, degrade: DegradeOptions | null, mark: AnswerMarker | null): StreamFilter | null {
  const reasoning = degrade?.withholdReasoning ? dialect.streamDegrader(degrade) : null;
  const marker = mark ? dialect.streamWatermarker(mark) : null;
  if (!reasoning && !marker) return null;
  return (e) => {
    const kept = reasoning ? reasoning(e) : e;
    if (kept === null) return [];
    return marker ? marker(kept) : [kept];
  };
}

/** An unstreamed response degraded (reasoning withheld) when `degrade` is given, the text marked whole when `mark` is. */
export function applyDegrade(dialect: Dialect, body: Record<string, unknown>, degrade: DegradeOptions | null, mark: AnswerMarker | null): Record<string, unknown> {
  const out = degrade ? dialect.degradeResponse(body, degrade) : body;
  if (!mark) return out;
  if (Array.isArray(out.choices)) {
    for (const [i, ch] of (out.choices as any[]).entries()) if (typeof ch?.message?.content === 'string') ch.message.content = mark(typeof ch.index === 'number' ? ch.index : i, ch.message.content);
  }
  if (Array.isArray(out.content)) {
    for (const [i, b] of (out.content as any[]).entries()) if (b?.type === 'text' && typeof b.text === 'string') b.text = mark(i, b.text);
  }
  return out;
}
