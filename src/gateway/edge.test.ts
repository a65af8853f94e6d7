import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { request } from 'undici';
import { openDuckDbStore } from '../store/duckdb/store.js';
import type { Store } from '../store/store.js';
import type { ExchangeFeatures } from '../core/features.js';
import { parseConfig } from './config.js';
import { TrustedEdge } from './edge.js';
import { startStubUpstream, startTestGateway, storedRows, testConfig, type StubUpstream } from './_test-helpers.js';
import type { RunningGateway } from './start.js';

let stub: StubUpstream;
/** Its edge is elsewhere: the test client is any client. */
let open: RunningGateway;
/** Its edge is loopback: the test client stands for the edge. */
let behindEdge: RunningGateway;
let openStore: Store;
let edgeStore: Store;

const policy = { allowlist: ['acct_vip'] };

before(async () => {
  stub = await startStubUpstream();
  openStore = await openDuckDbStore(':memory:');
  edgeStore = await openDuckDbStore(':memory:');
  open = await startTestGateway(testConfig(stub.url, { accountHeader: 'X-Account-Id', edge: { trustedAddresses: ['10.0.0.0/8', 'fd00::/8'] }, policy }), { store: openStore });
  behindEdge = await startTestGateway(testConfig(stub.url, { accountHeader: 'x-account-id', edge: { trustedAddresses: ['127.0.0.1/32', '::1'] }, policy }), { store: edgeStore });
  for (const gw of [open, behindEdge]) await gw.state.setBlocked('acct_mallory', true);
});
after(async () => {
  await open.close();
  await behindEdge.close();
  await openStore.close();
  await edgeStore.close();
  await stub.close();
});

async function status(gw: RunningGateway, headers: Record<string, string>): Promise<number> {
  const r = await request(gw.url + '/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'm1', messages: [{ role: 'user', content: 'hi' }] }),
  });
  await r.body.dump();
  return r.statusCode;
}

test('a client not behind the trusted edge cannot name its account in the header', async () => {
  // A blocked account's key with an allowlisted account in the header: still the blocked account.
  assert.equal(await status(open, { authorization: 'Bearer sk-mallory-0003', 'x-account-id': 'acct_vip' }), 403);
  // No key at all: the header alone is not a credential.
  assert.equal(await status(open, { 'x-account-id': 'acct_vip' }), 401);
  // The same through the official client, which lets a caller add any header.
  const client = new OpenAI({ apiKey: 'sk-mallory-0003', baseURL: open.url + '/v1', maxRetries: 0, defaultHeaders: { 'x-account-id': 'acct_vip' } });
  await assert.rejects(client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'hi' }] }), OpenAI.PermissionDeniedError);
  assert.equal(await status(open, { authorization: 'Bearer sk-alice-0001', 'x-account-id': 'acct_vip' }), 200, 'a good key still works');
});

test('the trusted edge names the account; a key listed for another account is refused', async () => {
  assert.equal(await status(behindEdge, { 'x-account-id': 'acct_vip' }), 200, 'the edge authenticated the caller');
  assert.equal(await status(behindEdge, { authorization: 'Bearer sk-edge-only-9999', 'x-account-id': 'acct_vip' }), 200, 'a key the gateway does not list');
  assert.equal(await status(behindEdge, { authorization: 'Bearer sk-alice-0001', 'x-account-id': 'acct_alice' }), 200, 'key and header agree');
  assert.equal(await status(behindEdge, { authorization: 'Bearer sk-mallory-0003', 'x-account-id': 'acct_vip' }), 401, 'key and header disagree');
  assert.equal(await status(behindEdge, { authorization: 'Bearer sk-mallory-0003' }), 403, 'no header: the key decides');
});

async function rowsOf(gw: RunningGateway, store: Store, model: string): Promise<ExchangeFeatures[]> {
  await gw.analysis.drain();
  await gw.log.flush();
  return (await storedRows(store)).filter((r) => r.model === model);
}

test('edge metadata (x-distillwatch-edge) is read only from the trusted edge', async () => {
  const edge = JSON.stringify({ ts: '2020-01-02T03:04:05.000Z', client: { country: 'ZZ' }, account: { tier: 'enterprise' } });
  for (const gw of [open, behindEdge]) {
    const r = await request(gw.url + '/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: 'Bearer sk-alice-0001', 'content-type': 'application/json', 'x-distillwatch-edge': edge },
      body: JSON.stringify({ model: 'm-edge', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(r.statusCode, 200);
    await r.body.dump();
  }
  const [fromClient] = await rowsOf(open, openStore, 'm-edge');
  assert.ok(fromClient);
  assert.equal(fromClient.country, null, 'a client cannot say where it is');
  assert.equal(fromClient.tier, null, 'nor what tier its account has');
  assert.ok(fromClient.ts > Date.parse('2024-01-01'), 'nor when it asked');
  const [fromEdge] = await rowsOf(behindEdge, edgeStore, 'm-edge');
  assert.ok(fromEdge);
  assert.equal(fromEdge.country, 'ZZ');
  assert.equal(fromEdge.tier, 'enterprise');
  assert.equal(fromEdge.ts, Date.parse('2020-01-02T03:04:05.000Z'));
});

test('an account header without the edge\'s addresses is refused at start', () => {
  const r = parseConfig({ upstream: 'http://127.0.0.1:9000', accountHeader: 'x-account-id' });
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.error, /"accountHeader" needs "edge.trustedAddresses"/);
  const bad = parseConfig({ upstream: 'http://127.0.0.1:9000', edge: { trustedAddresses: ['10.0.0.0/33'] } });
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.match(bad.error, /"10.0.0.0\/33" has a prefix length outside 0-32/);
});

test('the trusted edge is matched on the socket address, IPv4-mapped IPv6 included', () => {
  const r = TrustedEdge.from(['10.0.0.0/8', '2001:db8::/32', '192.0.2.7']);
  assert.ok(r.ok);
  const edge = r.value;
  assert.equal(edge.trusts('10.200.3.4'), true);
  assert.equal(edge.trusts('::ffff:10.200.3.4'), true);
  assert.equal(edge.trusts('2001:db8::1'), true);
  assert.equal(edge.trusts('192.0.2.7'), true);
  assert.equal(edge.trusts('192.0.2.8'), false);
  assert.equal(edge.trusts('11.0.0.1'), false);
  assert.equal(edge.trusts(undefined), false);
  assert.equal(TrustedEdge.from(['not-an-address']).ok, false);
});
