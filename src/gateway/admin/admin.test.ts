import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { parseConfig } from '../config.js';
import { ADMIN_TOKEN, startStubUpstream, startTestGateway, testConfig, type StubUpstream } from '../_test-helpers.js';
import type { RunningGateway } from '../start.js';

let stub: StubUpstream;
let gw: RunningGateway;
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

before(async () => {
  stub = await startStubUpstream();
  gw = await startTestGateway(testConfig(stub.url));
});
after(async () => {
  await gw.close();
  await stub.close();
});

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const r = await request(url, { headers });
  return { status: r.statusCode, text: await r.body.text() };
}

async function put(path: string, body: string, headers: Record<string, string> = auth): Promise<{ status: number; message: string }> {
  const r = await request(gw.adminUrl + path, { method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body });
  const answer = (await r.body.json()) as { error?: { message: string } };
  return { status: r.statusCode, message: answer.error?.message ?? '' };
}

test('metrics, readiness and the admin routes answer on the admin address, not on the clients\' port', async () => {
  assert.notEqual(gw.adminPort, gw.port);
  for (const path of ['/metrics', '/readyz', '/admin/accounts/acct_alice']) {
    assert.equal((await get(gw.url + path, auth)).status, 404, `${path} on the clients' port`);
  }
  assert.equal((await get(gw.url + '/healthz')).status, 200, 'liveness on the clients\' port');
  assert.equal((await get(gw.adminUrl + '/healthz')).status, 200, 'and on the admin port');
  assert.equal((await get(gw.adminUrl + '/readyz')).status, 200);
  assert.equal((await get(gw.adminUrl + '/metrics')).status, 401, 'metrics need the token');
  const metrics = await get(gw.adminUrl + '/metrics', auth);
  assert.equal(metrics.status, 200);
  assert.match(metrics.text, /distillwatch_gateway_requests_total/);
  assert.equal((await get(gw.adminUrl + '/admin/accounts/acct_alice', auth)).status, 200);
});

test('the admin address defaults to loopback, apart from the clients\' port', () => {
  const r = parseConfig({ upstream: 'http://127.0.0.1:9000' });
  assert.ok(r.ok);
  assert.deepEqual(r.config.adminListen, { host: '127.0.0.1', port: 8788 });
  assert.deepEqual(r.config.listen, { host: '127.0.0.1', port: 8787 });
});

test('an admin body that is not an object of known keys is refused with 400 naming what is wrong, and changes nothing', async () => {
  const cases: [string, RegExp][] = [
    ['null', /must be a JSON object/],
    ['"x"', /must be a JSON object/],
    ['[]', /must be a JSON object/],
    ['{"blockd": true}', /unknown key "blockd"/],
    ['{"blocked": "yes"}', /"blocked" must be true or false/],
    ['{"override": "nuke"}', /"override" must be allow, flag, throttle, degrade, block or null/],
    ['{not json', /the body is not JSON/],
  ];
  for (const [body, why] of cases) {
    const r = await put('/admin/accounts/acct_bob', body);
    assert.equal(r.status, 400, body);
    assert.match(r.message, why, body);
  }
  const shown = JSON.parse((await get(gw.adminUrl + '/admin/accounts/acct_bob', auth)).text) as { standing: { blocked: boolean; override: unknown } };
  assert.deepEqual([shown.standing.blocked, shown.standing.override], [false, null]);
  const ok = await put('/admin/accounts/acct_bob', '{"blocked": false, "override": null}');
  assert.equal(ok.status, 200);
});

test('the admin token is checked before the path is decoded or the body read', async () => {
  assert.equal((await get(gw.adminUrl + '/admin/accounts/%E0%A4%A')).status, 401);
  assert.equal((await put('/admin/accounts/x', 'null', {})).status, 401);
  assert.equal((await put('/admin/accounts/x', 'null', { authorization: 'Bearer wrong' })).status, 401);
  const bad = await get(gw.adminUrl + '/admin/accounts/%E0%A4%A', auth);
  assert.equal(bad.status, 400);
  assert.match(bad.text, /percent-encoding/);
  const r = await request(gw.adminUrl + '/admin/accounts/x', { method: 'DELETE', headers: auth });
  assert.equal(r.statusCode, 405);
  await r.body.dump();
});

test('the admin routes honour the API roles: no token 401, a viewer reads but cannot change an account (403), an analyst can', async () => {
  const holders = [
    { name: 'vera', role: 'viewer' as const, token: 'viewer-token-0123456789' },
    { name: 'ana', role: 'analyst' as const, token: 'analyst-token-0123456789' },
    { name: 'root', role: 'admin' as const, token: ADMIN_TOKEN },
  ];
  const roled = await startTestGateway(testConfig(stub.url), { tokenHolders: holders });
  try {
    const as = (token: string) => ({ authorization: `Bearer ${token}` });
    const change = async (headers: Record<string, string>) => {
      const r = await request(roled.adminUrl + '/admin/accounts/acct_carol', { method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body: '{"blocked": true}' });
      return { status: r.statusCode, body: (await r.body.json()) as { error?: { type: string; message: string } } };
    };
    const standing = async () => (JSON.parse((await get(roled.adminUrl + '/admin/accounts/acct_carol', as(holders[0]!.token))).text) as { standing: { blocked: boolean } }).standing.blocked;
    for (const path of ['/metrics', '/admin/shadow', '/admin/accounts/acct_carol']) {
      assert.equal((await get(roled.adminUrl + path)).status, 401, `${path} without a token`);
      assert.equal((await get(roled.adminUrl + path, { authorization: 'Bearer not-a-token-of-anyone' })).status, 401, `${path} with an unknown token`);
      for (const h of holders) assert.equal((await get(roled.adminUrl + path, as(h.token))).status, 200, `${path} read by the ${h.role}`);
    }
    assert.equal((await change({})).status, 401);
    const denied = await change(as(holders[0]!.token));
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error?.type, 'permission_error');
    assert.match(denied.body.error?.message ?? '', /viewer role cannot PUT \/admin\/accounts\/: it needs analyst/);
    assert.equal(await standing(), false, 'the viewer changed nothing');
    assert.equal((await change(as(holders[1]!.token))).status, 200, 'an analyst decides');
    assert.equal(await standing(), true);
    const r = await request(roled.adminUrl + '/admin/accounts/acct_carol', { method: 'PUT', headers: { 'content-type': 'application/json', ...as(holders[2]!.token) }, body: '{"blocked": false}' });
    assert.equal(r.statusCode, 200, 'an admin does all');
    await r.body.dump();
    assert.equal(await standing(), false);
  } finally {
    await roled.close();
  }
});
