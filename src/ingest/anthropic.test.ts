import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fromAnthropic } from './anthropic.js';

/** Extended thinking and a tool round trip, as a gateway logs a Messages API call. */
function thinkingToolLog(): Record<string, any> {
  return {
    ts: '2026-04-22T09:00:00Z',
    metadata: { org_id: 'org_2', ip: '198.51.100.4', user_agent: 'anthropic-sdk-python/0.40.0', asn: 64501, asn_org: 'Example Cloud' },
    request: {
      model: 'claude-sonnet-4-5',
      system: [{ type: 'text', text: 'You are a careful analyst.', cache_control: { type: 'ephemeral' } }],
      messages: [
        { role: 'user', content: 'What is 17 * 23?' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: '17*23 = 391', signature: 'sig' },
            { type: 'tool_use', id: 'toolu_1', name: 'calculator', input: { expr: '17*23' } },
          ],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '391' }] },
      ],
      tools: [{ name: 'calculator', description: 'Evaluates arithmetic', input_schema: { type: 'object' } }],
      max_tokens: 16000,
      temperature: 1,
      thinking: { type: 'enabled', budget_tokens: 8000 },
      stream: true,
      metadata: { user_id: 'user_42' },
      top_k: null,
    },
    response: {
      id: 'msg_01AbC',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5-20250929',
      content: [
        { type: 'thinking', thinking: 'The tool says 391.', signature: 'sig2' },
        { type: 'redacted_thinking', data: 'xyz' },
        { type: 'text', text: '17 × 23 = 391.' },
        { type: 'tool_use', id: 'toolu_2', name: 'log_answer', input: { value: 391 } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 420, output_tokens: 95, cache_read_input_tokens: 300 },
    },
    status: 200,
    latency_ms: 2100,
  };
}

function one(value: unknown, raw?: string): Record<string, any> {
  const r = fromAnthropic(value, raw);
  assert.ok(r.ok, r.ok ? '' : r.error);
  assert.equal(r.value.length, 1);
  return r.value[0]!;
}

function error(value: unknown): string {
  const r = fromAnthropic(value);
  assert.ok(!r.ok, 'expected an error');
  return r.error;
}

describe('fromAnthropic', () => {
  test('fromAnthropic maps thinking to reasoning and tool use to tool calls', () => {
    const log = thinkingToolLog();
    const ex = one(log);
    assert.equal(ex.id, 'msg_01AbC');
    assert.equal(ex.ts, '2026-04-22T09:00:00.000Z');
    assert.equal(ex.account_id, 'user_42', 'falls back to request.metadata.user_id');
    assert.equal(ex.org_id, 'org_2');
    assert.equal(ex.model, 'claude-sonnet-4-5');
    assert.deepEqual(ex.client, { ip: '198.51.100.4', user_agent: 'anthropic-sdk-python/0.40.0', asn: 64501, asn_org: 'Example Cloud' });
    assert.deepEqual(ex.request.system, log.request.system);
    assert.deepEqual(ex.request.messages, log.request.messages, 'the conversation passes through as logged');
    assert.deepEqual(ex.request.tools, log.request.tools);
    assert.deepEqual(ex.request.thinking, { type: 'enabled', budget_tokens: 8000 });
    assert.equal(ex.request.max_tokens, 16000);
    assert.equal(ex.request.stream, true);
    assert.equal(ex.request.model, undefined, 'the model moves to the top');
    assert.equal('top_k' in ex.request, false, 'a null parameter counts as not sent');
    assert.equal(ex.response.text, '17 × 23 = 391.');
    assert.equal(ex.response.reasoning, 'The tool says 391.');
    assert.equal(ex.response.redacted_thinking_blocks, 1);
    assert.deepEqual(ex.response.tool_calls, [{ name: 'log_answer', input: { value: 391 }, id: 'toolu_2' }]);
    assert.equal(ex.response.stop_reason, 'tool_use');
    assert.equal(ex.response.model, 'claude-sonnet-4-5-20250929');
    assert.deepEqual(ex.usage, { input_tokens: 420, output_tokens: 95, cache_read_input_tokens: 300 });
    assert.equal(ex.latency_ms, 2100);
    assert.equal(ex.status, 200);
  });

  test('fromAnthropic reads a multi-turn chat with a string system prompt', () => {
    const ex = one({
      id: 'req_9',
      timestamp: 1776848400,
      metadata: { account_id: 'acct_1', api_key_id: 'key_7' },
      request: {
        model: 'claude-haiku-4-5',
        system: 'Reply in one line.',
        messages: [
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: 'Hello.' },
          { role: 'user', content: [{ type: 'text', text: 'Describe this' }, { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }] },
        ],
        max_tokens: 256,
      },
      response: { type: 'message', content: [{ type: 'text', text: 'A cat.' }], stop_reason: 'end_turn', usage: { input_tokens: 30, output_tokens: 4 } },
    });
    assert.equal(ex.id, 'req_9');
    assert.equal(ex.ts, '2026-04-22T09:00:00.000Z');
    assert.equal(ex.account_id, 'acct_1');
    assert.equal(ex.api_key_id, 'key_7');
    assert.equal(ex.request.system, 'Reply in one line.');
    assert.equal(ex.request.messages.length, 3);
    assert.deepEqual(ex.response, { text: 'A cat.', stop_reason: 'end_turn', type: 'message' });
  });

  test('fromAnthropic names the field when the input is malformed', () => {
    const base = thinkingToolLog();
    delete base.request.metadata;
    assert.equal(
      error(base),
      'no account id (looked at "metadata.account_id", "account_id", "user" and "request.metadata.user_id")',
    );
    const ok = { ts: '2026-04-22T09:00:00Z', account_id: 'a' };
    assert.equal(error({ ...ok, request: { model: 'm', messages: [] } }), '"request.messages" needs at least one message');
    assert.equal(
      error({ ...ok, request: { model: 'm', max_tokens: 'lots', messages: [{ role: 'user', content: 'x' }] } }),
      '"request.max_tokens" must be a number, not a string',
    );
    assert.equal(
      error({ ...ok, request: { model: 'm', messages: [{ role: 'user', content: [{ text: 'no type' }] }] } }),
      '"request.messages[0].content[0].type" is missing',
    );
    assert.equal(
      error({ ...ok, request: { model: 'm', messages: [{ role: 'user', content: 'x' }] }, response: { content: [{ type: 'tool_use' }] } }),
      '"response.content[0].name" is missing',
    );
    assert.equal(error({ ...ok, ts: 'soon', request: { model: 'm', messages: [{ role: 'user', content: 'x' }] } }), '"ts" is not an ISO-8601 timestamp');
  });
});
