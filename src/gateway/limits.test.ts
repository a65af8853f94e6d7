import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { request } from 'undici';
import { ADMIN_TOKEN, freePort, startStubUpstream, startTestGateway, testConfig, type StubUpstream } from './_test-helpers.js';

let stub: StubUpstream;

before(async () => {
  stub = await startStubUpstream();
});
after(async () => {
  await stub.close();
});

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves true when the server closes the socket within `ms`, false otherwise. */
function closedWithin(s: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (s.destroyed || s.readableEnded) return resolve(true);
    const t = setTimeout(() => resolve(false), ms);
    s.once('close', () => {
      clearTimeout(t);
      resolve(true);
    });
    s.resume();
  });
}

test('/readyz reports the Redis failure mode in force after a reload, not the one read at start', async () => {
  // Nothing listens on this port: Redis is down from the start.
  const config = testConfig(stub.url, { redisUrl: `redis://127.0.0.1:${await freePort()}`, redisFailure: 'open' });
  const gw = await startTestGateway(config);
  try {
    const first = await request(gw.adminUrl + '/readyz');
    assert.equal(first.statusCode, 200);
    assert.equal(((await first.body.json()) as { redis_failure: string }).redis_failure, 'open');
    gw.gateway.reload({ ...gw.gateway.config, redisFailure: 'closed' });
    const after = await request(gw.adminUrl + '/readyz');
    assert.equal(after.statusCode, 503);
    assert.equal(((await after.body.json()) as { redis_failure: string }).redis_failure, 'closed');
  } finally {
    await gw.close();
  }
});

test('a client that never finishes its headers (slowloris) is dropped after headersTimeoutMs', async () => {
  const gw = await startTestGateway(testConfig(stub.url, { connections: { headersTimeoutMs: 500 } }));
  const s = await open(gw.port);
  try {
    s.write('POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer sk-alice-0001\r\n');
    // Node's own default would hold it for 60 s.
    assert.ok(await closedWithin(s, 5000), 'the half-sent request still holds its socket');
  } finally {
    s.destroy();
    await gw.close();
  }
});

test('connections beyond connections.maxPerClient from one client are closed at once', async () => {
  const gw = await startTestGateway(testConfig(stub.url, { connections: { maxPerClient: 4 } }));
  const sockets: Socket[] = [];
  try {
    for (let i = 0; i < 6; i++) sockets.push(await open(gw.port));
    const closed = await Promise.all(sockets.map((s) => closedWithin(s, 1000)));
    assert.deepEqual(closed, [false, false, false, false, true, true]);
    // Once one closes, the client may open another.
    sockets[0]!.destroy();
    await new Promise((r) => setTimeout(r, 50));
    const again = await open(gw.port);
    sockets.push(again);
    assert.equal(await closedWithin(again, 500), false);
    for (const s of sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 50));
    const metrics = await (await request(gw.adminUrl + '/metrics', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).body.text();
    assert.match(metrics, /distillwatch_gateway_connections_refused_total 2/);
  } finally {
    for (const s of sockets) s.destroy();
    await gw.close();
  }
});
