import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TraceAssembler } from './otel-trace.js';
import { readExchanges, type ReadItem } from './read.js';
import { collectAll, fixtureWriter } from './test-fixtures.js';

type Attr = { key: string; value: Record<string, unknown> };
const str = (key: string, v: string): Attr => ({ key, value: { stringValue: v } });
const int = (key: string, v: number): Attr => ({ key, value: { intValue: v } });
const json = (key: string, v: unknown): Attr => str(key, JSON.stringify(v));
const fixture = fixtureWriter('dw-otel-trace-');

const T1 = '11111111111111111111111111111111';
const T2 = '22222222222222222222222222222222';

function span(traceId: string, spanId: string, parentSpanId: string | undefined, attributes: Attr[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    traceId,
    spanId,
    ...(parentSpanId ? { parentSpanId } : {}),
    name: spanId,
    startTimeUnixNano: '1776845703000000000',
    endTimeUnixNano: '1776845704000000000',
    attributes,
    ...extra,
  };
}
const exportOf = (...spans: unknown[]): string => JSON.stringify({ resourceSpans: [{ resource: { attributes: [str('service.name', 'shop')] }, scopeSpans: [{ spans }] }] });
const logsOf = (...logRecords: unknown[]): string => JSON.stringify({ resourceLogs: [{ resource: { attributes: [] }, scopeLogs: [{ logRecords }] }] });
const log = (traceId: string, spanId: string, event: string, body: unknown): Record<string, unknown> => ({
  timeUnixNano: '1776845703500000000',
  attributes: [str('event.name', event)],
  body: toAny(body),
  traceId,
  spanId,
});
function toAny(v: unknown): unknown {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'number') return { intValue: v };
  if (Array.isArray(v)) return { arrayValue: { values: v.map(toAny) } };
  return { kvlistValue: { values: Object.entries(v as Record<string, unknown>).map(([key, value]) => ({ key, value: toAny(value) })) } };
}

const server = (traceId: string, user: string): Record<string, unknown> =>
  span(traceId, 'a000000000000001', undefined, [str('enduser.id', user), str('client.address', '198.51.100.7'), str('user_agent.original', 'shop/3')]);
const chatNoContent = (traceId: string, id: string, parent: string): Record<string, unknown> =>
  span(traceId, id, parent, [str('gen_ai.operation.name', 'chat'), str('gen_ai.request.model', 'gpt-test'), int('gen_ai.usage.input_tokens', 5), int('gen_ai.usage.output_tokens', 2)]);

async function read(text: string, opts: Parameters<typeof readExchanges>[1] = { format: 'otel' }): Promise<ReadItem[]> {
  return collectAll(readExchanges(fixture(text), opts));
}
const exchanges = (items: ReadItem[]): Array<Record<string, any>> => items.flatMap((i) => (i.kind === 'exchange' ? [i.exchange as unknown as Record<string, any>] : []));
const bad = (items: ReadItem[]) => items.flatMap((i) => (i.kind === 'bad' ? [i.bad] : []));

describe('TraceAssembler', () => {
  test('readExchanges takes the account and client from an ancestor two levels up, in an earlier line', async () => {
    const handler = span(T1, 'b000000000000002', 'a000000000000001', [str('code.function', 'ask')]);
    const chat = span(T1, 'c000000000000003', 'b000000000000002', [
      str('gen_ai.operation.name', 'chat'),
      str('gen_ai.request.model', 'gpt-test'),
      json('gen_ai.input.messages', [{ role: 'user', parts: [{ type: 'text', content: 'hi' }] }]),
    ]);
    // Spans end child first, so the root comes last; here it comes first to show order does not matter.
    const items = await read([exportOf(server(T1, 'acct_1')), exportOf(handler), exportOf(chat)].join('\n') + '\n');
    assert.deepEqual(bad(items), []);
    const [e] = exchanges(items);
    assert.equal(e?.account_id, 'acct_1');
    assert.deepEqual(e?.client, { ip: '198.51.100.7', user_agent: 'shop/3' });
  });

  test('readExchanges joins log records that come after their span, in the event form of the conventions', async () => {
    const chat = chatNoContent(T1, 'c000000000000003', 'a000000000000001');
    const lines = [
      exportOf(chat, server(T1, 'acct_1')),
      logsOf(
        log(T1, 'c000000000000003', 'gen_ai.system.message', { content: 'Be brief.' }),
        log(T1, 'c000000000000003', 'gen_ai.user.message', { content: 'What is 2+2?' }),
        log(T1, 'c000000000000003', 'gen_ai.assistant.message', { tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'add', arguments: '{"a":2,"b":2}' } }] }),
        log(T1, 'c000000000000003', 'gen_ai.tool.message', { content: '4', id: 'call_1' }),
        log(T1, 'c000000000000003', 'gen_ai.choice', { index: 0, finish_reason: 'stop', message: { content: 'It is 4.' } }),
      ),
    ];
    const items = await read(lines.join('\n') + '\n');
    assert.deepEqual(bad(items), []);
    const [e] = exchanges(items);
    assert.equal(e?.request.system, 'Be brief.');
    assert.deepEqual(e?.request.messages, [
      { role: 'user', content: 'What is 2+2?' },
      { role: 'assistant', content: [{ type: 'tool_use', name: 'add', input: { a: 2, b: 2 }, id: 'call_1' }] },
      { role: 'user', content: [{ type: 'tool_result', content: '4', tool_use_id: 'call_1' }] },
    ]);
    assert.equal(e?.response.text, 'It is 4.');
    assert.equal(e?.response.stop_reason, 'end_turn');
  });

  test('readExchanges reads the content of span events', async () => {
    const chat = span(T1, 'c000000000000003', 'a000000000000001', [str('gen_ai.operation.name', 'chat'), str('gen_ai.request.model', 'm')], {
      events: [
        { name: 'gen_ai.content.prompt', attributes: [json('gen_ai.prompt', [{ role: 'user', content: 'Tell me a joke' }])] },
        { name: 'gen_ai.content.completion', attributes: [json('gen_ai.completion', [{ role: 'assistant', content: 'No.' }])] },
      ],
    });
    const [e] = exchanges(await read(exportOf(server(T1, 'acct_1'), chat) + '\n'));
    assert.deepEqual(e?.request.messages, [{ role: 'user', content: 'Tell me a joke' }]);
    assert.equal(e?.response.text, 'No.');
  });

  test('readExchanges reads OpenInference spans, their tools, cache tokens and invocation parameters', async () => {
    const chat = span(T2, 'c000000000000003', undefined, [
      str('openinference.span.kind', 'LLM'),
      str('llm.model_name', 'gpt-test'),
      str('llm.system', 'openai'),
      json('llm.invocation_parameters', { model: 'gpt-test', user: 'acct_from_request', max_tokens: 64, temperature: 0.2 }),
      str('llm.input_messages.0.message.role', 'system'),
      str('llm.input_messages.0.message.content', 'Be brief.'),
      str('llm.input_messages.1.message.role', 'user'),
      str('llm.input_messages.1.message.contents.0.message_content.type', 'text'),
      str('llm.input_messages.1.message.contents.0.message_content.text', 'Weather?'),
      str('llm.output_messages.0.message.role', 'assistant'),
      str('llm.output_messages.0.message.tool_calls.0.tool_call.id', 'call_9'),
      str('llm.output_messages.0.message.tool_calls.0.tool_call.function.name', 'weather'),
      str('llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments', '{"city":"Oslo"}'),
      json('llm.tools.0.tool.json_schema', { type: 'function', function: { name: 'weather', description: 'Forecast', parameters: { type: 'object' } } }),
      int('llm.token_count.prompt', 30),
      int('llm.token_count.completion', 9),
      int('llm.token_count.prompt_details.cache_read', 12),
    ]);
    const items = await read(exportOf(chat) + '\n');
    assert.deepEqual(bad(items), []);
    const [e] = exchanges(items);
    assert.equal(e?.account_id, 'acct_from_request', 'the request\'s user is the last resort');
    assert.equal(e?.model, 'gpt-test');
    assert.equal(e?.request.system, 'Be brief.');
    assert.deepEqual(e?.request.messages, [{ role: 'user', content: 'Weather?' }]);
    assert.deepEqual(e?.request.tools, [{ name: 'weather', description: 'Forecast', input_schema: { type: 'object' } }]);
    assert.equal(e?.request.max_tokens, 64);
    assert.equal(e?.request.temperature, 0.2);
    assert.deepEqual(e?.response.tool_calls, [{ name: 'weather', input: { city: 'Oslo' }, id: 'call_9' }]);
    assert.deepEqual(e?.usage, { input_tokens: 30, output_tokens: 9, cache_read_input_tokens: 12 });
    assert.equal(e?.otel.provider, 'openai');
  });

  test('readExchanges takes the account from Traceloop association properties and from a named attribute', async () => {
    const chat = (id: string, attrs: Attr[]) =>
      span(T1, id, undefined, [
        str('gen_ai.operation.name', 'chat'),
        str('gen_ai.provider.name', 'anthropic'),
        str('gen_ai.request.model', 'claude-test'),
        str('gen_ai.response.id', 'msg_7'),
        json('gen_ai.input.messages', [{ role: 'user', parts: [{ type: 'text', content: 'hi' }] }]),
        json('gen_ai.tool.definitions', [{ type: 'function', name: 'f', description: 'd', parameters: { type: 'object' } }]),
        int('gen_ai.usage.cache_read.input_tokens', 4),
        ...attrs,
      ]);
    const text = exportOf(chat('c000000000000001', [str('traceloop.association.properties.user_id', 'acct_tl')]), chat('c000000000000002', [str('tenant', 'acct_named'), str('enduser.id', 'acct_std')])) + '\n';
    const plain = exchanges(await read(text));
    assert.deepEqual(plain.map((e) => e.account_id), ['acct_tl', 'acct_std']);
    assert.deepEqual(plain[0]?.request.tools, [{ name: 'f', description: 'd', input_schema: { type: 'object' } }]);
    assert.equal(plain[0]?.usage.cache_read_input_tokens, 4);
    assert.equal(plain[0]?.otel.provider, 'anthropic');
    assert.equal(plain[0]?.otel.response_id, 'msg_7');
    const named = exchanges(await read(text, { format: 'otel', otel: { accountAttribute: 'tenant' } }));
    assert.deepEqual(named.map((e) => e.account_id), ['acct_tl', 'acct_named']);
  });

  test('readExchanges folds a twin span without content into the chat span of the same call', async () => {
    const outer = span(T1, 'c000000000000003', 'a000000000000001', [
      str('gen_ai.operation.name', 'chat'),
      str('gen_ai.request.model', 'gpt-test'),
      json('gen_ai.input.messages', [{ role: 'user', parts: [{ type: 'text', content: 'hi' }] }]),
    ]);
    const inner = chatNoContent(T1, 'd000000000000004', 'c000000000000003');
    const items = await read(exportOf(inner, outer, server(T1, 'acct_1')) + '\n');
    assert.deepEqual(bad(items), []);
    const [e] = exchanges(items);
    assert.deepEqual(e?.otel.merged_span_ids, ['d000000000000004']);
  });

  test('readExchanges quarantines each GenAI span that is not an exchange, with the span as its excerpt', async () => {
    const embed = span(T1, 'e000000000000005', 'a000000000000001', [str('gen_ai.operation.name', 'embeddings'), str('gen_ai.request.model', 'e')]);
    const noAccount = span(T2, 'c000000000000006', undefined, [str('gen_ai.operation.name', 'chat'), str('gen_ai.request.model', 'm'), json('gen_ai.input.messages', [{ role: 'user', content: 'x' }])]);
    const items = await read(exportOf(server(T1, 'acct_1'), embed, chatNoContent(T1, 'c000000000000007', 'a000000000000001'), noAccount) + '\n');
    assert.equal(exchanges(items).length, 0);
    const b = bad(items);
    assert.deepEqual(
      b.map((r) => r.reason.replace(/^Cannot parse line 1 of "[^"]+": /, '').slice(0, 50)),
      ['span "e000000000000005": a GenAI "embeddings" span', 'span "c000000000000007": no prompt: the span has n', 'span "c000000000000006": no account id (looked at '],
    );
    assert.ok(b.every((r) => r.excerpt.startsWith('{"traceId":')));
    assert.ok(b[0]!.excerpt.includes('e000000000000005'));
  });

  test('readExchanges reads a pretty-printed document whole and reports one left unfinished', async () => {
    const doc = JSON.stringify(JSON.parse(exportOf(server(T1, 'acct_1'), span(T1, 'c000000000000003', 'a000000000000001', [str('gen_ai.operation.name', 'chat'), str('gen_ai.request.model', 'm'), json('gen_ai.input.messages', [{ role: 'user', content: 'a "{" in a string' }])]))), null, 2);
    const items = await read(doc + '\n');
    assert.deepEqual(bad(items), []);
    assert.equal(exchanges(items)[0]?.request.messages[0].content, 'a "{" in a string');
    const cut = await read(doc.split('\n').slice(0, 12).join('\n') + '\n');
    assert.deepEqual(bad(cut).map((r) => r.reason.replace(/"[^"]+"/, 'F')), ['Cannot parse line 1 of F: a JSON document starting here is not finished at the end of the input']);
  });

  test('TraceAssembler maps a rooted trace once it has been quiet, and its safe line never passes a held span', () => {
    const a = new TraceAssembler({ rootGrace: 2, window: 5 });
    const chat = (t: string) => JSON.parse(exportOf(server(t, 'acct_1'), span(t, 'c000000000000003', 'a000000000000001', [str('gen_ai.operation.name', 'chat'), str('gen_ai.request.model', 'm'), json('gen_ai.input.messages', [{ role: 'user', content: 'x' }])]))) as unknown;
    const unrooted = JSON.parse(exportOf(chatNoContent(T2, 'c000000000000009', 'ffffffffffffffff'))) as unknown;
    assert.deepEqual(a.add(chat(T1), 1), { ok: true, value: [] });
    assert.deepEqual(a.add(unrooted, 2), { ok: true, value: [] });
    assert.equal(a.safeLine, 0);
    const third = a.add(chat('33333333333333333333333333333333'), 3);
    assert.ok(third.ok);
    assert.equal(third.value.length, 1, 'the first trace, rooted and quiet for more than 2 records, is mapped');
    assert.equal(a.safeLine, 1);
    let closed = 0;
    for (let line = 4; line < 9; line++) {
      const r = a.add(JSON.parse(exportOf(span(`4444444444444444444444444444444${line}`, 'f000000000000001', undefined, [str('http.route', '/')]))) as unknown, line);
      assert.ok(r.ok);
      closed += r.value.filter((o) => o.span.spanId === 'c000000000000009').length;
    }
    assert.equal(closed, 1, 'the trace without its root is mapped after the window');
    assert.deepEqual(a.finish(), [], 'the traces left hold no GenAI span');
    assert.equal(a.safeLine, 8);
  });
});
