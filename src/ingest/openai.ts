/**
 * OpenAI chat-completions request/response log lines, as gateways and proxies record
 * them, mapped to the canonical exchange. The canonical record speaks the Anthropic
 * Messages dialect, so system messages move to `request.system`, assistant `tool_calls`
 * become `tool_use` blocks and `tool` messages become `tool_result` blocks on a user turn.
 */
import type { ContentBlock, Exchange } from '../core/exchange.js';
import type { Result } from '../core/result.js';
import {
  arrayAt,
  assembleRequestLog,
  boolAt,
  describe,
  fail,
  guard,
  idAt,
  isObj,
  numberAt,
  objectAt,
  pushToolResults,
  put,
  readEnvelope,
  stopReason,
  stringAt,
  toolInput,
  type Obj,
} from './_shared.js';

/** Request keys that have a canonical place; every other key is kept on `request`. */
const MAPPED_REQUEST_KEYS = new Set([
  'model',
  'messages',
  'prompt',
  'system',
  'tools',
  'functions',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'stream',
  'reasoning',
]);

/**
 * Maps one OpenAI-format log line to an exchange.
 *
 * @example
 * fromOpenAI({ ts: '2026-04-22T08:15:03Z', metadata: { account_id: 'acct_1' },
 *   request: { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] } })
 * // => { ok: true, value: [{ id: 'h_…', account_id: 'acct_1', model: 'gpt-4o', … }] }
 */
export function fromOpenAI(value: unknown, raw?: string): Result<Exchange[], string> {
  return guard(() => {
    if (!isObj(value)) fail(`"record" must be an object, not ${describe(value)}`);
    const req = objectAt(value.request, 'request') ?? fail('"request" is missing');
    const res = objectAt(value.response, 'response');
    const env = readEnvelope(value, {
      accountFallbacks: [['request.user', req.user]],
      tsFallback: ['response.created', res?.created],
    });

    const { system, messages } = mapMessages(req);
    const request: Obj = {};
    put(request, 'system', system);
    request.messages = messages;
    const tools = mapTools(req);
    if (tools !== undefined) request.tools = tools;
    put(
      request,
      'max_tokens',
      numberAt(req.max_completion_tokens, 'request.max_completion_tokens') ?? numberAt(req.max_tokens, 'request.max_tokens'),
    );
    put(request, 'temperature', numberAt(req.temperature, 'request.temperature'));
    put(request, 'thinking', thinkingOf(req));
    put(request, 'stream', boolAt(req.stream, 'request.stream'));
    for (const k of Object.keys(req)) if (!MAPPED_REQUEST_KEYS.has(k)) request[k] = req[k];

    return assembleRequestLog(env, value, raw, req, res, request, { response: mapResponse, usage: mapUsage });
  });
}

/** The conversation, with system messages gathered into one system prompt. */
function mapMessages(req: Obj): { system: string | undefined; messages: Obj[] } {
  const systemParts: string[] = [];
  const own = stringAt(req.system, 'request.system');
  if (own !== undefined) systemParts.push(own);
  const messages: Obj[] = [];
  const input = arrayAt(req.messages, 'request.messages');
  if (input === undefined) {
    // Legacy completions log the prompt instead of messages.
    const prompt = stringAt(req.prompt, 'request.prompt') ?? fail('"request.messages" is missing');
    messages.push({ role: 'user', content: prompt });
  } else {
    for (let i = 0; i < input.length; i++) {
      const field = `request.messages[${i}]`;
      const m = objectAt(input[i], field) ?? fail(`"${field}" must be an object, not null`);
      const role = stringAt(m.role, `${field}.role`) ?? fail(`"${field}.role" is missing`);
      switch (role) {
        case 'system':
        case 'developer':
          systemParts.push(textOf(m.content, `${field}.content`));
          break;
        case 'tool':
        case 'function': {
          const block: ContentBlock = { type: 'tool_result', content: contentOf(m.content, `${field}.content`) };
          put(block, 'tool_use_id', idAt(m.tool_call_id, `${field}.tool_call_id`));
          put(block, 'name', stringAt(m.name, `${field}.name`));
          pushToolResults(messages, [block]);
          break;
        }
        case 'assistant':
          messages.push(assistantMessage(m, field));
          break;
        default:
          messages.push(withExtras(m, { role, content: contentOf(m.content, `${field}.content`) }));
      }
    }
  }
  if (messages.length === 0) {
    fail(input !== undefined && input.length > 0 ? '"request.messages" holds only system messages' : '"request.messages" needs at least one message');
  }
  return { system: systemParts.length > 0 ? systemParts.join('\n\n') : undefined, messages };
}

function assistantMessage(m: Obj, field: string): Obj {
  const calls = arrayAt(m.tool_calls, `${field}.tool_calls`) ?? [];
  const legacy = objectAt(m.function_call, `${field}.function_call`);
  const reasoning = stringAt(m.reasoning_content, `${field}.reasoning_content`);
  if (calls.length === 0 && legacy === undefined && reasoning === undefined) {
    return withExtras(m, { role: 'assistant', content: contentOf(m.content, `${field}.content`) });
  }
  const blocks: ContentBlock[] = [];
  if (reasoning !== undefined) blocks.push({ type: 'thinking', thinking: reasoning });
  const content = contentOf(m.content, `${field}.content`);
  if (typeof content === 'string') {
    if (content !== '') blocks.push({ type: 'text', text: content });
  } else blocks.push(...content);
  calls.forEach((c, j) => blocks.push(toolUse(c, `${field}.tool_calls[${j}]`)));
  if (legacy !== undefined) blocks.push(toolUse({ function: legacy }, `${field}`));
  return withExtras(m, { role: 'assistant', content: blocks });
}

function toolUse(call: unknown, field: string): ContentBlock {
  const c = objectAt(call, field) ?? fail(`"${field}" must be an object, not null`);
  const fn = objectAt(c.function, `${field}.function`) ?? fail(`"${field}.function" is missing`);
  const name = stringAt(fn.name, `${field}.function.name`) ?? fail(`"${field}.function.name" is missing`);
  const block: ContentBlock = { type: 'tool_use', name, input: toolInput(fn.arguments) };
  put(block, 'id', idAt(c.id, `${field}.id`));
  return block;
}

/** Message keys that are mapped; any other key (name, refusal, …) stays on the message. */
const MAPPED_MESSAGE_KEYS = new Set(['role', 'content', 'tool_calls', 'function_call', 'reasoning_content', 'tool_call_id']);

function withExtras(m: Obj, mapped: Obj): Obj {
  for (const k of Object.keys(m)) if (!MAPPED_MESSAGE_KEYS.has(k)) mapped[k] = m[k];
  return mapped;
}

/** Message content as the canonical record holds it: a string, or content blocks. */
function contentOf(content: unknown, field: string): string | ContentBlock[] {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) fail(`"${field}" must be a string or an array, not ${describe(content)}`);
  const parts: unknown[] = content;
  return parts.map((p, i) => partToBlock(p, `${field}[${i}]`));
}

function partToBlock(p: unknown, field: string): ContentBlock {
  if (typeof p === 'string') return { type: 'text', text: p };
  const part = objectAt(p, field) ?? fail(`"${field}" must be an object, not null`);
  const type = stringAt(part.type, `${field}.type`) ?? fail(`"${field}.type" is missing`);
  if (type === 'text') {
    return { type: 'text', text: stringAt(part.text, `${field}.text`) ?? fail(`"${field}.text" is missing`) };
  }
  if (type === 'image_url') {
    const img = part.image_url;
    const url = typeof img === 'string' ? img : stringAt(objectAt(img, `${field}.image_url`)?.url, `${field}.image_url.url`);
    if (url === undefined) fail(`"${field}.image_url.url" is missing`);
    const data = /^data:([^;,]+);base64,/.exec(url);
    return {
      type: 'image',
      source: data ? { type: 'base64', media_type: data[1], data: url.slice(data[0].length) } : { type: 'url', url },
    };
  }
  // Audio, files, refusals: no canonical equivalent; kept as they came.
  return part as ContentBlock;
}

/** Plain text of system content, which may also come as parts. */
function textOf(content: unknown, field: string): string {
  const c = contentOf(content, field);
  if (typeof c === 'string') return c;
  return c
    .map((b) => b.text)
    .filter((t): t is string => typeof t === 'string')
    .join('\n');
}

function mapTools(req: Obj): Obj[] | undefined {
  const tools = arrayAt(req.tools, 'request.tools');
  const functions = arrayAt(req.functions, 'request.functions');
  if (tools === undefined && functions === undefined) return undefined;
  const out: Obj[] = [];
  tools?.forEach((t, i) => {
    const field = `request.tools[${i}]`;
    const tool = objectAt(t, field) ?? fail(`"${field}" must be an object, not null`);
    if (tool.function === undefined) {
      // Built-in tools (web search, code interpreter) have a type and no function.
      const type = stringAt(tool.type, `${field}.type`) ?? fail(`"${field}.function" is missing`);
      out.push({ ...tool, name: stringAt(tool.name, `${field}.name`) ?? type });
      return;
    }
    out.push(functionTool(tool.function, `${field}.function`));
  });
  functions?.forEach((f, i) => out.push(functionTool(f, `request.functions[${i}]`)));
  return out;
}

function functionTool(f: unknown, field: string): Obj {
  const fn = objectAt(f, field) ?? fail(`"${field}" must be an object, not null`);
  const name = stringAt(fn.name, `${field}.name`) ?? fail(`"${field}.name" is missing`);
  const tool: Obj = { name };
  put(tool, 'description', stringAt(fn.description, `${field}.description`));
  put(tool, 'input_schema', fn.parameters);
  put(tool, 'strict', fn.strict);
  return tool;
}

/**
 * OpenAI states reasoning as an effort, not a token budget; it goes in `thinking` with the
 * effort, so "reasoning was asked for" reads the same from every format.
 */
function thinkingOf(req: Obj): Obj | undefined {
  const effort = stringAt(req.reasoning_effort, 'request.reasoning_effort');
  const reasoning = objectAt(req.reasoning, 'request.reasoning');
  const e = effort ?? stringAt(reasoning?.effort, 'request.reasoning.effort');
  const budget = numberAt(reasoning?.max_tokens, 'request.reasoning.max_tokens');
  if (e === undefined && budget === undefined) return undefined;
  const thinking: Obj = { type: e === 'none' ? 'disabled' : 'enabled' };
  put(thinking, 'effort', e);
  put(thinking, 'budget_tokens', budget);
  return thinking;
}

/** Response keys that are mapped; the rest (id, model, created, error, …) are kept. */
const MAPPED_RESPONSE_KEYS = new Set(['choices', 'usage']);

function mapResponse(res: Obj): Obj {
  const out: Obj = {};
  const choices = arrayAt(res.choices, 'response.choices') ?? [];
  const choice = objectAt(choices[0], 'response.choices[0]');
  if (choice !== undefined) {
    const msg = objectAt(choice.message, 'response.choices[0].message') ?? {};
    const field = 'response.choices[0].message';
    const content = msg.content ?? choice.text;
    if (content !== undefined && content !== null) put(out, 'text', textOf(content, `${field}.content`));
    put(
      out,
      'reasoning',
      stringAt(msg.reasoning_content, `${field}.reasoning_content`) ?? stringAt(msg.reasoning, `${field}.reasoning`),
    );
    const calls = arrayAt(msg.tool_calls, `${field}.tool_calls`);
    if (calls !== undefined && calls.length > 0) {
      out.tool_calls = calls.map((c, j) => {
        const b = toolUse(c, `${field}.tool_calls[${j}]`);
        const call: Obj = { name: b.name, input: b.input };
        put(call, 'id', b.id);
        return call;
      });
    }
    put(out, 'refusal', msg.refusal ?? undefined);
    const finish = stringAt(choice.finish_reason, 'response.choices[0].finish_reason');
    if (finish !== undefined) {
      out.stop_reason = stopReason(finish);
      out.finish_reason = finish;
    }
    if (choices.length > 1) out.choices = choices.length;
  }
  for (const k of Object.keys(res)) if (!MAPPED_RESPONSE_KEYS.has(k) && !(k in out)) out[k] = res[k];
  return out;
}

function mapUsage(u: Obj | undefined): Obj | undefined {
  if (u === undefined) return undefined;
  const out: Obj = {};
  put(out, 'input_tokens', numberAt(u.prompt_tokens ?? u.input_tokens, 'response.usage.prompt_tokens'));
  put(out, 'output_tokens', numberAt(u.completion_tokens ?? u.output_tokens, 'response.usage.completion_tokens'));
  const details = objectAt(u.completion_tokens_details, 'response.usage.completion_tokens_details');
  put(out, 'reasoning_tokens', numberAt(details?.reasoning_tokens, 'response.usage.completion_tokens_details.reasoning_tokens'));
  const prompt = objectAt(u.prompt_tokens_details, 'response.usage.prompt_tokens_details');
  put(out, 'cached_input_tokens', numberAt(prompt?.cached_tokens, 'response.usage.prompt_tokens_details.cached_tokens'));
  return Object.keys(out).length > 0 ? out : undefined;
}
