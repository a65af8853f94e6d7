/**
 * The exchange stream and the write-ahead log together, against a real redis-server: while
 * Redis answers, the log writes nothing, even when the event loop is too busy to read
 * Redis's answer before the commit interval is up; what Redis does not take is written.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis, sleep, waitFor, type RedisServer } from '../gateway/_test-helpers.js';
import type { FinishedRequest } from '../gateway/record.js';
import { WriteAheadLog } from '../gateway/wal.js';
import { ExchangeStream } from './exchange-stream.js';
import { liveKeys } from './partition.js';

let redis: RedisServer;
let dir: string;

before(async () => {
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), 'dw-stream-wal-'));
});
after(async () => {
  if (redis?.process.signalCode === null) redis.process.kill('SIGCONT');
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const finished = (n: number): FinishedRequest => ({
  id: `sw_${n}`, api: 'openai', accountId: `acct_${n % 3}`, apiKeyId: 'key_1', body: Buffer.from(`{"n":${n}}`), response: null, status: 200, startedAt: n, latencyMs: 1, action: 'allow',
});

/** Keeps the event loop from turning for `ms`, as a replica serving a burst of requests does. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

test('with Redis answering, the log writes nothing though the event loop reads the answer only after the commit interval', async () => {
  const { wal } = await WriteAheadLog.open({ dir: join(dir, 'busy'), replicaId: 'r1', commitIntervalMs: 5, redisAnswerMs: 10_000 }, 0);
  const stream = new ExchangeStream({ redisUrl: redis.url, partitions: 2, maxLen: 10_000, keys: liveKeys('dw-busy:'), wal });
  try {
    // Connected first: the requests below are the only ones in the log.
    stream.submit(finished(0));
    await stream.drain();
    // A first record sent before the connection was up is written (Redis did not take it):
    // its write over before counting.
    await wal.commit();
    const before = { written: wal.committed, unwritten: wal.unwritten };
    for (let round = 1; round <= 5; round++) {
      for (let i = 0; i < 20; i++) stream.submit(finished(round * 100 + i));
      // The loop is then held past the commit interval, as a replica's is while it serves a
      // burst: the flush's timer and the log's run late, and Redis's answer is read late.
      await sleep(4);
      busy(30);
      await stream.drain();
    }
    await waitFor(() => wal.unsettled === 0, 'every record settled');
    await sleep(20);
    assert.equal(wal.committed - before.written, 0, 'no record written: Redis held each one');
    assert.equal(wal.unwritten - before.unwritten, 100);
  } finally {
    await stream.close();
    await wal.close();
  }
});

test('a record Redis does not answer for is written and fsynced once its answer is due, and is sent once Redis answers', async () => {
  const { wal } = await WriteAheadLog.open({ dir: join(dir, 'stall'), replicaId: 'r1', commitIntervalMs: 5, redisAnswerMs: 40 }, 0);
  const stream = new ExchangeStream({ redisUrl: redis.url, partitions: 2, maxLen: 10_000, keys: liveKeys('dw-stall:'), wal });
  try {
    stream.submit(finished(0));
    await stream.drain();
    const written = wal.committed;
    redis.process.kill('SIGSTOP');
    try {
      for (let i = 1; i <= 10; i++) stream.submit(finished(i));
      // Handed over (in the socket) but never answered: on disk within the answer window.
      await waitFor(() => wal.committed - written === 10, 'the ten unanswered records written', 20_000, 5);
      // What a kill -9 now would leave for the next start (a copy of the log's folder, read
      // as a restart reads it): the ten.
      cpSync(join(dir, 'stall'), join(dir, 'stall-copy'), { recursive: true });
      const again = await WriteAheadLog.open({ dir: join(dir, 'stall-copy'), replicaId: 'r1' }, 0);
      assert.deepEqual(again.recovery.records.map((f) => f.id).filter((id) => id !== 'sw_0'), Array.from({ length: 10 }, (_, i) => `sw_${i + 1}`));
      await again.wal.close();
    } finally {
      redis.process.kill('SIGCONT');
    }
    await waitFor(() => wal.unsettled === 0, 'the ten settled once Redis answers', 30_000, 20);
  } finally {
    await stream.close();
    await wal.close();
  }
});

test('a drain called while Redis is away leaves the stream retrying: what it holds goes out once Redis answers', async () => {
  const stream = new ExchangeStream({ redisUrl: redis.url, partitions: 2, maxLen: 10_000, keys: liveKeys('dw-drain:'), wal: null });
  try {
    stream.submit(finished(0));
    await stream.drain();
    redis.process.kill('SIGSTOP');
    try {
      for (let i = 1; i <= 5; i++) stream.submit(finished(i));
      await waitFor(() => !stream.healthy, 'the stall noticed', 20_000, 20);
      // A shutdown's drain, during the outage: it must not stop the retries.
      void stream.drain();
    } finally {
      redis.process.kill('SIGCONT');
    }
    await waitFor(() => stream.sent === 6 && stream.backlog === 0, 'the five sent once Redis answers', 20_000, 20);
  } finally {
    await stream.close();
  }
});
