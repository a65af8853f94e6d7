import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import OpenAI from 'openai';
import { pino } from 'pino';
import { openDuckDbStore } from '../store/duckdb/store.js';
import { startServer } from './start.js';
import type { TokenHolder } from '../gateway/admin/auth.js';
import { startTestGateway, testConfig, useStubUpstreamAndTempDir } from '../gateway/_test-helpers.js';

const fixture = useStubUpstreamAndTempDir('dw-serve-shadow-');
const VIEWER: TokenHolder = { name: 'vera', role: 'viewer', token: 'viewer-token-0123456789' };
const ANALYST: TokenHolder = { name: 'ana', role: 'analyst', token: 'analyst-token-0123456789' };

async function shadowOf(url: string): Promise<any> {
  const r = await request(url + '/api/v1/shadow', { headers: { authorization: `Bearer ${VIEWER.token}` } });
  assert.equal(r.statusCode, 200);
  return r.body.json();
}

test("serve shows a shadow-mode gateway's would-have-blocked counts, and says why when it has none to show", async () => {
  const gw = await startTestGateway(testConfig(fixture.stub.url, { policy: { mode: 'shadow' } }), { tokenHolders: [VIEWER, ANALYST] });
  const store = await openDuckDbStore(':memory:');
  const quiet = pino({ level: 'silent' });
  const listen = { host: '127.0.0.1', port: 0 };
  const servers = [
    await startServer({ store, listen, holders: [VIEWER], logger: quiet, gatewayAdmin: { url: gw.adminUrl, token: VIEWER.token } }),
    await startServer({ store, listen, holders: [VIEWER], logger: quiet }),
    await startServer({ store, listen, holders: [VIEWER], logger: quiet, gatewayAdmin: { url: gw.adminUrl, token: 'not-a-token-it-takes' } }),
  ];
  try {
    const put = await request(gw.adminUrl + '/admin/accounts/acct_mallory', { method: 'PUT', headers: { authorization: `Bearer ${ANALYST.token}` }, body: '{"blocked": true}' });
    assert.equal(put.statusCode, 200);
    await put.body.dump();
    const client = new OpenAI({ apiKey: 'sk-mallory-0003', baseURL: gw.url + '/v1', maxRetries: 0 });
    for (let i = 0; i < 2; i++) assert.ok((await client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'hi' }] })).choices.length > 0, 'served: shadow mode enforces nothing');
    const shown = await shadowOf(servers[0]!.url);
    assert.equal(shown.available, true);
    assert.equal(shown.mode, 'shadow');
    assert.equal(shown.would_have.block, 2);
    assert.deepEqual(shown.accounts.map((a: any) => [a.account_id, a.block]), [['acct_mallory', 2]]);
    const none = await shadowOf(servers[1]!.url);
    assert.deepEqual(none, { available: false, reason: 'No gateway named: start serve with --gateway-admin URL to show its shadow counts' });
    const refused = await shadowOf(servers[2]!.url);
    assert.equal(refused.available, false);
    assert.match(refused.reason, /answered 401 to GET \/admin\/shadow: give serve a token it takes \(DISTILLWATCH_GATEWAY_TOKEN\)/);
  } finally {
    for (const s of servers) await s.close();
    await store.close();
    await gw.close();
  }
});
