import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import OpenAI from 'openai';
import { Redis } from 'ioredis';
import { ADMIN_TOKEN, sleep, startRedis, startStubUpstream, startTestGateway, testConfig, type RedisServer, type StubUpstream } from './_test-helpers.js';
import type { RunningGateway } from './start.js';

let stub: StubUpstream;
let redis: RedisServer;
let a: RunningGateway;
let b: RunningGateway;

before(async () => {
  stub = await startStubUpstream();
  redis = await startRedis();
  a = await startTestGateway(testConfig(stub.url, { redisUrl: redis.url, replicaId: 'a' }));
  b = await startTestGateway(testConfig(stub.url, { redisUrl: redis.url, replicaId: 'b', redisFailure: 'closed' }));
});
// Whatever `before` got to start (set or still undefined), even when it stopped part way (no redis-server).
after(async () => {
  await a?.close();
  await b?.close();
  await redis?.stop();
  await stub?.close();
});

const ask = (gw: RunningGateway, key: string) =>
  new OpenAI({ apiKey: key, baseURL: gw.url + '/v1', maxRetries: 0 }).chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'hi' }] });

async function readiness(gw: RunningGateway): Promise<{ status: number; redis: string }> {
  const r = await request(gw.adminUrl + '/readyz');
  return { status: r.statusCode, redis: ((await r.body.json()) as { redis: string }).redis };
}

/** Polls until `gw` reports Redis up, for at most `ms`; returns how long it took, or null. */
async function upWithin(gw: RunningGateway, ms: number): Promise<number | null> {
  const start = performance.now();
  while (performance.now() - start < ms) {
    if ((await readiness(gw)).redis === 'up') return performance.now() - start;
    await sleep(50);
  }
  return null;
}

test('a Redis stall (DEBUG SLEEP) marks it down only while it stalls: both replicas recover, agree on blocks and serve again', async () => {
  const admin = new Redis(redis.url);
  try {
    // The stall: Redis answers nothing for 1.5 s, and keeps its connections.
    const stalled = admin.call('DEBUG', 'SLEEP', '1.5');
    await sleep(50);
    // Commands time out meanwhile: a request meets the stall and is served on local state;
    // the fail-closed replica refuses until Redis is back.
    await ask(a, 'sk-alice-0001');
    // Served on local state if b has not noticed the stall yet, refused if its probe has.
    await ask(b, 'sk-alice-0001').catch(() => undefined);
    assert.equal((await readiness(a)).redis, 'down');
    await assert.rejects(ask(b, 'sk-alice-0001'), (e: unknown) => e instanceof OpenAI.APIError && e.status === 503);
    await stalled;
    assert.equal(await admin.ping(), 'PONG', 'Redis answers again');
    // Down for the stall only: no reconnect happens, the probe must see it answer.
    assert.notEqual(await upWithin(a, 5000), null, 'replica a still reports Redis down');
    assert.notEqual(await upWithin(b, 5000), null, 'replica b still reports Redis down');
    assert.equal((await readiness(b)).status, 200);
    await ask(b, 'sk-alice-0001');
    const put = await request(a.adminUrl + '/admin/accounts/acct_mallory', { method: 'PUT', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: JSON.stringify({ blocked: true }) });
    assert.equal(put.statusCode, 200);
    await put.body.dump();
    await assert.rejects(ask(b, 'sk-mallory-0003'), (e: unknown) => e instanceof OpenAI.PermissionDeniedError);
  } finally {
    admin.disconnect();
  }
});
