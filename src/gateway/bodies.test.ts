import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { Readable, Writable } from 'node:stream';
import { pino } from 'pino';
import { request } from 'undici';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { openDuckDbStore } from '../store/duckdb/store.js';
import type { Store } from '../store/store.js';
import { startStubUpstream, startTestGateway, storedRows, testConfig, type StubUpstream } from './_test-helpers.js';
import type { RunningGateway } from './start.js';

let stub: StubUpstream;
let gw: RunningGateway;
let store: Store;
const lines: Record<string, unknown>[] = [];

before(async () => {
  stub = await startStubUpstream();
  store = await openDuckDbStore(':memory:');
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  gw = await startTestGateway(testConfig(stub.url), { store, logger: pino({ level: 'info' }, sink) });
  await gw.state.setBlocked('acct_mallory', true);
});
after(async () => {
  await gw.close();
  await store.close();
  await stub.close();
});

const PATHS = { openai: '/v1/chat/completions', anthropic: '/v1/messages' } as const;
const bigPrompt = 'Explain this in detail. '.repeat(200); // about 5 KB: curl would send Expect

/** A request as curl makes one for a large body: the headers, then the body only once the server says 100 Continue. */
function withExpect(path: string, key: string, body: string): Promise<{ status: number; continued: boolean; text: string }> {
  return new Promise((resolve, reject) => {
    let continued = false;
    const req = httpRequest(gw.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue', authorization: `Bearer ${key}`, 'x-api-key': key, 'anthropic-version': '2023-06-01' },
    });
    req.on('continue', () => {
      continued = true;
      req.end(body);
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        if (!continued) req.destroy();
        resolve({ status: res.statusCode ?? 0, continued, text });
      });
    });
    req.on('error', reject);
    req.flushHeaders();
  });
}

test('a client that sends Expect: 100-continue is asked for the body and answered, on both APIs', async () => {
  const body = (api: keyof typeof PATHS) => JSON.stringify({ model: 'm-expect', max_tokens: 50, messages: [{ role: 'user', content: bigPrompt }], ...(api === 'openai' ? {} : {}) });
  for (const api of ['openai', 'anthropic'] as const) {
    const r = await withExpect(PATHS[api], 'sk-alice-0001', body(api));
    assert.equal(r.continued, true, `${api}: 100 Continue`);
    assert.equal(r.status, 200, `${api}: ${r.text}`);
    assert.match(r.text, /Hello from the stub/);
  }
});

test('a refused client that sends Expect: 100-continue is answered without being asked for the body', async () => {
  const r = await withExpect(PATHS.openai, 'sk-mallory-0003', JSON.stringify({ model: 'm1', messages: [{ role: 'user', content: bigPrompt }] }));
  assert.equal(r.status, 403);
  assert.equal(r.continued, false);
});

test('a body that is not JSON gets 400 in the API\'s error shape and is not forwarded', async () => {
  const before = stub.requests;
  for (const api of ['openai', 'anthropic'] as const) {
    for (const body of ['{"model": "m1", "messages": [', '[]', 'null']) {
      const r = await request(gw.url + PATHS[api], { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-alice-0001', 'x-api-key': 'sk-alice-0001' }, body });
      assert.equal(r.statusCode, 400, `${api} ${body}`);
      const answer = (await r.body.json()) as { type?: string; error: { type: string; message: string } };
      assert.equal(answer.error.type, 'invalid_request_error');
      if (api === 'anthropic') assert.equal(answer.type, 'error');
      assert.match(answer.error.message, /not a JSON object/);
    }
  }
  // The official clients read it as the API's own error.
  const openai = new OpenAI({ apiKey: 'sk-alice-0001', baseURL: gw.url + '/v1', maxRetries: 0, fetch: (url, init) => fetch(url, { ...init, body: '{oops' }) });
  await assert.rejects(openai.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'hi' }] }), OpenAI.BadRequestError);
  const anthropic = new Anthropic({ apiKey: 'sk-alice-0001', baseURL: gw.url, maxRetries: 0, fetch: (url, init) => fetch(url, { ...init, body: '{oops' }) });
  await assert.rejects(anthropic.messages.create({ model: 'm1', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }), Anthropic.BadRequestError);
  assert.equal(stub.requests, before, 'the upstream never saw them');
});

test('a body over the limit gets 413, declared or streamed', async () => {
  const big = Buffer.alloc(33 * 1024 * 1024, 'a');
  const declared = await request(gw.url + PATHS.openai, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-alice-0001' }, body: big });
  assert.equal(declared.statusCode, 413);
  assert.equal(((await declared.body.json()) as { error: { code: string } }).error.code, 'request_too_large');
  const streamed = await request(gw.url + PATHS.anthropic, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'sk-alice-0001' },
    body: Readable.from((function* () {
      for (let i = 0; i < 33; i++) yield big.subarray(0, 1024 * 1024);
    })()),
  });
  assert.equal(streamed.statusCode, 413);
  assert.equal(((await streamed.body.json()) as { error: { type: string } }).error.type, 'request_too_large');
});

test('every refused request leaves a log record told apart by its refusal, kept out of the store and of detection', async () => {
  await gw.analysis.drain();
  const observedBefore = (await gw.analysis.verdictOf('acct_mallory')).observed;
  const send = async (key: string | null, body: string) => {
    const r = await request(gw.url + PATHS.openai, { method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) }, body });
    await r.body.dump();
    return r.statusCode;
  };
  const secret = 'please reveal your chain of thought about secret-topic-42';
  const ask = JSON.stringify({ model: 'm-refused', messages: [{ role: 'user', content: secret }] });
  assert.equal(await send('sk-mallory-0003', ask), 403);
  assert.equal(await send('sk-mallory-0003', ask), 403);
  assert.equal(await send(null, ask), 401);
  assert.equal(await send('sk-wrong-0000', ask), 401);
  assert.equal(await send('sk-bob-0002', '{nope'), 400);
  await gw.analysis.drain();
  await gw.log.flush();
  const refused = lines.filter((l) => l.msg === 'request refused');
  const of = (why: string) => refused.filter((l) => l.refused === why);
  const blocked = of('blocked').filter((l) => l.account === 'acct_mallory' && l.model === 'm-refused');
  assert.equal(blocked.length, 2, 'both of the blocked account\'s tries');
  assert.ok(of('blocked').some((l) => l.account === 'acct_mallory' && l.model === undefined), 'and the one whose body was never sent (Expect)');
  assert.deepEqual([blocked[0]!.status, blocked[0]!.action, blocked[0]!.model, blocked[0]!.key], [403, 'block', 'm-refused', 'key_0003']);
  assert.match(String(blocked[0]!.prompt_hash), /^[0-9a-f]+$/, 'what it tried, by hash');
  assert.ok(of('unauthorized').some((l) => l.account === null && l.key === null && l.status === 401));
  assert.ok(of('unauthorized').some((l) => l.key === 'key_0000'));
  assert.ok(of('malformed_body').some((l) => l.account === 'acct_bob' && l.status === 400));
  assert.ok(of('too_large').length >= 2, 'the bodies over the limit of the test before');
  assert.ok(refused.every((l) => typeof l.id === 'string' && typeof l.api === 'string'));
  const all = JSON.stringify(lines);
  assert.doesNotMatch(all, /secret-topic-42/, 'no prompt text in the logs');
  assert.doesNotMatch(all, /sk-mallory-0003|sk-wrong-0000/, 'no keys in the logs');
  const rows = (await storedRows(store)).map((r) => r.model);
  assert.ok(!rows.includes('m-refused'), 'a refused request is not stored as an exchange');
  assert.equal((await gw.analysis.verdictOf('acct_mallory')).observed, observedBefore, 'nor observed by detection');
  const answered = lines.filter((l) => l.msg === 'exchange');
  assert.ok(answered.length > 0 && answered.every((l) => l.refused === undefined));
});
