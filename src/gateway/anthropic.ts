/** The Anthropic Messages dialect. */
import { fromAnthropic } from '../ingest/anthropic.js';
import type { Dialect, GatewayErrorCode, StreamAccumulator } from './dialect.js';
import type { SseEvent } from './sse.js';
import { WordHolder } from './word-holder.js';

const ERROR_TYPE: Record<GatewayErrorCode, string> = {
  unauthorized: 'authentication_error',
  blocked: 'permission_error',
  rate_limited: 'rate_limit_error',
  upstream_timeout: 'timeout_error',
  upstream_unreachable: 'api_error',
  bad_request: 'invalid_request_error',
  too_large: 'request_too_large',
  unavailable: 'overloaded_error',
  internal: 'api_error',
};

type Block = Record<string, any>;

class AnthropicAccumulator implements StreamAccumulator {
  private message: Record<string, any> = { type: 'message', role: 'assistant', content: [] };
  private readonly blocks: Block[] = [];
  private readonly partialJson = new Map<number, string>();

  add(e: SseEvent): void {
    let d: any;
    try {
      d = JSON.parse(e.data);
    } catch {
      return;
    }
    switch (d.type) {
      case 'message_start':
        this.message = { ...d.message, content: [] };
        break;
      case 'content_block_start':
        this.blocks[d.index] = { ...d.content_block };
        break;
      case 'content_block_delta': {
        const b = this.blocks[d.index];
        if (!b) break;
        const delta = d.delta ?? {};
        if (delta.type === 'text_delta') b.text = (b.text ?? '') + delta.text;
        else if (delta.type === 'thinking_delta') b.thinking = (b.thinking ?? '') + delta.thinking;
        else if (delta.type === 'input_json_delta') this.partialJson.set(d.index, (this.partialJson.get(d.index) ?? '') + delta.partial_json);
        break;
      }
      case 'content_block_stop': {
        const json = this.partialJson.get(d.index);
        const b = this.blocks[d.index];
        if (json !== undefined && b) {
          try {
            b.input = JSON.parse(json);
          } catch {
            b.input = json;
          }
        }
        break;
      }
      case 'message_delta':
        if (d.delta?.stop_reason) this.message.stop_reason = d.delta.stop_reason;
        if (d.usage) this.message.usage = { ...(this.message.usage ?? {}), ...d.usage };
        break;
    }
  }

  result(): unknown {
    const out: Record<string, unknown> = { ...this.message, content: this.blocks.filter((b) => b !== undefined) };
    // A stream cut short has no stop reason yet; the log shows it by its status instead.
    if (out.stop_reason === null) delete out.stop_reason;
    if (out.stop_sequence === null) delete out.stop_sequence;
    return out;
  }
}

export const anthropicDialect: Dialect = {
  name: 'anthropic',
  errorBody(code, message) {
    return { type: 'error', error: { type: ERROR_TYPE[code], message } };
  },
  streamError(code, message) {
    return `event: error\ndata: ${JSON.stringify(this.errorBody(code, message))}\n\n`;
  },
  accumulator: () => new AnthropicAccumulator(),
  degradeRequest(body, opts) {
    const v = body.max_tokens;
    if (typeof v !== 'number' || v > opts.maxOutputTokens) body.max_tokens = opts.maxOutputTokens;
    if (opts.withholdReasoning && body.thinking !== undefined) delete body.thinking;
    return body;
  },
  streamDegrader(opts) {
    // Thinking blocks are withheld; the blocks after them are renumbered so that the
    // client sees a consistent message (its SDK indexes content by these numbers).
    const withheld = new Set<number>();
    const renumbered = new Map<number, number>();
    return (e) => {
      if (!opts.withholdReasoning) return e;
      if (e.event !== 'content_block_start' && e.event !== 'content_block_delta' && e.event !== 'content_block_stop') return e;
      let ev: { index?: unknown; content_block?: { type?: unknown } };
      try {
        ev = JSON.parse(e.data) as typeof ev;
      } catch {
        return e;
      }
      if (typeof ev.index !== 'number') return e;
      if (e.event === 'content_block_start') {
        const type = ev.content_block?.type;
        if (type === 'thinking' || type === 'redacted_thinking') {
          withheld.add(ev.index);
          return null;
        }
        renumbered.set(ev.index, renumbered.size);
      }
      if (withheld.has(ev.index)) return null;
      const to = renumbered.get(ev.index) ?? ev.index;
      if (to === ev.index) return e;
      ev.index = to;
      return { event: e.event, data: JSON.stringify(ev) };
    };
  },
  streamWatermarker(mark) {
    const words = new WordHolder();
    return (e) => {
      if (e.event !== 'content_block_delta' && e.event !== 'content_block_stop') return [e];
      let ev: { index?: unknown; delta?: { type?: unknown; text?: unknown } };
      try {
        ev = JSON.parse(e.data) as typeof ev;
      } catch {
        return [e];
      }
      if (typeof ev.index !== 'number') return [e];
      if (e.event === 'content_block_delta') {
        if (ev.delta?.type !== 'text_delta' || typeof ev.delta.text !== 'string') return [e];
        const piece = words.push(ev.index, ev.delta.text);
        ev.delta.text = piece.length > 0 ? mark(ev.index, piece) : piece;
        return [{ event: e.event, data: JSON.stringify(ev) }];
      }
      // The block ends: its held word goes first, in a delta of its own.
      const rest = words.end(ev.index);
      if (rest.length === 0) return [e];
      const delta = { type: 'content_block_delta', index: ev.index, delta: { type: 'text_delta', text: mark(ev.index, rest) } };
      return [{ event: 'content_block_delta', data: JSON.stringify(delta) }, e];
    };
  },
  degradeResponse(body, opts) {
    if (!opts.withholdReasoning || !Array.isArray(body.content)) return body;
    body.content = (body.content as Block[]).filter((b) => b?.type !== 'thinking' && b?.type !== 'redacted_thinking');
    return body;
  },
  toExchange: (line) => fromAnthropic(line),
};
