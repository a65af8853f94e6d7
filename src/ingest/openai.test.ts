import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fromOpenAI } from './openai.js';

/** A gateway's log of an agent turn: system prompt, image, a tool round trip, reasoning. */
function agentLog(): Record<string, any> {
  return {
    id: 'log_01',
    timestamp: '2026-04-22T08:15:03.120Z',
    metadata: {
      account_id: 'acct_8f2c',
      org_id: 'org_11',
      api_key_id: 'key_1',
      ip: '203.0.113.7',
      user_agent: 'OpenAI/Python 1.54.0',
      country: 'SG',
      asn: 'AS64500',
      region: 'ap-southeast-1',
    },
    request: {
      model: 'gpt-4.1',
      messages: [
        { role: 'system', content: 'You are a coding agent.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Why does this test fail?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'run_tests', arguments: '{"path":"tests/test_a.py"}' } },
            { id: 'call_2', type: 'function', function: { name: 'read_file', arguments: '{"path":"a.py"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '1 failed: AssertionError' },
        { role: 'tool', tool_call_id: 'call_2', content: 'def f(): return 0.1 + 0.2' },
      ],
      tools: [
        {
          type: 'function',
          function: { name: 'run_tests', description: 'Run the test suite', parameters: { type: 'object', properties: { path: { type: 'string' } } } },
        },
        { type: 'function', function: { name: 'read_file', parameters: { type: 'object' } } },
      ],
      max_completion_tokens: 4096,
      temperature: 0.2,
      stream: false,
      reasoning_effort: 'high',
      top_p: 0.9,
    },
    response: {
      id: 'chatcmpl-9xyz',
      object: 'chat.completion',
      created: 1776845703,
      model: 'gpt-4.1-2026-04-14',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'The assertion compares floats exactly.',
            reasoning_content: 'Look at the failing line first.',
            tool_calls: [{ id: 'call_3', type: 'function', function: { name: 'edit_file', arguments: '{"path":"a.py"' } }],
          },
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 812, completion_tokens: 220, total_tokens: 1032, completion_tokens_details: { reasoning_tokens: 150 } },
    },
    status: 200,
    latency_ms: 5312,
    gateway: 'edge-3',
  };
}

function one(value: unknown, raw?: string): Record<string, any> {
  const r = fromOpenAI(value, raw);
  assert.ok(r.ok, r.ok ? '' : r.error);
  assert.equal(r.value.length, 1);
  return r.value[0]!;
}

function error(value: unknown): string {
  const r = fromOpenAI(value);
  assert.ok(!r.ok, 'expected an error');
  return r.error;
}

describe('fromOpenAI', () => {
  test('fromOpenAI maps an agent turn with tool calls, an image and reasoning', () => {
    const ex = one(agentLog());
    assert.equal(ex.id, 'log_01');
    assert.equal(ex.ts, '2026-04-22T08:15:03.120Z');
    assert.equal(ex.account_id, 'acct_8f2c');
    assert.equal(ex.org_id, 'org_11');
    assert.equal(ex.api_key_id, 'key_1');
    assert.equal(ex.model, 'gpt-4.1');
    assert.deepEqual(ex.client, { ip: '203.0.113.7', user_agent: 'OpenAI/Python 1.54.0', country: 'SG', asn: 64500 });
    assert.equal(ex.request.system, 'You are a coding agent.');
    assert.deepEqual(ex.request.messages, [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Why does this test fail?' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', name: 'run_tests', input: { path: 'tests/test_a.py' }, id: 'call_1' },
          { type: 'tool_use', name: 'read_file', input: { path: 'a.py' }, id: 'call_2' },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', content: '1 failed: AssertionError', tool_use_id: 'call_1' },
          { type: 'tool_result', content: 'def f(): return 0.1 + 0.2', tool_use_id: 'call_2' },
        ],
      },
    ]);
    assert.deepEqual(ex.request.tools, [
      { name: 'run_tests', description: 'Run the test suite', input_schema: { type: 'object', properties: { path: { type: 'string' } } } },
      { name: 'read_file', input_schema: { type: 'object' } },
    ]);
    assert.equal(ex.request.max_tokens, 4096);
    assert.equal(ex.request.temperature, 0.2);
    assert.equal(ex.request.stream, false);
    assert.deepEqual(ex.request.thinking, { type: 'enabled', effort: 'high' });
    assert.equal(ex.request.top_p, 0.9, 'unknown request fields are kept');
    assert.equal(ex.response.text, 'The assertion compares floats exactly.');
    assert.equal(ex.response.reasoning, 'Look at the failing line first.');
    // A model's malformed arguments are kept as the string it wrote.
    assert.deepEqual(ex.response.tool_calls, [{ name: 'edit_file', input: '{"path":"a.py"', id: 'call_3' }]);
    assert.equal(ex.response.stop_reason, 'tool_use');
    assert.equal(ex.response.finish_reason, 'tool_calls');
    assert.equal(ex.response.model, 'gpt-4.1-2026-04-14');
    assert.deepEqual(ex.usage, { input_tokens: 812, output_tokens: 220, reasoning_tokens: 150 });
    assert.equal(ex.status, 200);
    assert.equal(ex.latency_ms, 5312);
    assert.deepEqual(ex.metadata, { region: 'ap-southeast-1' }, 'unknown metadata is kept');
    assert.equal(ex.gateway, 'edge-3', 'unknown top-level fields are kept');
  });

  test('fromOpenAI keeps a multi-turn chat with string content as strings', () => {
    const ex = one({
      created_at: 1776845703,
      account_id: 42,
      request: {
        model: 'gpt-4o-mini',
        messages: [
          { role: 'developer', content: [{ type: 'text', text: 'Be brief.' }] },
          { role: 'system', content: 'Answer in French.' },
          { role: 'user', content: 'Hello' },
          { role: 'assistant', content: 'Bonjour' },
          { role: 'user', content: 'How are you?' },
        ],
        max_tokens: 50,
      },
      response: { choices: [{ message: { role: 'assistant', content: 'Bien.' }, finish_reason: 'length' }] },
    });
    assert.equal(ex.ts, '2026-04-22T08:15:03.000Z');
    assert.equal(ex.account_id, '42');
    assert.equal(ex.request.system, 'Be brief.\n\nAnswer in French.');
    assert.deepEqual(ex.request.messages, [
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: 'Bonjour' },
      { role: 'user', content: 'How are you?' },
    ]);
    assert.equal(ex.request.max_tokens, 50);
    assert.deepEqual(ex.response, { text: 'Bien.', stop_reason: 'max_tokens', finish_reason: 'length' });
  });

  test('fromOpenAI takes the account from metadata, then account_id, then the user fields', () => {
    const base = { ts: '2026-04-22T08:15:03Z', request: { model: 'm', user: 'req_user', messages: [{ role: 'user', content: 'x' }] } };
    assert.equal(one({ ...base, metadata: { account_id: 'meta' }, account_id: 'top' }).account_id, 'meta');
    assert.equal(one({ ...base, account_id: 'top', user: 'u' }).account_id, 'top');
    assert.equal(one({ ...base, user: 'u' }).account_id, 'u');
    assert.equal(one(base).account_id, 'req_user');
    const { user: _drop, ...req } = base.request;
    assert.match(error({ ...base, request: req }), /^no account id \(looked at "metadata\.account_id", "account_id", "user" and "request\.user"\)$/);
  });

  test('fromOpenAI uses the log id, then the response id, then a hash of the line', () => {
    const log = agentLog();
    assert.equal(one(log).id, 'log_01');
    delete log.id;
    assert.equal(one(log).id, 'chatcmpl-9xyz');
    delete log.response.id;
    const raw = JSON.stringify(log);
    const a = one(log, raw).id;
    assert.match(a, /^h_[0-9a-f]{32}$/);
    assert.equal(one(JSON.parse(raw), raw).id, a, 'the same line gets the same id');
    assert.notEqual(one(log, raw + ' ').id, a);
  });

  test('fromOpenAI reads epoch and zone-less timestamps as UTC', () => {
    const base = { account_id: 'a', request: { model: 'm', messages: [{ role: 'user', content: 'x' }] } };
    assert.equal(one({ ...base, ts: 1776845703120 }).ts, '2026-04-22T08:15:03.120Z');
    assert.equal(one({ ...base, ts: '2026-04-22 08:15:03' }).ts, '2026-04-22T08:15:03.000Z');
    assert.equal(one({ ...base, ts: '2026-04-22T10:15:03+02:00' }).ts, '2026-04-22T08:15:03.000Z');
    assert.equal(one({ ...base, response: { created: 1776845703, choices: [] } }).ts, '2026-04-22T08:15:03.000Z');
    assert.equal(error({ ...base, timestamp: 'yesterday' }), '"timestamp" is not an ISO-8601 timestamp');
    assert.equal(error(base), 'no timestamp (looked at "timestamp", "created_at" and "ts")');
  });

  test('fromOpenAI names the field when the input is malformed', () => {
    const ok = { ts: '2026-04-22T08:15:03Z', account_id: 'a' };
    assert.equal(error([1]), '"record" must be an object, not an array');
    assert.equal(error(ok), '"request" is missing');
    assert.equal(error({ ...ok, request: { model: 'm' } }), '"request.messages" is missing');
    assert.equal(error({ ...ok, request: { model: 'm', messages: [] } }), '"request.messages" needs at least one message');
    assert.equal(
      error({ ...ok, request: { model: 'm', messages: [{ role: 'user', content: 5 }] } }),
      '"request.messages[0].content" must be a string or an array, not a number',
    );
    assert.equal(error({ ...ok, request: { messages: [{ role: 'user', content: 'x' }] } }), '"request.model" is missing');
    assert.equal(
      error({ ...ok, request: { model: 'm', messages: [{ role: 'user', content: 'x' }], temperature: 'hot' } }),
      '"request.temperature" must be a number, not a string',
    );
    assert.equal(
      error({ ...ok, request: { model: 'm', messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function', function: {} }] } }),
      '"request.tools[0].function.name" is missing',
    );
    assert.equal(
      error({ ...ok, metadata: { asn: 'unknown' }, request: { model: 'm', messages: [{ role: 'user', content: 'x' }] } }),
      '"metadata.asn" is not an AS number',
    );
  });

  test('fromOpenAI keeps a request without a response', () => {
    const ex = one({ ts: '2026-04-22T08:15:03Z', account_id: 'a', status: 429, request: { model: 'm', messages: [{ role: 'user', content: 'x' }] } });
    assert.equal(ex.response, undefined);
    assert.equal(ex.status, 429);
  });
});
