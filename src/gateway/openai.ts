/** The OpenAI chat-completions dialect. */
import { fromOpenAI } from '../ingest/openai.js';
import type { Dialect, GatewayErrorCode, StreamAccumulator } from './dialect.js';
import type { SseEvent } from './sse.js';
import { WordHolder } from './word-holder.js';

const ERROR_TYPE: Record<GatewayErrorCode, [type: string, code: string]> = {
  unauthorized: ['invalid_request_error', 'invalid_api_key'],
  blocked: ['permission_error', 'account_blocked'],
  rate_limited: ['rate_limit_error', 'rate_limit_exceeded'],
  upstream_timeout: ['server_error', 'upstream_timeout'],
  upstream_unreachable: ['server_error', 'upstream_unreachable'],
  bad_request: ['invalid_request_error', 'bad_request'],
  too_large: ['invalid_request_error', 'request_too_large'],
  unavailable: ['server_error', 'service_unavailable'],
  internal: ['server_error', 'internal_error'],
};

interface ToolCallParts {
  id: string;
  name: string;
  args: string;
}

class OpenAIAccumulator implements StreamAccumulator {
  private id = '';
  private model = '';
  private created = 0;
  private content = '';
  private reasoning = '';
  private finish: string | null = null;
  private usage: unknown = undefined;
  private readonly tools = new Map<number, ToolCallParts>();

  add(e: SseEvent): void {
    if (e.data === '[DONE]' || e.data === '') return;
    let c: any;
    try {
      c = JSON.parse(e.data);
    } catch {
      return;
    }
    if (typeof c.id === 'string') this.id = c.id;
    if (typeof c.model === 'string') this.model = c.model;
    if (typeof c.created === 'number') this.created = c.created;
    if (c.usage) this.usage = c.usage;
    const ch = Array.isArray(c.choices) ? c.choices[0] : undefined;
    if (!ch) return;
    const d = ch.delta ?? {};
    if (typeof d.content === 'string') this.content += d.content;
    if (typeof d.reasoning_content === 'string') this.reasoning += d.reasoning_content;
    if (Array.isArray(d.tool_calls)) {
      for (const t of d.tool_calls) {
        const i = typeof t.index === 'number' ? t.index : 0;
        const parts = this.tools.get(i) ?? { id: '', name: '', args: '' };
        if (t.id) parts.id = t.id;
        if (t.function?.name) parts.name += t.function.name;
        if (t.function?.arguments) parts.args += t.function.arguments;
        this.tools.set(i, parts);
      }
    }
    if (ch.finish_reason) this.finish = ch.finish_reason;
  }

  result(): unknown {
    const message: Record<string, unknown> = { role: 'assistant', content: this.content };
    if (this.reasoning) message.reasoning_content = this.reasoning;
    if (this.tools.size > 0) {
      message.tool_calls = [...this.tools.values()].map((t) => ({ id: t.id, type: 'function', function: { name: t.name, arguments: t.args } }));
    }
    const out: Record<string, unknown> = {
      id: this.id,
      object: 'chat.completion',
      created: this.created,
      model: this.model,
      choices: [{ index: 0, message, ...(this.finish !== null ? { finish_reason: this.finish } : {}) }],
    };
    if (this.usage) out.usage = this.usage;
    return out;
  }
}

export const openaiDialect: Dialect = {
  name: 'openai',
  errorBody(code, message) {
    const [type, c] = ERROR_TYPE[code];
    return { error: { message, type, param: null, code: c } };
  },
  streamError(code, message) {
    return `data: ${JSON.stringify(this.errorBody(code, message))}\n\n`;
  },
  accumulator: () => new OpenAIAccumulator(),
  degradeRequest(body, opts) {
    for (const k of ['max_tokens', 'max_completion_tokens'] as const) {
      const v = body[k];
      if (typeof v !== 'number' || v > opts.maxOutputTokens) {
        if (k === 'max_tokens' || typeof v === 'number') body[k] = opts.maxOutputTokens;
      }
    }
    if (opts.withholdReasoning && 'reasoning_effort' in body) body.reasoning_effort = 'low';
    return body;
  },
  streamDegrader(opts) {
    return (e) => {
      if (!opts.withholdReasoning || e.data === '[DONE]') return e;
      let chunk: { choices?: { delta?: Record<string, unknown>; finish_reason?: unknown }[]; usage?: unknown };
      try {
        chunk = JSON.parse(e.data) as typeof chunk;
      } catch {
        return e;
      }
      if (!Array.isArray(chunk.choices)) return e;
      let changed = false;
      for (const ch of chunk.choices) {
        const d = ch?.delta;
        if (!d) continue;
        for (const k of ['reasoning_content', 'reasoning']) {
          if (k in d) {
            delete d[k];
            changed = true;
          }
        }
      }
      if (!changed) return e;
      // A chunk that carried only reasoning is withheld whole: even empty, it would show when the model thinks.
      const empty = chunk.usage == null && chunk.choices.every((ch) => (ch.delta === undefined || Object.keys(ch.delta).length === 0) && ch.finish_reason == null);
      return empty ? null : { event: e.event, data: JSON.stringify(chunk) };
    };
  },
  streamWatermarker(mark) {
    const words = new WordHolder();
    const marked = (slot: number, t: string) => (t.length > 0 ? mark(slot, t) : t);
    // The last chunk's identity, for a chunk that carries text held when no finish came.
    let last: { id?: unknown; created?: unknown; model?: unknown } = {};
    return (e) => {
      if (e.data === '[DONE]') {
        const rest = words.endAll();
        if (rest.length === 0) return [e];
        const choices = rest.map(([index, text]) => ({ index, delta: { content: marked(index, text) }, finish_reason: null }));
        return [{ event: e.event, data: JSON.stringify({ id: last.id, object: 'chat.completion.chunk', created: last.created, model: last.model, choices }) }, e];
      }
      let chunk: { id?: unknown; created?: unknown; model?: unknown; choices?: { index?: unknown; delta?: Record<string, unknown>; finish_reason?: unknown }[] };
      try {
        chunk = JSON.parse(e.data) as typeof chunk;
      } catch {
        return [e];
      }
      if (!Array.isArray(chunk.choices)) return [e];
      last = chunk;
      let changed = false;
      for (const ch of chunk.choices) {
        if (!ch) continue;
        const slot = typeof ch.index === 'number' ? ch.index : 0;
        if (ch.delta && typeof ch.delta.content === 'string') {
          ch.delta.content = marked(slot, words.push(slot, ch.delta.content));
          changed = true;
        }
        if (ch.finish_reason != null) {
          const rest = words.end(slot);
          if (rest.length > 0) {
            const before = typeof ch.delta?.content === 'string' ? ch.delta.content : '';
            ch.delta = { ...(ch.delta ?? {}), content: before + marked(slot, rest) };
            changed = true;
          }
        }
      }
      return changed ? [{ event: e.event, data: JSON.stringify(chunk) }] : [e];
    };
  },
  degradeResponse(body, opts) {
    if (!opts.withholdReasoning || !Array.isArray(body.choices)) return body;
    for (const ch of body.choices as any[]) {
      if (ch?.message && typeof ch.message.reasoning_content === 'string') delete ch.message.reasoning_content;
    }
    return body;
  },
  toExchange: (line) => fromOpenAI(line),
};
