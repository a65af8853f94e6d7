import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type { Watermark } from './degrade.js';
import { startStubUpstream, startTestGateway, testConfig, type StubUpstream } from './_test-helpers.js';
import type { RunningGateway } from './start.js';

let stub: StubUpstream;
let gw: RunningGateway;
let client: OpenAI;

before(async () => {
  stub = await startStubUpstream();
  gw = await startTestGateway(testConfig(stub.url, { upstreamTimeoutMs: 300 }));
  client = new OpenAI({ apiKey: 'sk-alice-0001', baseURL: gw.url + '/v1', maxRetries: 0 });
});
after(async () => {
  await gw?.close();
  await stub?.close();
});

const user = [{ role: 'user' as const, content: 'Say hello' }];

test('openai client gets a completion through the gateway', async () => {
  const r = await client.chat.completions.create({ model: 'm1', messages: user });
  assert.equal(r.choices[0]?.message.content, 'Hello from the stub');
  assert.equal(r.usage?.total_tokens, 9);
});

test('openai client streams through the gateway piece by piece', async () => {
  const stream = await client.chat.completions.create({ model: 'm1', messages: user, stream: true });
  const pieces: string[] = [];
  for await (const c of stream) if (c.choices[0]?.delta.content) pieces.push(c.choices[0].delta.content);
  assert.deepEqual(pieces, ['Hello', ' from', ' the', ' stub']);
});

const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];

test('openai client gets a tool call, unstreamed and streamed', async () => {
  const r = await client.chat.completions.create({ model: 'm1', messages: user, tools });
  const call = r.choices[0]?.message.tool_calls?.[0];
  assert.ok(call && call.type === 'function');
  assert.equal(call.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris' });
  const stream = client.chat.completions.stream({ model: 'm1', messages: user, tools });
  const final = await stream.finalChatCompletion();
  const streamed = final.choices[0]?.message.tool_calls?.[0];
  assert.ok(streamed && streamed.type === 'function');
  assert.deepEqual(JSON.parse(streamed.function.arguments), { city: 'Paris' });
});

test('openai client sees upstream 500 and 429 in OpenAI shape', async () => {
  for (const [model, status, type] of [['fail-500', 500, 'server_error'], ['fail-429', 429, 'rate_limit_error']] as const) {
    await assert.rejects(client.chat.completions.create({ model, messages: user }), (e: unknown) => {
      assert.ok(e instanceof OpenAI.APIError);
      assert.equal(e.status, status);
      assert.equal((e.error as { type?: string }).type, type);
      return true;
    });
  }
});

test('openai client gets a 504 in OpenAI shape when the upstream times out', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'hang', messages: user }), (e: unknown) => {
    assert.ok(e instanceof OpenAI.APIError);
    assert.equal(e.status, 504);
    assert.equal((e.error as { code?: string }).code, 'upstream_timeout');
    return true;
  });
});

test('openai client with an unknown key gets 401 in OpenAI shape', async () => {
  const stranger = new OpenAI({ apiKey: 'sk-nobody', baseURL: gw.url + '/v1', maxRetries: 0 });
  await assert.rejects(stranger.chat.completions.create({ model: 'm1', messages: user }), (e: unknown) => {
    assert.ok(e instanceof OpenAI.AuthenticationError);
    assert.equal((e.error as { code?: string }).code, 'invalid_api_key');
    return true;
  });
});

test('gateway analyses a streamed OpenAI exchange with the reassembled response', async () => {
  const seen: string[] = [];
  const { observed: before } = await gw.analysis.verdictOf('acct_alice');
  const stream = await client.chat.completions.create({ model: 'm-log', messages: [{ role: 'user', content: 'log me' }], stream: true });
  for await (const c of stream) if (c.choices[0]?.delta.content) seen.push(c.choices[0].delta.content);
  await gw.analysis.drain();
  const { verdict, observed } = await gw.analysis.verdictOf('acct_alice');
  assert.equal(observed, before + 1);
  assert.ok(verdict && verdict.exchanges >= 1);
  assert.ok(seen.length > 1, 'the answer came in several chunks');
});

test('degraded openai account gets a stream without reasoning deltas', async () => {
  const ask = async () => {
    const stream = await client.chat.completions.create({ model: 'thinker', messages: user, stream: true });
    let content = '';
    let reasoning = '';
    for await (const c of stream) {
      const d = c.choices[0]?.delta as { content?: string | null; reasoning_content?: string } | undefined;
      content += d?.content ?? '';
      reasoning += d?.reasoning_content ?? '';
    }
    return { content, reasoning };
  };
  assert.equal((await ask()).reasoning, 'step one, step two', 'the stub reasons when not degraded');
  await gw.state.setOverride('acct_alice', 'degrade');
  try {
    assert.deepEqual(await ask(), { content: 'Hello from the stub', reasoning: '' });
  } finally {
    await gw.state.setOverride('acct_alice', null);
  }
});

/** A watermark that marks whole words (each reversed): a word marked in two halves would show. */
const reverseWords: Watermark = (to) => (to.accountId === 'acct_alice' && to.action === 'degrade' ? (_slot, text) => text.replace(/\S+/g, (w) => [...w].reverse().join('')) : null);

test('degraded openai account gets its answer watermarked, streamed (words cut across chunks) or not', async () => {
  const marked = await startTestGateway(testConfig(stub.url), { watermark: reverseWords });
  try {
    const c = new OpenAI({ apiKey: 'sk-alice-0001', baseURL: marked.url + '/v1', maxRetries: 0 });
    const streamed = async (model: string) => {
      let content = '';
      for await (const ch of await c.chat.completions.create({ model, messages: user, stream: true })) content += ch.choices[0]?.delta?.content ?? '';
      return content;
    };
    assert.equal(await streamed('split-words'), 'Hello from the stub', 'not degraded: as the model wrote it');
    await marked.state.setOverride('acct_alice', 'degrade');
    assert.equal((await c.chat.completions.create({ model: 'm', messages: user })).choices[0]?.message.content, 'olleH morf eht buts');
    assert.equal(await streamed('split-words'), 'olleH morf eht buts');
    assert.equal(await streamed('thinker'), 'olleH morf eht buts');
  } finally {
    await marked.close();
  }
});
