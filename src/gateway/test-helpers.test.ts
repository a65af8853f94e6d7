import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { startRedis } from './_test-helpers.js';

test('startRedis starts on another port when another process took the one it picked', async () => {
  // Another process holds the port between the moment it was found free and redis-server's start.
  const taker = createServer();
  await new Promise<void>((r) => taker.listen(0, '127.0.0.1', r));
  const taken = (taker.address() as AddressInfo).port;
  try {
    const redis = await startRedis({ firstPort: taken });
    try {
      assert.notEqual(redis.port, taken);
      assert.match(redis.url, /^redis:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await redis.stop();
    }
  } finally {
    await new Promise<void>((r) => taker.close(() => r()));
  }
});
