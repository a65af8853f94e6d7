import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import OpenAI from 'openai';
import { pino } from 'pino';
import { openDuckDbStore } from '../store/duckdb/store.js';
import type { Store } from '../store/store.js';
import type { ScanReport } from '../core/report.js';
import { detect, scan } from '../pipeline/scan.js';
import { writeSimulation } from '../traffic/simulate.js';
import { startServer, type RunningServer } from './start.js';
import type { TokenHolder } from '../gateway/admin/auth.js';
import { ADMIN_TOKEN, startRedis, startStubUpstream, startTestGateway, testConfig, waitFor, type RedisServer, type StubUpstream } from '../gateway/_test-helpers.js';

const HOLDERS: TokenHolder[] = [
  { name: 'vera', role: 'viewer', token: 'viewer-token-0123456789' },
  { name: 'ana', role: 'analyst', token: 'analyst-token-0123456789' },
  { name: 'admin', role: 'admin', token: 'admin-token-0123456789ab' },
];
const as = (role: 'viewer' | 'analyst' | 'admin') => ({ authorization: `Bearer ${HOLDERS.find((h) => h.role === role)!.token}` });

const dir = mkdtempSync(join(tmpdir(), 'dw-api-'));
let store: Store;
let report: ScanReport;
let redis: RedisServer;
let stub: StubUpstream;
let server: RunningServer;

async function call(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; json: any }> {
  const r = await request(server.url + path, { method: method as 'GET', headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });
  const text = await r.body.text();
  return { status: r.statusCode, json: text ? JSON.parse(text) : null };
}
const get = (path: string, role: 'viewer' | 'analyst' | 'admin' = 'viewer') => call('GET', path, as(role));

before(async () => {
  const traffic = join(dir, 'traffic.jsonl');
  await writeSimulation({ scenario: 'demo', seed: 3, out: traffic, truthOut: join(dir, 'truth.json') });
  store = await openDuckDbStore(join(dir, 'api.duckdb'));
  const r = await scan({ inputs: [traffic], store, featureWorkers: 0 });
  report = r.report!;
  assert.ok(report.campaigns.length >= 2, 'the demo has campaigns to look at');
  redis = await startRedis();
  stub = await startStubUpstream();
  server = await startServer({ store, listen: { host: '127.0.0.1', port: 0 }, holders: HOLDERS, redisUrl: redis.url, logger: pino({ level: 'silent' }) });
});
after(async () => {
  await server?.close();
  await store?.close();
  await stub?.close();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const ROUTES = ['/api/v1/overview', '/api/v1/campaigns/x/graph', '/api/v1/campaigns', '/api/v1/campaigns/x', '/api/v1/campaigns/x/timeline', '/api/v1/campaigns/x/dossier', '/api/v1/accounts/x', '/api/v1/accounts/x/exchanges', '/api/v1/search?kind=ip&value=1', '/api/v1/review-queue', '/api/v1/decisions', '/api/v1/audit', '/api/v1/shadow', '/api/v1/openapi.json'];

describe('the investigation API', () => {
  it('answers 401 to every API route without a valid token, and names every route in its OpenAPI document', async () => {
    for (const path of ROUTES) {
      assert.equal((await call('GET', path, {})).status, 401, path);
      assert.equal((await call('GET', path, { authorization: 'Bearer wrong-token-0123456789' })).status, 401, path);
    }
    assert.equal((await call('POST', '/api/v1/decisions', {}, { target: { kind: 'account', id: 'x' }, kind: 'block' })).status, 401);
    assert.equal((await call('GET', '/healthz', {})).status, 200);
    const doc = await get('/api/v1/openapi.json');
    assert.equal(doc.status, 200);
    assert.equal(doc.json.openapi, '3.1.0');
    for (const p of ['/api/v1/overview', '/api/v1/campaigns/{id}/graph', '/api/v1/campaigns', '/api/v1/campaigns/{id}', '/api/v1/campaigns/{id}/timeline', '/api/v1/campaigns/{id}/dossier', '/api/v1/accounts/{id}', '/api/v1/accounts/{id}/exchanges', '/api/v1/search', '/api/v1/review-queue', '/api/v1/decisions', '/api/v1/audit', '/api/v1/shadow']) {
      assert.ok(doc.json.paths[p], `${p} in the OpenAPI document`);
    }
    assert.ok(doc.json.components.schemas.DecisionRequest, 'the request schemas are in the document');
  });

  it('lists campaigns as the report has them, filtered, sorted and paged', async () => {
    const all = await get('/api/v1/campaigns?limit=500');
    assert.equal(all.status, 200);
    assert.equal(all.json.total, report.campaigns.length);
    assert.deepEqual(new Set(all.json.items.map((c: { id: string }) => c.id)), new Set(report.campaigns.map((c) => c.id)));
    const conf = all.json.items.map((c: { confidence: number }) => c.confidence);
    assert.deepEqual(conf, [...conf].sort((a, b) => b - a), 'highest confidence first by default');
    const bySize = await get('/api/v1/campaigns?sort=accounts&order=asc&limit=1&offset=0');
    assert.equal(bySize.json.items.length, 1);
    assert.equal(bySize.json.items[0].accounts, Math.min(...report.campaigns.map((c) => c.accounts.length)));
    const min = Math.max(...report.campaigns.map((c) => c.confidence));
    const top = await get(`/api/v1/campaigns?min_confidence=${min}`);
    assert.equal(top.json.total, report.campaigns.filter((c) => c.confidence >= min).length);
    const bad = await get('/api/v1/campaigns?sort=size');
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /"sort"/);
  });

  it('shows a campaign with its members, timeline and an account with findings, exchanges and links', async () => {
    const c = report.campaigns[0]!;
    const d = await get(`/api/v1/campaigns/${c.id}`);
    assert.equal(d.status, 200);
    assert.deepEqual(d.json.members.map((m: { account_id: string }) => m.account_id), c.accounts);
    assert.equal(d.json.campaign.explanation, c.explanation);
    assert.deepEqual(d.json.campaign.tactics, c.tactics);
    const t = await get(`/api/v1/campaigns/${c.id}/timeline`);
    assert.equal(t.status, 200);
    const perHour = t.json.activity.reduce((n: number, a: { exchanges: number }) => n + a.exchanges, 0);
    const memberExchanges = report.accounts.filter((a) => c.accounts.includes(a.account_id)).reduce((n, a) => n + a.exchanges, 0);
    assert.equal(perHour, memberExchanges, 'the hourly activity counts every exchange of the members');
    assert.ok(t.json.flags.length > 0, 'the flag times are on the timeline');
    const member = report.accounts.find((a) => a.account_id === c.accounts[0])!;
    const a = await get(`/api/v1/accounts/${member.account_id}`);
    assert.equal(a.status, 200);
    assert.equal(a.json.verdict, member.verdict);
    assert.deepEqual(a.json.findings, member.reasons);
    assert.equal(a.json.links.campaign_id, c.id);
    const ex = await get(`/api/v1/accounts/${member.account_id}/exchanges?limit=5&offset=1`);
    assert.equal(ex.status, 200);
    assert.equal(ex.json.total, member.exchanges);
    assert.equal(ex.json.items.length, Math.min(5, member.exchanges - 1));
    assert.ok(ex.json.items.every((e: Record<string, unknown>) => !('prompt' in e) && 'prompt_preview' in e), 'previews only');
    assert.equal((await get('/api/v1/campaigns/cmp_nope')).status, 404);
    assert.equal((await get('/api/v1/campaigns/cmp_nope/timeline')).status, 404);
    assert.equal((await get('/api/v1/accounts/acct_nope')).status, 404);
    assert.equal((await get('/api/v1/accounts/acct_nope/exchanges')).status, 404);
    assert.equal((await get(`/api/v1/accounts/${member.account_id}/exchanges?limit=0`)).status, 400);
  });

  it('gives the overview: scale, every campaign, exchanges per hour over the store, flag times, capabilities, the queue length', async () => {
    const o = await get('/api/v1/overview');
    assert.equal(o.status, 200);
    assert.equal(o.json.exchanges, report.input.exchanges);
    assert.equal(o.json.accounts, report.input.accounts);
    assert.deepEqual(new Set(o.json.campaigns.map((c: { id: string }) => c.id)), new Set(report.campaigns.map((c) => c.id)));
    const perHour = o.json.hourly.reduce((n: number, h: { exchanges: number }) => n + h.exchanges, 0);
    assert.equal(perHour, report.input.exchanges, 'the hourly counts add up to every exchange in the store');
    const hours = o.json.hourly.map((h: { hour: string }) => h.hour);
    assert.deepEqual(hours, [...hours].sort(), 'in time order');
    assert.ok(hours.every((h: string) => /^\d{4}-\d\d-\d\dT\d\d:00:00\.000Z$/.test(h)), 'each on the hour, UTC');
    assert.deepEqual(o.json.flags.map((f: { campaign_id: string }) => f.campaign_id).sort(), report.campaigns.filter((c) => c.first_flagged_at).map((c) => c.id).sort());
    const top = report.campaigns[0]!;
    const [topCap, share] = Object.entries(top.capabilities).sort((a, b) => b[1] - a[1])[0]!;
    assert.ok(o.json.capabilities[topCap] >= Math.round(share * top.exchanges), 'capabilities weighted by the campaigns\' exchanges');
    assert.equal(o.json.review_queue, (await get('/api/v1/review-queue')).json.total);
  });

  it("draws a campaign's graph from who holds which shared indicator, and its capabilities per hour", async () => {
    const c = report.campaigns[0]!;
    const g = await get(`/api/v1/campaigns/${c.id}/graph`);
    assert.equal(g.status, 200);
    const accounts = g.json.nodes.filter((n: { type: string }) => n.type === 'account').map((n: { id: string }) => n.id);
    assert.deepEqual(accounts, c.accounts, 'every member is a node');
    const indicators = g.json.nodes.filter((n: { type: string }) => n.type === 'indicator') as { id: string; kind: string; value: string }[];
    assert.ok(indicators.length > 0, 'the shared indicators are nodes');
    for (const ind of indicators) {
      const drawn = g.json.edges.filter((e: { target: string }) => e.target === ind.id).map((e: { source: string }) => e.source).sort();
      const found = await get(`/api/v1/search?kind=${ind.kind}&value=${encodeURIComponent(ind.value)}&limit=1000`);
      const members = found.json.accounts.map((a: { account_id: string }) => a.account_id).filter((a: string) => c.accounts.includes(a)).sort();
      assert.deepEqual(drawn, members, `${ind.id}: an edge from each member whose exchanges carry it`);
    }
    assert.ok(g.json.edges.every((e: { source: string }) => c.accounts.includes(e.source)), 'edges only from members');
    assert.equal((await get('/api/v1/campaigns/cmp_nope/graph')).status, 404);
    const t = await get(`/api/v1/campaigns/${c.id}/timeline`);
    const perCap = t.json.capabilities.reduce((n: number, x: { exchanges: number }) => n + x.exchanges, 0);
    assert.equal(perCap, t.json.activity.reduce((n: number, a: { exchanges: number }) => n + a.exchanges, 0), 'the capability counts cover the same exchanges');
    assert.ok(t.json.capabilities.every((x: { elicitation: number }) => x.elicitation >= 0 && x.elicitation <= 1));
  });

  it('finds the accounts that hold an indicator', async () => {
    const c = report.campaigns.find((x) => x.indicators.user_agents.length > 0)!;
    const ua = c.indicators.user_agents[0]!;
    const r = await get(`/api/v1/search?kind=user_agent&value=${encodeURIComponent(ua)}`);
    assert.equal(r.status, 200);
    assert.ok(r.json.campaigns.includes(c.id));
    const holders = new Set(r.json.accounts.map((a: { account_id: string }) => a.account_id));
    assert.ok(c.accounts.some((a) => holders.has(a)), 'members hold their user agent');
    const bad = await get('/api/v1/search?kind=colour&value=red');
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /"kind"/);
  });

  it('lets a viewer read but not decide; refuses bad decisions naming the field; audits every decision', async () => {
    const c = report.campaigns[1]!;
    const queue = await get('/api/v1/review-queue');
    assert.equal(queue.status, 200);
    const flagged = queue.json.items.map((i: { flagged_at: string }) => i.flagged_at);
    assert.deepEqual(flagged, [...flagged].sort(), 'oldest first');
    assert.ok(queue.json.items.some((i: { id: string }) => i.id === c.id));
    const body = { target: { kind: 'campaign', id: c.id }, kind: 'dismiss', reason: 'research_partner', note: 'a university eval we signed' };
    const denied = await call('POST', '/api/v1/decisions', as('viewer'), body);
    assert.equal(denied.status, 403);
    const cases: [unknown, RegExp][] = [
      [{ ...body, reason: 'bored' }, /"reason"/],
      [{ target: { kind: 'campaign', id: c.id }, kind: 'snooze', until: 'tomorrow' }, /"until"/],
      [{ target: { kind: 'campaign', id: c.id }, kind: 'snooze', until: '2020-01-01T00:00:00Z' }, /"until": must be in the future/],
      [{ target: { kind: 'planet', id: c.id }, kind: 'block' }, /"target.kind"/],
      [{ ...body, colour: 'red' }, /unknown key "colour"/],
      ['{not json', /body/],
    ];
    for (const [b, why] of cases) {
      const r = await call('POST', '/api/v1/decisions', as('analyst'), b);
      assert.equal(r.status, 400, JSON.stringify(b));
      assert.match(r.json.error.message, why);
    }
    assert.equal((await call('POST', '/api/v1/decisions', as('analyst'), { ...body, target: { kind: 'campaign', id: 'cmp_nope' } })).status, 404);
    const made = await call('POST', '/api/v1/decisions', as('analyst'), body);
    assert.equal(made.status, 200);
    assert.equal(made.json.decision.actor, 'ana');
    assert.deepEqual(made.json.decision.accounts, c.accounts);
    assert.ok(made.json.decision.marks.length > 0, 'the dismissed campaign keeps its distinctive indicators');
    assert.ok(made.json.accounts.every((a: { after: { override: string } }) => a.after.override === 'allow'));
    const audit = await get(`/api/v1/audit?target_kind=campaign&target_id=${c.id}`);
    assert.equal(audit.json.total, 1);
    assert.deepEqual(
      { actor: audit.json.items[0].actor, role: audit.json.items[0].role, action: audit.json.items[0].action, before: audit.json.items[0].before, after: audit.json.items[0].after.kind },
      { actor: 'ana', role: 'analyst', action: 'decision.dismiss', before: null, after: 'dismiss' },
    );
    assert.match(audit.json.items[0].why, /research_partner: a university eval/);
    const after = await get('/api/v1/review-queue');
    assert.ok(!after.json.items.some((i: { id: string }) => i.id === c.id), 'a decided campaign leaves the queue');
    const shown = await get(`/api/v1/campaigns/${c.id}`);
    assert.equal(shown.json.decision.kind, 'dismiss');
    assert.equal((await get('/api/v1/campaigns?decision=dismiss')).json.total, 1);
    assert.equal((await get('/api/v1/decisions')).json.items.length, 1);
  });

  it('refuses a bad audit query with 400 naming the field, and a bad page of exchanges or campaigns too', async () => {
    for (const [path, field] of [['/api/v1/audit?limit=0', 'limit'], ['/api/v1/audit?target_kind=planet&target_id=x', 'target_kind'], ['/api/v1/campaigns?sort=colour', 'sort'], ['/api/v1/campaigns?offset=-1', 'offset']] as const) {
      const r = await get(path);
      assert.equal(r.status, 400, path);
      assert.match(r.json.error.message, new RegExp(`"${field}"`), path);
    }
  });

  it('a rescan shows the dismissal beside the verdicts and does not raise the dismissed accounts again on the same indicators', async () => {
    const c = report.campaigns[1]!;
    const { report: again } = await detect({ store });
    const rc = again.campaigns.find((x) => x.id === c.id)!;
    assert.equal(rc.decision?.kind, 'dismiss');
    assert.equal(rc.decision?.actor, 'ana');
    const members = again.accounts.filter((a) => c.accounts.includes(a.account_id));
    const raisedBefore = report.accounts.filter((a) => c.accounts.includes(a.account_id) && a.verdict !== 'benign');
    assert.ok(raisedBefore.length > 0, 'the dismissed campaign had raised accounts');
    for (const a of members) {
      assert.equal(a.verdict, 'benign', a.account_id);
      assert.equal(a.decision?.kind, 'dismiss');
    }
    assert.deepEqual(new Set(members.filter((a) => a.engine_verdict).map((a) => a.account_id)), new Set(raisedBefore.map((a) => a.account_id)), 'the engine\'s verdict is kept beside');
    const latest = await store.latestReport();
    assert.equal(latest?.campaigns.find((x) => x.id === c.id)?.decision?.kind, 'dismiss', 'the saved report carries it too');
  });

  it('a block made through the API stops the real gateway serving the account within a second', async () => {
    const c = report.campaigns[0]!;
    const member = c.accounts[0]!;
    const gw = await startTestGateway(testConfig(stub.url, { redisUrl: redis.url, replicaId: 'g1', keys: { 'sk-member-0001': member } }));
    try {
      const client = new OpenAI({ apiKey: 'sk-member-0001', baseURL: gw.url + '/v1', maxRetries: 0 });
      const ask = () => client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'hi' }] });
      await ask();
      const made = await call('POST', '/api/v1/decisions', as('admin'), { target: { kind: 'account', id: member }, kind: 'block', note: 'confirmed by hand' });
      assert.equal(made.status, 200);
      const start = performance.now();
      let refused = false;
      while (!refused && performance.now() - start < 1000) {
        try {
          await ask();
        } catch (e) {
          refused = e instanceof OpenAI.PermissionDeniedError;
        }
      }
      assert.ok(refused, 'the gateway still served the account a second after the block');
      // Recorded in the store as the gateway's own admin route records it, so a restart keeps it.
      const history = await store.decisionHistory(member);
      assert.deepEqual(history.at(-1)?.after, { override: null, blocked: true });
      assert.equal(history.at(-1)?.actor, 'admin');
    } finally {
      await gw.close();
    }
  });
});

describe('the investigation API on a gateway with a store', () => {
  it('answers on the admin address, and a block made through it refuses the account at once', async () => {
    const gwStore = await openDuckDbStore(':memory:');
    const gw = await startTestGateway(testConfig(stub.url, { replicaId: 'solo' }), { store: gwStore, tokenHolders: HOLDERS });
    try {
      const client = new OpenAI({ apiKey: 'sk-mallory-0003', baseURL: gw.url + '/v1', maxRetries: 0 });
      const ask = () => client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'hi' }] });
      await ask();
      await waitFor(() => gwStore.hasAccount('acct_mallory'), 'the exchange to reach the store');
      const api = (method: string, path: string, headers: Record<string, string>, body?: unknown) =>
        request(gw.adminUrl + path, { method: method as 'GET', headers: { ...headers, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) }).then(async (r) => ({ status: r.statusCode, json: (await r.body.json()) as any }));
      assert.equal((await api('GET', '/api/v1/accounts/acct_mallory/exchanges', {})).status, 401);
      const ex = await api('GET', '/api/v1/accounts/acct_mallory/exchanges', as('viewer'));
      assert.equal(ex.status, 200);
      assert.equal(ex.json.total, 1);
      assert.equal((await api('POST', '/api/v1/decisions', as('viewer'), { target: { kind: 'account', id: 'acct_mallory' }, kind: 'block' })).status, 403);
      const made = await api('POST', '/api/v1/decisions', as('analyst'), { target: { kind: 'account', id: 'acct_mallory' }, kind: 'block', note: 'seen enough' });
      assert.equal(made.status, 200);
      await assert.rejects(ask(), (e: unknown) => e instanceof OpenAI.PermissionDeniedError);
      const audit = await api('GET', '/api/v1/audit', as('viewer'));
      assert.equal(audit.json.items[0].action, 'decision.block');
      assert.equal(audit.json.items[0].actor, 'ana');
      assert.equal((await gwStore.decisionHistory('acct_mallory')).at(-1)?.origin, 'solo');
      // The gateway's own admin route is audited in the same log.
      const put = await request(gw.adminUrl + '/admin/accounts/acct_bob', { method: 'PUT', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: JSON.stringify({ override: 'throttle' }) });
      assert.equal(put.statusCode, 200);
      await put.body.dump();
      const bob = await api('GET', '/api/v1/audit?target_kind=account&target_id=acct_bob', as('viewer'));
      assert.deepEqual(
        bob.json.items.map((e: any) => [e.actor, e.action, e.before, e.after]),
        [['admin', 'account.change', { override: null, blocked: false }, { override: 'throttle', blocked: false }]],
      );
    } finally {
      await gw.close();
      await gwStore.close();
    }
  });
});
