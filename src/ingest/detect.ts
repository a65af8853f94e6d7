/**
 * Format detection. A log file holds one format, so detection runs once per file, on its
 * first parseable record, and the file is then read with that format's adapter. Records
 * that later turn out not to fit become bad records with the adapter's reason.
 */
import { isObj, type Obj } from './_shared.js';
import { isBatchRecord } from './batch.js';

export const FORMATS = ['canonical', 'openai', 'anthropic', 'otel', 'batch'] as const;
export type Format = (typeof FORMATS)[number];
/** A format, or `'auto'` to detect it from the input. */
export type FormatOption = Format | 'auto';

export function isFormatOption(s: string): s is FormatOption {
  return s === 'auto' || (FORMATS as readonly string[]).includes(s);
}

/**
 * The format of a parsed record, or null when it looks like none of them. An explicit
 * `override` other than `'auto'` wins without looking at the record.
 *
 * @example
 * detectFormat({ response: { choices: [] }, request: { messages: [] } }) // => 'openai'
 */
export function detectFormat(value: unknown, override: FormatOption = 'auto'): Format | null {
  if (override !== 'auto') return override;
  if (!isObj(value)) return null;
  if (
    Array.isArray(value.resourceSpans) ||
    Array.isArray(value.resourceLogs) ||
    Array.isArray(value.scopeSpans) ||
    ((value.traceId !== undefined || value.spanId !== undefined) && value.attributes !== undefined)
  ) {
    return 'otel';
  }
  if (isBatchRecord(value)) return 'batch';
  const req = isObj(value.request) ? value.request : undefined;
  const res = isObj(value.response) ? value.response : undefined;
  // The response is the surest sign: the two provider shapes differ most there.
  if (res !== undefined && Array.isArray(res.choices)) return 'openai';
  if (res !== undefined && res.type === 'message') return 'anthropic';
  if (req === undefined || (!Array.isArray(req.messages) && typeof req.prompt !== 'string')) return null;
  // Canonical records name the model at the top; provider logs name it in the request.
  if (
    Array.isArray(req.messages) &&
    typeof value.account_id === 'string' &&
    value.ts !== undefined &&
    (typeof value.model === 'string' || req.model === undefined)
  ) {
    return 'canonical';
  }
  if (looksAnthropic(req, res)) return 'anthropic';
  // Plain-text messages read the same in both provider dialects; the OpenAI adapter
  // also accepts what is particular to it (system and tool roles), so it is the default.
  return 'openai';
}

const ANTHROPIC_BLOCKS = new Set(['tool_use', 'tool_result', 'thinking', 'redacted_thinking', 'image', 'document']);

function looksAnthropic(req: Obj, res: Obj | undefined): boolean {
  if (req.system !== undefined || req.thinking !== undefined) return true;
  if (res !== undefined && Array.isArray(res.content)) return true;
  if (isObj(req.metadata) && req.metadata.user_id !== undefined) return true;
  if (Array.isArray(req.tools) && req.tools.some((t) => isObj(t) && t.input_schema !== undefined)) return true;
  if (!Array.isArray(req.messages)) return false;
  return req.messages.some(
    (m) =>
      isObj(m) &&
      Array.isArray(m.content) &&
      m.content.some((b) => isObj(b) && typeof b.type === 'string' && ANTHROPIC_BLOCKS.has(b.type)),
  );
}
