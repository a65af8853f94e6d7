import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fromOtel, otelSpanOutcomes } from './otel.js';

type Attr = { key: string; value: Record<string, unknown> };
const str = (key: string, v: string): Attr => ({ key, value: { stringValue: v } });
const int = (key: string, v: number): Attr => ({ key, value: { intValue: String(v) } }); // int64 is a string in OTLP/JSON
const dbl = (key: string, v: number): Attr => ({ key, value: { doubleValue: v } });
const strs = (key: string, v: string[]): Attr => ({ key, value: { arrayValue: { values: v.map((s) => ({ stringValue: s })) } } });
const json = (key: string, v: unknown): Attr => str(key, JSON.stringify(v));

const TRACE = '5b8efff798038103d269b633813fc60c';

/** A chat span with a tool round trip in its input, as opentelemetry-instrumentation-openai-v2 records it. */
const weatherSpan = {
  traceId: TRACE,
  spanId: 'eee19b7ec3c1b174',
  parentSpanId: 'eee19b7ec3c1b173',
  name: 'chat gpt-4o',
  kind: 3,
  startTimeUnixNano: '1776845703120000000',
  endTimeUnixNano: '1776845705432500000',
  attributes: [
    str('gen_ai.operation.name', 'chat'),
    str('gen_ai.provider.name', 'openai'),
    str('gen_ai.request.model', 'gpt-4o'),
    str('gen_ai.response.model', 'gpt-4o-2024-08-06'),
    int('gen_ai.request.max_tokens', 1024),
    dbl('gen_ai.request.temperature', 0.5),
    int('gen_ai.usage.input_tokens', 97),
    int('gen_ai.usage.output_tokens', 52),
    strs('gen_ai.response.finish_reasons', ['stop']),
    str('gen_ai.conversation.id', 'conv_5'),
    json('gen_ai.system_instructions', [{ type: 'text', content: 'You are a weather bot.' }]),
    json('gen_ai.input.messages', [
      { role: 'user', parts: [{ type: 'text', content: 'Weather in Paris?' }] },
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_w', name: 'get_weather', arguments: { city: 'Paris' } }] },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_w', response: 'rainy, 57°F' }] },
    ]),
    json('gen_ai.output.messages', [
      {
        role: 'assistant',
        parts: [
          { type: 'reasoning', content: 'It rains.' },
          { type: 'text', content: 'It is rainy, 57°F.' },
        ],
        finish_reason: 'stop',
      },
    ]),
    str('enduser.id', 'acct_77'),
    str('client.address', '192.0.2.10'),
    str('user_agent.original', 'weather-app/2.1'),
    str('server.address', 'api.openai.com'),
  ],
  status: {},
};

/** A second chat span whose account comes from the resource. */
const hiSpan = {
  traceId: TRACE,
  spanId: 'aaa19b7ec3c1b175',
  name: 'chat gpt-4o-mini',
  startTimeUnixNano: '1776845706000000000',
  endTimeUnixNano: '1776845706800000000',
  attributes: [
    str('gen_ai.operation.name', 'chat'),
    str('gen_ai.request.model', 'gpt-4o-mini'),
    json('gen_ai.input.messages', [{ role: 'user', parts: [{ type: 'text', content: 'Say hi' }] }]),
    json('gen_ai.output.messages', [{ role: 'assistant', parts: [{ type: 'text', content: 'hi' }], finish_reason: 'stop' }]),
  ],
};

/** Not a GenAI span: must be skipped, not reported. */
const httpSpan = {
  traceId: TRACE,
  spanId: 'eee19b7ec3c1b173',
  name: 'POST /ask',
  startTimeUnixNano: '1776845703000000000',
  endTimeUnixNano: '1776845707000000000',
  attributes: [str('http.request.method', 'POST'), int('http.response.status_code', 200)],
};

function exportOf(...spans: unknown[]): Record<string, unknown> {
  return {
    resourceSpans: [
      {
        resource: { attributes: [str('service.name', 'weather-app'), str('user.id', 'acct_resource')] },
        scopeSpans: [
          { scope: { name: 'opentelemetry.instrumentation.openai_v2' }, spans: spans.slice(0, 2) },
          { scope: { name: 'other' }, spans: spans.slice(2) },
        ],
      },
    ],
  };
}

describe('fromOtel', () => {
  test('fromOtel maps the chat spans of an export and skips the others', () => {
    const r = fromOtel(exportOf(weatherSpan, httpSpan, hiSpan));
    assert.ok(r.ok, r.ok ? '' : r.error);
    assert.equal(r.value.length, 2);
    const [weather, hi] = r.value as unknown as [Record<string, any>, Record<string, any>];

    assert.equal(weather.id, TRACE + 'eee19b7ec3c1b174');
    assert.equal(weather.ts, '2026-04-22T08:15:03.120Z');
    assert.equal(weather.latency_ms, 2312.5);
    assert.equal(weather.account_id, 'acct_77', 'the span attribute wins over the resource');
    assert.equal(weather.model, 'gpt-4o');
    assert.equal(weather.conversation_id, 'conv_5');
    assert.deepEqual(weather.client, { ip: '192.0.2.10', user_agent: 'weather-app/2.1' });
    assert.deepEqual(weather.request, {
      system: 'You are a weather bot.',
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: [{ type: 'tool_use', name: 'get_weather', input: { city: 'Paris' }, id: 'call_w' }] },
        { role: 'user', content: [{ type: 'tool_result', content: 'rainy, 57°F', tool_use_id: 'call_w' }] },
      ],
      max_tokens: 1024,
      temperature: 0.5,
    });
    assert.deepEqual(weather.response, {
      text: 'It is rainy, 57°F.',
      reasoning: 'It rains.',
      model: 'gpt-4o-2024-08-06',
      stop_reason: 'end_turn',
      finish_reason: 'stop',
    });
    assert.deepEqual(weather.usage, { input_tokens: 97, output_tokens: 52 });
    assert.equal(weather.otel.parent_span_id, 'eee19b7ec3c1b173');
    assert.deepEqual(weather.otel.attributes, {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'server.address': 'api.openai.com',
    });
    assert.equal(weather.otel.resource['service.name'], 'weather-app');

    assert.equal(hi.id, TRACE + 'aaa19b7ec3c1b175');
    assert.equal(hi.account_id, 'acct_resource');
    assert.equal(hi.latency_ms, 800);
    assert.deepEqual(hi.request.messages, [{ role: 'user', content: 'Say hi' }]);
  });

  test('fromOtel reads one span per line with legacy flattened prompt attributes', () => {
    const span = {
      traceId: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
      spanId: 'bbbbbbbbbbbbbbbb',
      name: 'openai.chat',
      startTimeUnixNano: 1776845703000000000,
      endTimeUnixNano: 1776845704000000000,
      attributes: [
        str('llm.request.type', 'chat'),
        str('gen_ai.system', 'openai'),
        str('gen_ai.request.model', 'gpt-4o'),
        int('gen_ai.usage.prompt_tokens', 40),
        int('gen_ai.usage.completion_tokens', 9),
        str('gen_ai.prompt.0.role', 'system'),
        str('gen_ai.prompt.0.content', 'Be exact.'),
        str('gen_ai.prompt.1.role', 'user'),
        str('gen_ai.prompt.1.content', 'Add 2 and 3'),
        str('gen_ai.prompt.2.role', 'assistant'),
        str('gen_ai.prompt.2.tool_calls.0.id', 'c1'),
        str('gen_ai.prompt.2.tool_calls.0.name', 'add'),
        str('gen_ai.prompt.2.tool_calls.0.arguments', '{"a":2,"b":3}'),
        str('gen_ai.prompt.3.role', 'tool'),
        str('gen_ai.prompt.3.tool_call_id', 'c1'),
        str('gen_ai.prompt.3.content', '5'),
        str('gen_ai.completion.0.role', 'assistant'),
        str('gen_ai.completion.0.content', 'It is 5.'),
        str('gen_ai.completion.0.finish_reason', 'stop'),
      ],
      resource: { attributes: [str('enduser.id', 'acct_legacy')] },
    };
    const r = fromOtel(span);
    assert.ok(r.ok, r.ok ? '' : r.error);
    const ex = r.value[0] as Record<string, any>;
    assert.equal(ex.account_id, 'acct_legacy');
    assert.equal(ex.ts, '2026-04-22T08:15:03.000Z');
    assert.equal(ex.request.system, 'Be exact.');
    assert.deepEqual(ex.request.messages, [
      { role: 'user', content: 'Add 2 and 3' },
      { role: 'assistant', content: [{ type: 'tool_use', name: 'add', input: { a: 2, b: 3 }, id: 'c1' }] },
      { role: 'user', content: [{ type: 'tool_result', content: '5', tool_use_id: 'c1' }] },
    ]);
    assert.equal(ex.response.text, 'It is 5.');
    assert.equal(ex.response.stop_reason, 'end_turn');
    assert.deepEqual(ex.usage, { input_tokens: 40, output_tokens: 9 });
    assert.equal(Object.keys(ex.otel.attributes).some((k) => k.startsWith('gen_ai.prompt.')), false);
  });

  test('otelSpanOutcomes skips non-GenAI spans and names the GenAI spans that are not chats', () => {
    const embed = { ...hiSpan, spanId: 'e1', attributes: [str('gen_ai.operation.name', 'embeddings'), str('gen_ai.request.model', 'e-3')] };
    const tool = { ...hiSpan, spanId: 't1', attributes: [str('gen_ai.operation.name', 'execute_tool'), str('gen_ai.tool.name', 'add')] };
    assert.deepEqual(otelSpanOutcomes(exportOf(embed, tool, httpSpan)), {
      ok: true,
      value: [
        { ok: false, error: 'span "e1": a GenAI "embeddings" span, not a chat: not an exchange' },
        { ok: false, error: 'span "t1": a GenAI "execute_tool" span, not a chat: not an exchange' },
      ],
    });
    assert.deepEqual(fromOtel(httpSpan), { ok: true, value: [] });
  });

  test('fromOtel says why a chat span without captured messages is bad', () => {
    const bare = { ...hiSpan, attributes: [str('gen_ai.operation.name', 'chat'), str('gen_ai.request.model', 'm'), str('enduser.id', 'a')] };
    const r = fromOtel(bare);
    assert.ok(!r.ok);
    assert.match(r.error, /^span "aaa19b7ec3c1b175": no prompt: .*content capture enabled, and are its log records in the same input/);
  });

  test('otelSpanOutcomes keeps the good spans of an export that has a bad one', () => {
    const noModel = { ...hiSpan, spanId: 'cccccccccccccccc', attributes: hiSpan.attributes.filter((a) => a.key !== 'gen_ai.request.model') };
    const r = otelSpanOutcomes(exportOf(weatherSpan, noModel, hiSpan));
    assert.ok(r.ok);
    const [a, b, c] = r.value;
    assert.ok(a?.ok && c?.ok);
    assert.deepEqual(b, { ok: false, error: 'span "cccccccccccccccc": "gen_ai.request.model" is missing' });
    const strict = fromOtel(exportOf(weatherSpan, noModel, hiSpan));
    assert.deepEqual(strict, b);
  });

  test('fromOtel names the field when the input is malformed', () => {
    assert.deepEqual(fromOtel({ hello: 1 }), { ok: false, error: '"resourceSpans" is missing: not an OTLP trace or log export, or a span' });
    const badJson = { ...hiSpan, attributes: [...hiSpan.attributes.slice(0, 2), str('gen_ai.input.messages', '[{"role":'), str('enduser.id', 'a')] };
    assert.deepEqual(fromOtel(badJson), { ok: false, error: 'span "aaa19b7ec3c1b175": "gen_ai.input.messages" is not valid JSON' });
    const noAccount = fromOtel(hiSpan);
    assert.ok(!noAccount.ok);
    assert.match(noAccount.error, /^span "aaa19b7ec3c1b175": no account id \(looked at "enduser.id", "user.id", "traceloop/);
    const noStart = fromOtel({ ...hiSpan, startTimeUnixNano: undefined, attributes: [...hiSpan.attributes, str('enduser.id', 'a')] });
    assert.deepEqual(noStart, { ok: false, error: 'span "aaa19b7ec3c1b175": "startTimeUnixNano" is missing' });
  });
});
