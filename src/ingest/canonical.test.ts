import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fromCanonical } from './canonical.js';

const record = {
  id: 'ex_000000001',
  ts: '2026-04-22T08:15:03.120Z',
  account_id: 'acct_8f2c',
  model: 'frontier-2',
  client: { ip: '203.0.113.7', asn: 64500 },
  request: {
    system: 'You are a helpful assistant.',
    messages: [{ role: 'user', content: 'Explain step by step.' }],
    thinking: { type: 'enabled', budget_tokens: 8000 },
  },
  response: { text: '1. …', reasoning: 'First…', stop_reason: 'end_turn' },
  usage: { input_tokens: 812, output_tokens: 2210, reasoning_tokens: 1500 },
  campaign_hint: 'kept',
};

describe('fromCanonical', () => {
  test('fromCanonical returns a valid record unchanged, extra fields included', () => {
    const r = fromCanonical(record);
    assert.ok(r.ok);
    assert.equal(r.value.length, 1);
    assert.equal(r.value[0], record);
  });

  test('fromCanonical rejects a record with a wrong type or a missing field, naming it', () => {
    const { model: _m, ...noModel } = record;
    assert.deepEqual(fromCanonical(noModel), { ok: false, error: '"model" is missing' });
    assert.deepEqual(fromCanonical({ ...record, ts: '22/04/2026 8am' }), { ok: false, error: '"ts" is not an ISO-8601 timestamp' });
    assert.deepEqual(fromCanonical({ ...record, usage: { input_tokens: '812' } }), {
      ok: false,
      error: '"usage.input_tokens" must be a number, not a string',
    });
    assert.deepEqual(fromCanonical({ ...record, request: { messages: [] } }), {
      ok: false,
      error: '"request.messages" needs at least one message',
    });
  });
});
