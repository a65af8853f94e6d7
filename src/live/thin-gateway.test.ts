/**
 * A thin gateway (analysis in "stream" mode) in front of a real redis-server: exchanges
 * reach their partition streams, and a Redis that stalls costs neither an answer nor an
 * exchange: they wait in the write-ahead log and go out when Redis answers again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { Redis } from 'ioredis';
import { ADMIN_TOKEN, startRedis, startStubUpstream, startTestGateway, testConfig, waitFor, type RedisServer, type StubUpstream } from '../gateway/_test-helpers.js';
import type { RunningGateway } from '../gateway/start.js';
import { entryRequests } from './codec.js';
import { ExchangeStream } from './exchange-stream.js';
import type { FinishedRequest } from '../gateway/record.js';
import { liveKeys, partitionOf } from './partition.js';

const PARTITIONS = 2;
let redis: RedisServer;
let stub: StubUpstream;
let gw: RunningGateway;
let r: Redis;

before(async () => {
  redis = await startRedis();
  stub = await startStubUpstream();
  // Redis gets a second to answer before the log writes an exchange handed to it: on a
  // machine shared with other tests, redis-server may wait for a core longer than the
  // default 50 ms, and the test below is about this process's loop, not about that.
  gw = await startTestGateway(testConfig(stub.url, { redisUrl: redis.url, analysis: { mode: 'stream', partitions: PARTITIONS }, durability: { redisAnswerMs: 1000 } }));
  r = new Redis(redis.url);
});
after(async () => {
  r?.disconnect();
  if (redis?.process.signalCode === null) redis.process.kill('SIGCONT');
  await gw?.close();
  await stub?.close();
  await redis?.stop();
});

async function entries(): Promise<{ id: string; account: string | null; partition: number }[]> {
  const out: { id: string; account: string | null; partition: number }[] = [];
  for (let p = 0; p < PARTITIONS; p++) {
    for (const [, fields] of await r.xrangeBuffer(liveKeys().input(p), '-', '+')) {
      for (const h of entryRequests(fields) ?? assert.fail('an entry without requests')) {
        assert.ok(h !== null);
        out.push({ id: h.id, account: h.accountId, partition: p });
      }
    }
  }
  return out;
}

test('a thin gateway appends each exchange to its account\'s partition stream', async () => {
  const client = new OpenAI({ apiKey: 'sk-alice-0001', baseURL: gw.url + '/v1', maxRetries: 0 });
  for (let i = 0; i < 5; i++) await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: `hi ${i}` }] });
  await waitFor(async () => (await entries()).length === 5, 'five entries in the streams', 20_000, 20);
  for (const e of await entries()) {
    assert.equal(e.account, 'acct_alice');
    assert.equal(e.partition, partitionOf('acct_alice', PARTITIONS));
  }
  assert.equal(gw.wal!.unsettled, 0);
});

test('a thin gateway keeps serving while Redis stalls, and its exchanges reach the streams once Redis answers', async () => {
  const before = (await entries()).length;
  const client = new OpenAI({ apiKey: 'sk-bob-0002', baseURL: gw.url + '/v1', maxRetries: 0 });
  // Standings are read from the replica's copy: the stall does not hold requests up.
  await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'warm' }] });
  await waitFor(() => gw.analysis.backlog === 0 && gw.wal!.unsettled === 0, 'the warm-up exchange sent', 20_000, 20);
  const committed = gw.wal!.committed;
  redis.process.kill('SIGSTOP');
  try {
    for (let i = 0; i < 10; i++) {
      const a = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: `stalled ${i}` }] });
      assert.ok(a.choices.length > 0);
    }
    // Held, on disk, until Redis takes them.
    await waitFor(() => gw.wal!.unsettled >= 10 && gw.wal!.committed - committed >= 10, 'ten exchanges held in the write-ahead log, written', 20_000, 20);
  } finally {
    redis.process.kill('SIGCONT');
  }
  // A batch that timed out in the stall may be applied and then sent again: an id may
  // appear twice (the store keeps one), none may be missing.
  await waitFor(async () => new Set((await entries()).map((e) => e.id)).size === before + 11, 'every exchange in the streams after the stall', 30_000, 50);
  await waitFor(() => gw.wal!.unsettled === 0, 'the write-ahead log settled', 20_000, 20);
});

test('the write-ahead log\'s counts are on /metrics: each exchange written and fsynced, or left unwritten because Redis took it first', async () => {
  // After the two tests above: 5 + 1 + 10 exchanges, the last 10 written while Redis stalled.
  const metric = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  const read = async () => (await (await fetch(gw.adminUrl + '/metrics', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text());
  await waitFor(async () => {
    const m = await read();
    return metric(m, 'distillwatch_gateway_wal_written_total') + metric(m, 'distillwatch_gateway_wal_unwritten_total') === 16;
  }, 'every exchange counted once, written or unwritten', 20_000, 50);
  const m = await read();
  assert.ok(metric(m, 'distillwatch_gateway_wal_written_total') >= 10, 'the stalled ones were written');
  assert.ok(metric(m, 'distillwatch_gateway_wal_fsyncs_total') >= 1);
  assert.ok(metric(m, 'distillwatch_gateway_wal_fsyncs_total') <= metric(m, 'distillwatch_gateway_wal_written_total'));
  assert.equal(metric(m, 'distillwatch_gateway_wal_unwritten_total'), gw.wal!.unwritten);
});

test('with Redis answering, a thin gateway under concurrent load writes (almost) nothing to its log, and /metrics shows how long Redis took', async () => {
  const metric = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  const read = async () => (await (await fetch(gw.adminUrl + '/metrics', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text());
  await waitFor(() => gw.analysis.backlog === 0 && gw.wal!.unsettled === 0, 'what came before settled', 20_000, 20);
  const before = await read();
  const CLIENTS = 16;
  const EACH = 25;
  // The clients share this process's event loop with the gateway: it is as busy as a
  // replica's under load, and reads Redis's answers late.
  await Promise.all(Array.from({ length: CLIENTS }, async (_, c) => {
    for (let i = 0; i < EACH; i++) {
      const r = await fetch(gw.url + '/v1/chat/completions', {
        method: 'POST',
        headers: { authorization: 'Bearer sk-alice-0001', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: `load ${c} ${i}` }] }),
      });
      assert.equal(r.status, 200);
      await r.arrayBuffer();
    }
  }));
  const n = CLIENTS * EACH;
  await waitFor(async () => {
    const m = await read();
    const counted = (name: string) => metric(m, name) - metric(before, name);
    return counted('distillwatch_gateway_wal_written_total') + counted('distillwatch_gateway_wal_unwritten_total') === n;
  }, 'every exchange counted once, written or unwritten', 20_000, 50);
  const after = await read();
  const written = metric(after, 'distillwatch_gateway_wal_written_total') - metric(before, 'distillwatch_gateway_wal_written_total');
  assert.ok(written <= n / 20, `${written} of ${n} exchanges written to the log while Redis answered`);
  const taken = metric(after, 'distillwatch_gateway_stream_taken_seconds_count') - metric(before, 'distillwatch_gateway_stream_taken_seconds_count');
  assert.equal(taken, n, 'each exchange in the histogram of its time to Redis');
  assert.ok(metric(after, 'distillwatch_gateway_stream_round_trip_seconds_count') >= 1);
});

test('the requests of one flush go to Redis as one entry per partition, each readable back in order', async () => {
  const keys = liveKeys('dw-flush:');
  const stream = new ExchangeStream({ redisUrl: redis.url, partitions: PARTITIONS, maxLen: 1000, keys, wal: null });
  const accounts = ['acct_a', 'acct_b', 'acct_c', 'acct_d'];
  const sent: FinishedRequest[] = Array.from({ length: 40 }, (_, i) => ({
    id: `flush_${i}`, api: 'openai', accountId: accounts[i % accounts.length]!, apiKeyId: 'key_1', body: Buffer.from(`{"n":${i}}`), response: null, status: 200, startedAt: i, latencyMs: 1, action: 'allow',
  }));
  try {
    // Handed over before the flush timer fires: one flush.
    for (const f of sent) stream.submit(f);
    await stream.drain();
    const partitions = new Set<number>(accounts.map((a) => partitionOf(a, PARTITIONS)));
    for (let p = 0; p < PARTITIONS; p++) {
      const got = await r.xrangeBuffer(keys.input(p), '-', '+');
      assert.equal(got.length, partitions.has(p) ? 1 : 0, `entries in partition ${p}`);
      const ids = got.flatMap(([, fields]) => (entryRequests(fields) ?? []).map((h) => h?.id));
      assert.deepEqual(ids, sent.filter((f) => partitionOf(f.accountId, PARTITIONS) === p).map((f) => f.id));
    }
    assert.equal(stream.sent, 40);
  } finally {
    await stream.close();
  }
});
