/**
 * Anthropic Messages request/response log lines mapped to the canonical exchange. The
 * canonical request already speaks this dialect, so the request passes through nearly
 * as logged; the response's content blocks are split into text, reasoning and tool calls.
 */
import type { Exchange } from '../core/exchange.js';
import type { Result } from '../core/result.js';
import {
  arrayAt,
  assembleRequestLog,
  describe,
  fail,
  guard,
  idAt,
  isObj,
  numberAt,
  objectAt,
  put,
  readEnvelope,
  stringAt,
  type Obj,
} from './_shared.js';

/**
 * Maps one Anthropic-format log line to an exchange.
 *
 * @example
 * fromAnthropic({ ts: '2026-04-22T08:15:03Z', metadata: { account_id: 'acct_1' },
 *   request: { model: 'claude-x', max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }] },
 *   response: { type: 'message', content: [{ type: 'text', text: 'Hello' }], stop_reason: 'end_turn' } })
 * // => { ok: true, value: [{ …, response: { text: 'Hello', stop_reason: 'end_turn' } }] }
 */
export function fromAnthropic(value: unknown, raw?: string): Result<Exchange[], string> {
  return guard(() => {
    if (!isObj(value)) fail(`"record" must be an object, not ${describe(value)}`);
    const req = objectAt(value.request, 'request') ?? fail('"request" is missing');
    const res = objectAt(value.response, 'response');
    const reqMeta = objectAt(req.metadata, 'request.metadata');
    const env = readEnvelope(value, { accountFallbacks: [['request.metadata.user_id', reqMeta?.user_id]] });

    const messages = arrayAt(req.messages, 'request.messages') ?? fail('"request.messages" is missing');
    if (messages.length === 0) fail('"request.messages" needs at least one message');
    // Everything else in the request (top_p, tool_choice, metadata, …) is kept as sent;
    // the contract checks the fields it knows.
    const request: Obj = {};
    // Loggers write null for parameters that were not sent; null means absent here.
    for (const k of Object.keys(req)) if (k !== 'model' && req[k] !== null) request[k] = req[k];

    return assembleRequestLog(env, value, raw, req, res, request, { response: mapResponse, usage: mapUsage });
  });
}

/** Response keys that are mapped; the rest (id, model, type, error, …) are kept. */
const MAPPED_RESPONSE_KEYS = new Set(['content', 'usage']);

function mapResponse(res: Obj): Obj {
  const out: Obj = {};
  const content = arrayAt(res.content, 'response.content') ?? [];
  const text: string[] = [];
  const reasoning: string[] = [];
  const calls: Obj[] = [];
  let redacted = 0;
  content.forEach((b, i) => {
    const field = `response.content[${i}]`;
    const block = objectAt(b, field) ?? fail(`"${field}" must be an object, not null`);
    switch (block.type) {
      case 'text':
        text.push(stringAt(block.text, `${field}.text`) ?? '');
        break;
      case 'thinking':
        reasoning.push(stringAt(block.thinking, `${field}.thinking`) ?? '');
        break;
      case 'redacted_thinking':
        redacted++;
        break;
      case 'tool_use':
      case 'server_tool_use': {
        const call: Obj = { name: stringAt(block.name, `${field}.name`) ?? fail(`"${field}.name" is missing`) };
        put(call, 'input', block.input);
        put(call, 'id', idAt(block.id, `${field}.id`));
        if (block.type === 'server_tool_use') call.server = true;
        calls.push(call);
        break;
      }
      default:
        // Server tool results, citations and future block types have no canonical place.
        break;
    }
  });
  if (text.length > 0) out.text = text.join('\n');
  if (reasoning.length > 0) out.reasoning = reasoning.join('\n');
  if (redacted > 0) out.redacted_thinking_blocks = redacted;
  if (calls.length > 0) out.tool_calls = calls;
  put(out, 'stop_reason', stringAt(res.stop_reason, 'response.stop_reason'));
  for (const k of Object.keys(res)) if (!MAPPED_RESPONSE_KEYS.has(k) && !(k in out)) out[k] = res[k];
  return out;
}

function mapUsage(u: Obj | undefined): Obj | undefined {
  if (u === undefined) return undefined;
  // Cache and server-tool counters are kept beside the two the contract names.
  const out: Obj = { ...u };
  for (const k of ['input_tokens', 'output_tokens']) {
    const n = numberAt(u[k], `response.usage.${k}`);
    if (n === undefined) delete out[k];
    else out[k] = n;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
