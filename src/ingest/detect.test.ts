import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { detectFormat, isFormatOption } from './detect.js';

const msgs = [{ role: 'user', content: 'hi' }];

describe('detectFormat', () => {
  test('detectFormat recognises each format by its shape', () => {
    assert.equal(detectFormat({ id: 'a', ts: '2026-01-01T00:00:00Z', account_id: 'x', model: 'm', request: { messages: msgs } }), 'canonical');
    assert.equal(detectFormat({ ts: 1, request: { model: 'm', messages: msgs }, response: { choices: [] } }), 'openai');
    assert.equal(detectFormat({ ts: 1, request: { model: 'm', messages: msgs }, response: { type: 'message', content: [] } }), 'anthropic');
    assert.equal(detectFormat({ resourceSpans: [] }), 'otel');
    assert.equal(detectFormat({ resourceLogs: [] }), 'otel', 'an OTLP log export, which may come before the spans');
    assert.equal(detectFormat({ traceId: 'a', spanId: 'b', attributes: [] }), 'otel');
  });

  test('detectFormat tells provider logs apart by their request when there is no response', () => {
    assert.equal(detectFormat({ request: { model: 'm', system: 'be brief', messages: msgs } }), 'anthropic');
    assert.equal(detectFormat({ request: { model: 'm', thinking: { type: 'enabled' }, messages: msgs } }), 'anthropic');
    assert.equal(
      detectFormat({ request: { model: 'm', messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: 'x' }] }] } }),
      'anthropic',
    );
    assert.equal(detectFormat({ request: { model: 'm', messages: [{ role: 'system', content: 'x' }, ...msgs] } }), 'openai');
    assert.equal(detectFormat({ request: { model: 'm', messages: msgs } }), 'openai');
  });

  test('detectFormat does not take a provider log with a top-level account and time for canonical', () => {
    assert.equal(detectFormat({ ts: 't', account_id: 'a', request: { model: 'm', messages: msgs } }), 'openai');
    assert.equal(detectFormat({ ts: 't', account_id: 'a', model: 'm', request: { messages: msgs }, response: { choices: [] } }), 'openai');
  });

  test('detectFormat returns null for records of no known format', () => {
    assert.equal(detectFormat({ hello: 'world' }), null);
    assert.equal(detectFormat([1, 2]), null);
    assert.equal(detectFormat('text'), null);
    assert.equal(detectFormat({ request: { body: 'x' } }), null);
  });

  test('detectFormat lets an explicit format win', () => {
    assert.equal(detectFormat({ hello: 'world' }, 'anthropic'), 'anthropic');
    assert.equal(detectFormat({ resourceSpans: [] }, 'auto'), 'otel');
    assert.ok(isFormatOption('otel') && isFormatOption('auto') && !isFormatOption('csv'));
  });
});
