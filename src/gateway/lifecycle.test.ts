import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { openDuckDbStore } from '../store/duckdb/store.js';
import type { Store } from '../store/store.js';
import { ADMIN_TOKEN, startStubUpstream, startTestGateway, storedRows, testConfig, waitFor, type StubUpstream } from './_test-helpers.js';
import type { RunningGateway } from './start.js';

/** The DuckDB store behind a switch: while `down`, every append fails like an unreachable store. */
class SwitchableStore {
  down = false;
  constructor(readonly inner: Store) {}
  asStore(): Store {
    return new Proxy(this.inner, {
      get: (target, prop, recv) => {
        if (prop === 'append') {
          return (...args: Parameters<Store['append']>) => (this.down ? Promise.reject(new Error('store unavailable')) : target.append(...args));
        }
        const v = Reflect.get(target, prop, recv);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  }
}

let stub: StubUpstream;
let gw: RunningGateway;
let duck: Store;
let switchable: SwitchableStore;

before(async () => {
  stub = await startStubUpstream();
  duck = await openDuckDbStore(':memory:');
  switchable = new SwitchableStore(duck);
  gw = await startTestGateway(testConfig(stub.url), { store: switchable.asStore() });
});
after(async () => {
  await gw?.close();
  await duck?.close();
  await stub?.close();
});

test('exchanges are logged to the store, and none is lost while the store is down', async () => {
  const client = new OpenAI({ apiKey: 'sk-alice-0001', baseURL: gw.url + '/v1', maxRetries: 0 });
  const before = (await storedRows(duck)).length;
  switchable.down = true;
  for (let i = 0; i < 20; i++) await client.chat.completions.create({ model: 'm-spool', messages: [{ role: 'user', content: `question ${i}` }] });
  await gw.analysis.drain();
  await gw.log.flush();
  assert.equal((await storedRows(duck)).length, before, 'nothing reaches a store that is down');
  assert.ok(gw.log.spooled >= 20, `spooled ${gw.log.spooled}`);
  const metrics = await (await request(gw.adminUrl + '/metrics', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).body.text();
  assert.match(metrics, /distillwatch_gateway_log_spooled [1-9]/);
  assert.match(metrics, /nodejs_eventloop_lag_p99_seconds [0-9]/, 'the event loop, where added latency comes from, is watched');
  switchable.down = false;
  await gw.log.flush();
  const rows = (await storedRows(duck)).filter((r) => r.model === 'm-spool');
  assert.equal(rows.length, 20);
  assert.equal(new Set(rows.map((r) => r.id)).size, 20);
  assert.ok(rows.every((r) => r.account_id === 'acct_alice' && r.status === 200));
  assert.equal(gw.log.spooled, 0);
});

test('client disconnect mid-stream cancels the upstream request and logs the exchange as incomplete', async () => {
  const client = new Anthropic({ apiKey: 'sk-bob-0002', baseURL: gw.url, maxRetries: 0 });
  const abortedBefore = stub.aborted;
  const ac = new AbortController();
  const stream = await client.messages.create({ model: 'slow-stream', max_tokens: 100, messages: [{ role: 'user', content: 'long answer' }], stream: true }, { signal: ac.signal });
  let events = 0;
  try {
    for await (const _ of stream) {
      if (++events === 5) ac.abort();
    }
  } catch {
    // The SDK may end the loop quietly or throw an abort error: either is a disconnect.
  }
  assert.ok(events < 100, `the client stopped after ${events} events`);
  await waitFor(() => stub.aborted > abortedBefore, 'the upstream request to be cancelled');
  assert.equal(stub.aborted, abortedBefore + 1, 'the upstream request was cancelled');
  // The gateway hands the exchange over once it has seen the client go: wait for it in the store.
  await waitFor(async () => {
    await gw.analysis.drain();
    await gw.log.flush();
    return (await storedRows(duck)).some((r) => r.model === 'slow-stream');
  }, 'the cancelled exchange in the store');
  const rows = (await storedRows(duck)).filter((r) => r.model === 'slow-stream');
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.status, 499);
});

test('admin route needs the token, shows an account and blocks it on override', async () => {
  const unauthorised = await request(gw.adminUrl + '/admin/accounts/acct_mallory');
  assert.equal(unauthorised.statusCode, 401);
  await unauthorised.body.dump();
  const wrong = await request(gw.adminUrl + '/admin/accounts/acct_mallory', { headers: { authorization: 'Bearer nope' } });
  assert.equal(wrong.statusCode, 401);
  await wrong.body.dump();
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
  const put = await request(gw.adminUrl + '/admin/accounts/acct_mallory', { method: 'PUT', headers: auth, body: JSON.stringify({ blocked: true }) });
  assert.equal(put.statusCode, 200);
  const shown = (await put.body.json()) as { decision: { action: string }; standing: { blocked: boolean } };
  assert.equal(shown.decision.action, 'block');
  assert.equal(shown.standing.blocked, true);
  const mallory = new OpenAI({ apiKey: 'sk-mallory-0003', baseURL: gw.url + '/v1', maxRetries: 0 });
  await assert.rejects(mallory.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'hi' }] }), (e: unknown) => {
    assert.ok(e instanceof OpenAI.PermissionDeniedError);
    assert.equal((e.error as { type?: string }).type, 'permission_error');
    return true;
  });
  const bad = await request(gw.adminUrl + '/admin/accounts/acct_mallory', { method: 'PUT', headers: auth, body: JSON.stringify({ override: 'nuke' }) });
  assert.equal(bad.statusCode, 400);
  await bad.body.dump();
});

test('an operator block ends the account\'s stream in flight with an API-shaped error event', async () => {
  const client = new OpenAI({ apiKey: 'sk-alice-0001', baseURL: gw.url + '/v1', maxRetries: 0 });
  const stream = await client.chat.completions.create({ model: 'slow-stream', messages: [{ role: 'user', content: 'long' }], stream: true });
  let pieces = 0;
  const consumed = (async () => {
    for await (const _ of stream) {
      if (++pieces === 3) {
        const r = await request(gw.adminUrl + '/admin/accounts/acct_alice', { method: 'PUT', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: JSON.stringify({ override: 'block' }) });
        await r.body.dump();
      }
    }
  })();
  await assert.rejects(consumed, (e: unknown) => {
    assert.ok(e instanceof OpenAI.APIError);
    assert.match(String((e as Error).message), /blocked/);
    return true;
  });
  assert.ok(pieces < 100, `the stream was cut after ${pieces} pieces`);
  const r = await request(gw.adminUrl + '/admin/accounts/acct_alice', { method: 'PUT', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: JSON.stringify({ override: null }) });
  await r.body.dump();
});

test('health and readiness routes answer', async () => {
  const h = await request(gw.url + '/healthz');
  assert.equal(h.statusCode, 200);
  await h.body.dump();
  const r = await request(gw.adminUrl + '/readyz');
  assert.equal(r.statusCode, 200);
  assert.equal(((await r.body.json()) as { redis: string }).redis, 'not_configured');
});
