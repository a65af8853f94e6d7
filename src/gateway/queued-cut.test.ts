/**
 * A request that never reached the model is no exchange. When every upstream connection is
 * busy, a request waits in the gateway for one; an account blocked while it waits has its
 * request cut before it leaves. It is answered 403 like any refused request, and recorded
 * nowhere: the store must hold what reached the model, each once (the scale-out test counts
 * both sides and once found one more stored than forwarded).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Pool, request } from 'undici';
import { openDuckDbStore } from '../store/duckdb/store.js';
import type { Store } from '../store/store.js';
import { ADMIN_TOKEN, sleep, startStubUpstream, startTestGateway, storedRows, testConfig, waitFor, type StubUpstream } from './_test-helpers.js';
import type { RunningGateway } from './start.js';

/** The gateway's upstream connections, all of which the test holds busy. */
const UPSTREAM_CONNECTIONS = 256;

let stub: StubUpstream;
let gw: RunningGateway;
let duck: Store;

before(async () => {
  stub = await startStubUpstream();
  duck = await openDuckDbStore(':memory:');
  gw = await startTestGateway(testConfig(stub.url, { connections: { maxPerClient: 1000 } }), { store: duck });
});
after(async () => {
  await gw?.close();
  await duck?.close();
  await stub?.close();
});

async function rowsOf(account: string): Promise<number> {
  return (await storedRows(duck)).filter((row) => row.account_id === account).length;
}

async function setOverride(account: string, override: 'block' | null): Promise<void> {
  const r = await request(`${gw.adminUrl}/admin/accounts/${account}`, { method: 'PUT', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: JSON.stringify({ override }) });
  assert.equal(r.statusCode, 200);
  await r.body.dump();
}

const chat = (model: string) => JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }] });

test('a request cut by a block while it waits for an upstream connection is answered 403 and not recorded', async () => {
  // Every upstream connection held by requests the model never answers.
  const holders = new Pool(gw.url, { connections: UPSTREAM_CONNECTIONS });
  const held = Array.from({ length: UPSTREAM_CONNECTIONS }, () =>
    holders
      .request({ path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bob-0002' }, body: chat('hang') })
      .then((r) => r.body.dump(), () => undefined),
  );
  await waitFor(() => stub.requests === UPSTREAM_CONNECTIONS, 'every upstream connection busy', 30_000, 20);

  const waiting = request(gw.url + '/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-alice-0001' }, body: chat('m-queued') });
  await sleep(300);
  assert.equal(stub.requests, UPSTREAM_CONNECTIONS, 'the request waits for a connection');

  await setOverride('acct_alice', 'block');
  // The holders go; their calls end and free the connections, and the waiting one is cut as it starts.
  await holders.destroy();
  await Promise.all(held);
  const answer = await waiting;
  assert.equal(answer.statusCode, 403);
  assert.match(await answer.body.text(), /blocked/);
  await setOverride('acct_alice', null);

  await gw.analysis.drain();
  await gw.log.flush();
  assert.equal(stub.requests, UPSTREAM_CONNECTIONS, 'the cut request never reached the model');
  assert.equal(await rowsOf('acct_alice'), 0, 'the cut request recorded as an exchange');
  // The holders did reach it, and went before their answers: each is an exchange, recorded once.
  await waitFor(async () => (await rowsOf('acct_bob')) === UPSTREAM_CONNECTIONS, 'every held request recorded', 30_000, 100);
});
