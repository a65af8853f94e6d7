import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import type { Watermark } from './degrade.js';
import { startStubUpstream, startTestGateway, testConfig, type StubUpstream } from './_test-helpers.js';
import type { RunningGateway } from './start.js';

let stub: StubUpstream;
let gw: RunningGateway;
let client: Anthropic;

before(async () => {
  stub = await startStubUpstream();
  gw = await startTestGateway(testConfig(stub.url, { upstreamTimeoutMs: 300 }));
  client = new Anthropic({ apiKey: 'sk-bob-0002', baseURL: gw.url, maxRetries: 0 });
});
after(async () => {
  await gw?.close();
  await stub?.close();
});

const messages = [{ role: 'user' as const, content: 'Say hello' }];

test('anthropic client gets a message through the gateway', async () => {
  const r = await client.messages.create({ model: 'm1', max_tokens: 100, messages });
  const text = r.content.find((b) => b.type === 'text');
  assert.ok(text && text.type === 'text');
  assert.equal(text.text, 'Hello from the stub');
  assert.equal(r.stop_reason, 'end_turn');
});

test('anthropic client streams SSE events through the gateway', async () => {
  const stream = await client.messages.create({ model: 'm1', max_tokens: 100, messages, stream: true });
  const types: string[] = [];
  let text = '';
  for await (const e of stream) {
    types.push(e.type);
    if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') text += e.delta.text;
  }
  assert.equal(text, 'Hello from the stub');
  assert.equal(types[0], 'message_start');
  assert.equal(types.at(-1), 'message_stop');
});

const tools = [{ name: 'get_weather', description: 'weather', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } }];

test('anthropic client gets tool use, unstreamed and streamed', async () => {
  const r = await client.messages.create({ model: 'm1', max_tokens: 100, messages, tools });
  const use = r.content.find((b) => b.type === 'tool_use');
  assert.ok(use && use.type === 'tool_use');
  assert.deepEqual(use.input, { city: 'Paris' });
  const final = await client.messages.stream({ model: 'm1', max_tokens: 100, messages, tools }).finalMessage();
  const streamed = final.content.find((b) => b.type === 'tool_use');
  assert.ok(streamed && streamed.type === 'tool_use');
  assert.deepEqual(streamed.input, { city: 'Paris' });
});

test('anthropic client sees upstream 500 and 429 in Anthropic shape', async () => {
  for (const [model, status, type] of [['fail-500', 500, 'api_error'], ['fail-429', 429, 'rate_limit_error']] as const) {
    await assert.rejects(client.messages.create({ model, max_tokens: 10, messages }), (e: unknown) => {
      assert.ok(e instanceof Anthropic.APIError);
      assert.equal(e.status, status);
      assert.equal((e.error as { error?: { type?: string } }).error?.type, type);
      return true;
    });
  }
});

test('anthropic client gets a 504 timeout_error when the upstream times out', async () => {
  await assert.rejects(client.messages.create({ model: 'hang', max_tokens: 10, messages }), (e: unknown) => {
    assert.ok(e instanceof Anthropic.APIError);
    assert.equal(e.status, 504);
    assert.equal((e.error as { error?: { type?: string } }).error?.type, 'timeout_error');
    return true;
  });
});

test('anthropic client with an unknown key gets 401 authentication_error', async () => {
  const stranger = new Anthropic({ apiKey: 'sk-nobody', baseURL: gw.url, maxRetries: 0 });
  await assert.rejects(stranger.messages.create({ model: 'm1', max_tokens: 10, messages }), (e: unknown) => {
    assert.ok(e instanceof Anthropic.AuthenticationError);
    assert.equal((e.error as { error?: { type?: string } }).error?.type, 'authentication_error');
    return true;
  });
});

test('degraded anthropic account gets capped output and no reasoning', async () => {
  await gw.state.setOverride('acct_bob', 'degrade');
  try {
    const r = await client.messages.create({ model: 'm1', max_tokens: 100, messages, thinking: { type: 'enabled', budget_tokens: 2000 } });
    assert.equal(r.content.some((b) => b.type === 'thinking'), false);
    assert.equal(r.content.find((b) => b.type === 'text')?.type, 'text');
  } finally {
    await gw.state.setOverride('acct_bob', null);
  }
});

test('degraded anthropic account gets a stream without the thinking blocks, renumbered', async () => {
  const ask = async () => {
    const stream = client.messages.stream({ model: 'thinker', max_tokens: 100, messages });
    return stream.finalMessage();
  };
  const plain = await ask();
  assert.deepEqual(plain.content.map((b) => b.type), ['thinking', 'text'], 'the stub thinks when not degraded');
  await gw.state.setOverride('acct_bob', 'degrade');
  try {
    const degraded = await ask();
    assert.deepEqual(degraded.content.map((b) => b.type), ['text']);
    assert.equal(degraded.content[0]?.type === 'text' ? degraded.content[0].text : '', 'Hello from the stub');
  } finally {
    await gw.state.setOverride('acct_bob', null);
  }
});

/** A watermark that marks whole words (each reversed): a word marked in two halves would show. */
const reverseWords: Watermark = (to) => (to.accountId === 'acct_bob' && to.action === 'degrade' ? (_slot, text) => text.replace(/\S+/g, (w) => [...w].reverse().join('')) : null);

test('degraded anthropic account gets its answer watermarked, streamed (words cut across deltas) or not', async () => {
  const marked = await startTestGateway(testConfig(stub.url), { watermark: reverseWords });
  try {
    const c = new Anthropic({ apiKey: 'sk-bob-0002', baseURL: marked.url, maxRetries: 0 });
    const text = (m: Anthropic.Message) => m.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
    const streamed = (model: string) => c.messages.stream({ model, max_tokens: 100, messages }).finalMessage();
    assert.equal(text(await streamed('split-words')), 'Hello from the stub', 'not degraded: as the model wrote it');
    await marked.state.setOverride('acct_bob', 'degrade');
    assert.equal(text(await c.messages.create({ model: 'm1', max_tokens: 100, messages })), 'olleH morf eht buts');
    assert.equal(text(await streamed('split-words')), 'olleH morf eht buts');
    const thinker = await streamed('thinker');
    assert.deepEqual(thinker.content.map((b) => b.type), ['text'], 'reasoning withheld and text marked together');
    assert.equal(text(thinker), 'olleH morf eht buts');
  } finally {
    await marked.close();
  }
});
