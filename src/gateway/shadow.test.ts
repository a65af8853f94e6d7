import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import OpenAI from 'openai';
import { ADMIN_TOKEN, startTestGateway, testConfig, useStubUpstreamAndTempDir } from './_test-helpers.js';

const fixture = useStubUpstreamAndTempDir('dw-shadow-');
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

async function admin(url: string, method: 'GET' | 'PUT' = 'GET', body?: unknown): Promise<{ status: number; text: string }> {
  const r = await request(url, { method, headers: auth, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return { status: r.statusCode, text: await r.body.text() };
}

test('in shadow mode a blocked account is served, and the block it would have had is counted in metrics and the admin API', async () => {
  const gw = await startTestGateway(testConfig(fixture.stub.url, { policy: { mode: 'shadow' } }));
  try {
    const client = new OpenAI({ apiKey: 'sk-mallory-0003', baseURL: gw.url + '/v1', maxRetries: 0 });
    assert.equal((await admin(gw.adminUrl + '/admin/accounts/acct_mallory', 'PUT', { blocked: true })).status, 200);
    for (let i = 0; i < 3; i++) {
      const r = await client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'hi' }] });
      assert.ok(r.choices.length > 0, 'served despite the block');
    }
    await new OpenAI({ apiKey: 'sk-alice-0001', baseURL: gw.url + '/v1', maxRetries: 0 }).chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'hi' }] });
    const metrics = await admin(gw.adminUrl + '/metrics');
    assert.match(metrics.text, /distillwatch_gateway_shadow_actions_total\{action="block"\} 3/);
    assert.match(metrics.text, /distillwatch_gateway_actions_total\{action="allow"\} 4/, 'every request was allowed');
    const view = JSON.parse((await admin(gw.adminUrl + '/admin/shadow')).text) as { mode: string; would_have: { block: number }; accounts: { account_id: string; block: number }[] };
    assert.equal(view.mode, 'shadow');
    assert.equal(view.would_have.block, 3);
    assert.deepEqual(view.accounts.map((a) => [a.account_id, a.block]), [['acct_mallory', 3]]);
    assert.equal((await request(gw.adminUrl + '/admin/shadow').then(async (r) => (await r.body.dump(), r.statusCode))), 401);
  } finally {
    await gw.close();
  }
});

test('in enforce mode (the default) the same block refuses the account and nothing is counted as shadow', async () => {
  const gw = await startTestGateway(testConfig(fixture.stub.url));
  try {
    assert.equal((await admin(gw.adminUrl + '/admin/accounts/acct_mallory', 'PUT', { blocked: true })).status, 200);
    const client = new OpenAI({ apiKey: 'sk-mallory-0003', baseURL: gw.url + '/v1', maxRetries: 0 });
    await assert.rejects(client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'hi' }] }), (e: unknown) => e instanceof OpenAI.PermissionDeniedError);
    const view = JSON.parse((await admin(gw.adminUrl + '/admin/shadow')).text) as { mode: string; would_have: { block: number } };
    assert.deepEqual([view.mode, view.would_have.block], ['enforce', 0]);
  } finally {
    await gw.close();
  }
});
