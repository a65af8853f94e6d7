import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { parseConfig } from './config.js';
import { hashedKeyEntry, hashKey } from './keys.js';
import { startStubUpstream, startTestGateway, testConfig, type StubUpstream } from './_test-helpers.js';
import type { RunningGateway } from './start.js';

let stub: StubUpstream;
let gw: RunningGateway;
const aliceHash = hashKey('sk-alice-0001');

before(async () => {
  stub = await startStubUpstream();
  // Alice's key hashed, Bob's plain: both forms work side by side.
  gw = await startTestGateway(testConfig(stub.url, { keys: { [`sha256:${aliceHash.toUpperCase()}`]: 'acct_alice', 'sk-bob-0002': 'acct_bob' } }));
});
after(async () => {
  await gw.close();
  await stub.close();
});

test('a key listed by its sha256 in the config is accepted from both SDKs', async () => {
  const openai = new OpenAI({ apiKey: 'sk-alice-0001', baseURL: gw.url + '/v1', maxRetries: 0 });
  const a = await openai.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(a.choices[0]!.message.content, 'Hello from the stub');
  const anthropic = new Anthropic({ apiKey: 'sk-alice-0001', baseURL: gw.url, maxRetries: 0 });
  const m = await anthropic.messages.create({ model: 'm1', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(m.type, 'message');
  const bob = new OpenAI({ apiKey: 'sk-bob-0002', baseURL: gw.url + '/v1', maxRetries: 0 });
  await bob.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'hi' }] });
  const shown = await fetch(`${gw.adminUrl}/admin/accounts/acct_alice`, { headers: { authorization: 'Bearer admin-secret-token' } });
  assert.equal(((await shown.json()) as { requests: number }).requests, 2, 'the hashed key is counted as acct_alice');
});

test('the hash itself, presented as a key, is refused', async () => {
  for (const key of [hashedKeyEntry('sk-alice-0001'), aliceHash]) {
    const client = new OpenAI({ apiKey: key, baseURL: gw.url + '/v1', maxRetries: 0 });
    await assert.rejects(client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'hi' }] }), OpenAI.AuthenticationError);
  }
});

test('a hashed key that is not 64 hex digits is refused at start without quoting any key', () => {
  const r = parseConfig({ upstream: 'http://127.0.0.1:9000', keys: { 'sha256:abc': 'acct_1', 'sk-secret-plain': 'acct_2' } });
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.match(r.error, /"keys" the entry for "acct_1" starts with "sha256:" but is not 64 hex digits/);
    assert.doesNotMatch(r.error, /sk-secret-plain/);
  }
  const twice = parseConfig({ upstream: 'http://127.0.0.1:9000', keys: { [hashedKeyEntry('sk-1')]: 'acct_1', 'sk-1': 'acct_2' } });
  assert.equal(twice.ok, false);
  if (!twice.ok) assert.match(twice.error, /one key is listed for both "acct_1" and "acct_2"/);
});

test('a key presented on a connection is looked up again when the connection presents another one', () => {
  const built = parseConfig({ upstream: 'http://127.0.0.1:9', keys: { 'sk-alice-0001': 'acct_alice', 'sk-bob-0002': 'acct_bob' } });
  assert.ok(built.ok);
  const keys = built.config.keys;
  const connection = {};
  assert.equal(keys.accountOfOn('sk-alice-0001', connection), 'acct_alice');
  assert.equal(keys.accountOfOn('sk-alice-0001', connection), 'acct_alice');
  assert.equal(keys.accountOfOn('sk-bob-0002', connection), 'acct_bob');
  assert.equal(keys.accountOfOn('sk-nobody-0003', connection), undefined);
  assert.equal(keys.accountOfOn('sk-alice-0001', {}), 'acct_alice');
  // A reload builds a new table: what the old one remembered for the connection counts for nothing.
  const reloaded = parseConfig({ upstream: 'http://127.0.0.1:9', keys: { 'sk-bob-0002': 'acct_bob' } });
  assert.ok(reloaded.ok);
  assert.equal(reloaded.config.keys.accountOfOn('sk-alice-0001', connection), undefined);
});
