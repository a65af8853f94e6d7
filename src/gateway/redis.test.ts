import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import OpenAI from 'openai';
import { ADMIN_TOKEN, startRedis, waitFor, startStubUpstream, startTestGateway, testConfig, type RedisServer, type StubUpstream } from './_test-helpers.js';
import type { RunningGateway } from './start.js';

// Set by \`before\`; each may still be unset in \`after\` when \`before\` failed.
let stub: StubUpstream;
let redis: RedisServer;
let a: RunningGateway;
let b: RunningGateway;

before(async () => {
  // Redis first: when it cannot start, nothing else is left open.
  redis = await startRedis();
  stub = await startStubUpstream();
  const policy = { campaignAction: 'throttle', throttle: { ratePerSec: 0.001, burst: 3 }, campaignThrottle: { ratePerSec: 0.001, burst: 100 } };
  a = await startTestGateway(testConfig(stub.url, { redisUrl: redis.url, replicaId: 'a', policy }));
  b = await startTestGateway(testConfig(stub.url, { redisUrl: redis.url, replicaId: 'b', policy }));
});
// Whatever \`before\` managed to start is stopped, even when it failed half-way.
after(async () => {
  await a?.close();
  await b?.close();
  await redis?.stop();
  await stub?.close();
});

const ask = (gw: RunningGateway, key: string) =>
  new OpenAI({ apiKey: key, baseURL: gw.url + '/v1', maxRetries: 0 }).chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'hi' }] });

test('two replicas share counters through Redis', async () => {
  for (let i = 0; i < 3; i++) await ask(a, 'sk-alice-0001');
  for (let i = 0; i < 2; i++) await ask(b, 'sk-alice-0001');
  // Counting happens beside the answer: wait until both replicas see all five requests.
  await waitFor(async () => (await a.state.requestCount('acct_alice')) >= 5 && (await b.state.requestCount('acct_alice')) >= 5, 'the count of five requests');
  assert.equal(await a.state.requestCount('acct_alice'), 5);
  assert.equal(await b.state.requestCount('acct_alice'), 5);
});

test('a block made on one replica is enforced by the other', async () => {
  const put = await request(a.adminUrl + '/admin/accounts/acct_mallory', { method: 'PUT', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: JSON.stringify({ blocked: true }) });
  assert.equal(put.statusCode, 200);
  await put.body.dump();
  await assert.rejects(ask(b, 'sk-mallory-0003'), (e: unknown) => e instanceof OpenAI.PermissionDeniedError);
  await ask(b, 'sk-alice-0001');
});

test('a block made on one replica cuts the account\'s stream in flight on the other at once', async () => {
  // The safety-net timer is set far beyond the test: only the push can cut the stream.
  const c = await startTestGateway(testConfig(stub.url, { redisUrl: redis.url, replicaId: 'c', flightRecheckMs: 600_000 }));
  try {
    const client = new OpenAI({ apiKey: 'sk-bob-0002', baseURL: c.url + '/v1', maxRetries: 0 });
    // Read once first, so that replica c holds a copy of the standing that the push must drop.
    await client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'hi' }] });
    const stream = await client.chat.completions.create({ model: 'slow-stream', messages: [{ role: 'user', content: 'long' }], stream: true });
    let pieces = 0;
    let blockedAt = 0;
    await assert.rejects(
      (async () => {
        for await (const _ of stream) {
          if (++pieces === 3) {
            const put = await request(a.adminUrl + '/admin/accounts/acct_bob', { method: 'PUT', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: JSON.stringify({ override: 'block' }) });
            await put.body.dump();
            blockedAt = performance.now();
          }
        }
      })(),
      /blocked/,
    );
    const cutAfter = performance.now() - blockedAt;
    assert.ok(pieces < 100, `cut after ${pieces} pieces`);
    assert.ok(cutAfter < 500, `cut ${cutAfter.toFixed(0)} ms after the block`);
    await assert.rejects(client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'hi' }] }), (e: unknown) => e instanceof OpenAI.PermissionDeniedError);
  } finally {
    await a.state.setOverride('acct_bob', null);
    await c.close();
  }
});

test('a throttled campaign member shares one token bucket across replicas', async () => {
  await a.state.setRisk('acct_bob', 0.3, 'cmp_shared');
  let served = 0;
  let limited = 0;
  for (let i = 0; i < 6; i++) {
    try {
      await ask(i % 2 === 0 ? a : b, 'sk-bob-0002');
      served++;
    } catch (e) {
      assert.ok(e instanceof OpenAI.RateLimitError);
      limited++;
    }
  }
  assert.equal(served, 3, 'burst of 3 shared by both replicas');
  assert.equal(limited, 3);
});

test('with Redis killed the gateway keeps serving and says so in /readyz and /metrics', async () => {
  await redis.stop();
  await waitFor(async () => {
    const r = await request(a.adminUrl + '/readyz');
    return ((await r.body.json()) as { redis: string }).redis === 'down';
  }, 'the gateway to notice that Redis is down');
  await ask(a, 'sk-alice-0001');
  const ready = await request(a.adminUrl + '/readyz');
  assert.equal(ready.statusCode, 200);
  const body = (await ready.body.json()) as { redis: string; redis_failure: string };
  assert.equal(body.redis, 'down');
  assert.equal(body.redis_failure, 'open');
  const metrics = await (await request(a.adminUrl + '/metrics', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).body.text();
  assert.match(metrics, /distillwatch_gateway_redis_up 0/);
});

test('fail-closed replica refuses requests in API shape while Redis is down', async () => {
  const closed = await startTestGateway(testConfig(stub.url, { redisUrl: redis.url, replicaId: 'c', redisFailure: 'closed' }));
  try {
    await assert.rejects(ask(closed, 'sk-alice-0001'), (e: unknown) => {
      assert.ok(e instanceof OpenAI.APIError);
      assert.equal(e.status, 503);
      return true;
    });
    const ready = await request(closed.adminUrl + '/readyz');
    assert.equal(ready.statusCode, 503);
    await ready.body.dump();
  } finally {
    await closed.close();
  }
});
