import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { request } from 'undici';
import OpenAI from 'openai';
import { Redis } from 'ioredis';
import { openDuckDbStore } from '../store/duckdb/store.js';
import type { Store } from '../store/store.js';
import { ADMIN_TOKEN, sleep, startRedis, startTestGateway, testConfig, type RedisServer, waitFor, useStubUpstreamAndTempDir } from './_test-helpers.js';
import type { RunningGateway } from './start.js';

const fixture = useStubUpstreamAndTempDir('dw-decisions-');
const { dir } = fixture;

const ask = (gw: RunningGateway, key: string) =>
  new OpenAI({ apiKey: key, baseURL: gw.url + '/v1', maxRetries: 0 }).chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'hi' }] });

async function block(gw: RunningGateway, account: string, blocked: boolean): Promise<number> {
  const r = await request(gw.adminUrl + '/admin/accounts/' + account, { method: 'PUT', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: JSON.stringify({ blocked }) });
  await r.body.dump();
  return r.statusCode;
}

/** Asks until the account is refused (true) or `ms` have passed (false). */
async function refusedWithin(gw: RunningGateway, key: string, ms: number): Promise<boolean> {
  const start = performance.now();
  while (performance.now() - start < ms) {
    try {
      await ask(gw, key);
    } catch (e) {
      if (e instanceof OpenAI.PermissionDeniedError) return true;
    }
    await sleep(100);
  }
  return false;
}

test('a block made while Redis is down is written back when it returns, even without a store', async () => {
  const redis = await startRedis();
  const a = await startTestGateway(testConfig(fixture.stub.url, { redisUrl: redis.url, replicaId: 'a' }));
  const b = await startTestGateway(testConfig(fixture.stub.url, { redisUrl: redis.url, replicaId: 'b' }));
  let restarted: RedisServer | null = null;
  try {
    await ask(b, 'sk-mallory-0003');
    await redis.stop();
    await waitFor(async () => {
      const r = await request(a.adminUrl + '/readyz');
      return ((await r.body.json()) as { redis: string }).redis === 'down';
    }, 'replica a to see Redis down');
    // Made on a's local state only: Redis is not there to take it.
    assert.equal(await block(a, 'acct_mallory', true), 200);
    restarted = await startRedis({ port: redis.port });
    assert.ok(await refusedWithin(b, 'sk-mallory-0003', 5000), 'replica b never saw the block made during the outage');
  } finally {
    await a.close();
    await b.close();
    await restarted?.stop();
  }
});

test('a Redis restarted empty is seeded again from the store, so its blocks hold on every replica', async () => {
  const redis = await startRedis();
  const store = await openDuckDbStore(':memory:');
  const a = await startTestGateway(testConfig(fixture.stub.url, { redisUrl: redis.url, replicaId: 'a' }), { store });
  const b = await startTestGateway(testConfig(fixture.stub.url, { redisUrl: redis.url, replicaId: 'b' }));
  let restarted: RedisServer | null = null;
  try {
    assert.equal(await block(a, 'acct_mallory', true), 200);
    assert.ok(await refusedWithin(b, 'sk-mallory-0003', 2000));
    await redis.stop();
    restarted = await startRedis({ port: redis.port });
    assert.ok(await refusedWithin(b, 'sk-mallory-0003', 5000), 'the block vanished with the Redis restart');
    // An empty Redis found without a reconnect (flushed) is seeded again too.
    const admin = new Redis(redis.url);
    try {
      await admin.flushall();
      // The replica with the store finds Redis empty and writes the block back.
      await waitFor(async () => (await admin.hget('dw:acct:acct_mallory', 'blocked')) === '1', 'the block to be seeded again into the flushed Redis', 10_000, 50);
    } finally {
      admin.disconnect();
    }
    await assert.rejects(ask(b, 'sk-mallory-0003'), (e: unknown) => e instanceof OpenAI.PermissionDeniedError);
  } finally {
    await a.close();
    await b.close();
    await store.close();
    await restarted?.stop();
  }
});

test('operator decisions are kept in the store with who, when and before/after, and hold across a restart', async () => {
  const storePath = join(dir, 'decisions.duckdb');
  const config = testConfig(fixture.stub.url, { storePath, replicaId: 'solo' });
  let gw = await startTestGateway(config, { store: undefined });
  try {
    assert.equal(await block(gw, 'acct_mallory', true), 200);
    const put = await request(gw.adminUrl + '/admin/accounts/acct_bob', { method: 'PUT', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: JSON.stringify({ override: 'throttle' }) });
    assert.equal(put.statusCode, 200);
    await put.body.dump();
  } finally {
    await gw.close();
  }
  gw = await startTestGateway(config, { store: undefined });
  try {
    await assert.rejects(ask(gw, 'sk-mallory-0003'), (e: unknown) => e instanceof OpenAI.PermissionDeniedError);
    assert.equal((await gw.state.standing('acct_bob')).override, 'throttle');
    assert.equal(await block(gw, 'acct_mallory', false), 200);
    await ask(gw, 'sk-mallory-0003');
  } finally {
    await gw.close();
  }
  const store: Store = await openDuckDbStore(storePath);
  try {
    const history = await store.decisionHistory('acct_mallory');
    assert.deepEqual(
      history.map((h) => ({ actor: h.actor, origin: h.origin, before: h.before, after: h.after })),
      [
        { actor: 'admin', origin: 'solo', before: { override: null, blocked: false }, after: { override: null, blocked: true } },
        { actor: 'admin', origin: 'solo', before: { override: null, blocked: true }, after: { override: null, blocked: false } },
      ],
    );
    assert.ok(history.every((h) => Number.isFinite(Date.parse(h.at))));
  } finally {
    await store.close();
  }
});
