import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExchangeFeatures } from '../core/features.js';
import { Analysis } from './analysis.js';
import type { FinishedRequest } from './record.js';
import { recordExchange } from './record.js';
import { prepareSimulation } from '../traffic/simulate.js';

const enc = new TextEncoder();

function finished(n: number, extra: Partial<FinishedRequest> = {}): FinishedRequest {
  return {
    id: `gw_t_${n}`,
    api: 'openai',
    accountId: 'acct_t',
    apiKeyId: 'key_t',
    body: enc.encode(JSON.stringify({ model: 'm1', messages: [{ role: 'user', content: `Write a function that adds ${n} to a list of numbers.` }] })),
    response: { kind: 'bytes', value: enc.encode(JSON.stringify({ id: 'c', object: 'chat.completion', model: 'm1', choices: [{ index: 0, message: { role: 'assistant', content: 'def f(xs): ...' }, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } })) },
    status: 200,
    startedAt: Date.parse('2026-05-01T10:00:00Z') + n * 1000,
    latencyMs: 12.4,
    action: 'allow',
    userAgent: 'my-app/1.0',
    remoteAddress: '203.0.113.9',
    ...extra,
  };
}

test('a finished request becomes the exchange the scanner would have read from the log', () => {
  const r = recordExchange(finished(1), { logPrompts: false });
  assert.ok(r !== null && r.ok);
  const f = r.value.features;
  assert.equal(f.id, 'gw_t_1');
  assert.equal(f.account_id, 'acct_t');
  assert.equal(f.model, 'm1');
  assert.equal(f.status, 200);
  assert.equal(f.prompt_preview, null, 'no prompt text unless enabled');
  assert.deepEqual(r.value.log, { id: 'gw_t_1', account: 'acct_t', api: 'openai', status: 200, action: 'allow', latency_ms: 12 });
  const withPrompt = recordExchange(finished(1), { logPrompts: true });
  assert.ok(withPrompt !== null && withPrompt.ok);
  assert.match(withPrompt.value.log.prompt ?? '', /adds 1/);
});

test('a body that is not JSON is not recorded, and an unreadable response keeps the request', () => {
  assert.equal(recordExchange(finished(2, { body: enc.encode('not json') }), { logPrompts: false }), null);
  const r = recordExchange(finished(3, { response: { kind: 'assembled', value: { choices: 'not a list' } } }), { logPrompts: false });
  assert.ok(r !== null && r.ok, 'the exchange is kept without its response');
});

test('the edge header, when trusted, sets event time and client', () => {
  const edge = JSON.stringify({ ts: '2026-05-02T00:00:00Z', client: { ip: '198.51.100.7', user_agent: 'edge-ua' }, org_id: 'org_9' });
  const r = recordExchange(finished(4, { edgeHeader: edge }), { logPrompts: false });
  assert.ok(r !== null && r.ok);
  assert.equal(r.value.features.ts, Date.parse('2026-05-02T00:00:00Z'));
  assert.equal(r.value.features.org_id, 'org_9');
});

test('analysis worker: features come back in batches and the engine sees every exchange', async () => {
  const rows: ExchangeFeatures[] = [];
  const a = new Analysis(
    { linkIntervalMs: 60_000, publishRisk: 0.5, logPrompts: false },
    { onRecorded: (r) => rows.push(...r), onFailure: () => assert.fail('no failure expected'), onRisk: () => {}, onWorkerError: (e) => assert.fail(e.message) },
  );
  try {
    for (let i = 0; i < 50; i++) a.submit(finished(i));
    const { observed } = await a.verdictOf('acct_t');
    assert.equal(observed, 50, 'a question asked after submitting is answered after those requests');
    await a.drain();
    assert.equal(rows.length, 50);
    assert.equal(a.backlog, 0);
  } finally {
    await a.close();
  }
});

test('analysis worker: when it dies, a new one takes over and no exchange misses the log', async () => {
  const rows: ExchangeFeatures[] = [];
  const errors: string[] = [];
  const a = new Analysis(
    { linkIntervalMs: 60_000, publishRisk: 0.5, logPrompts: false, exitOnBatch: 2 },
    { onRecorded: (r) => rows.push(...r), onFailure: () => {}, onRisk: () => {}, onWorkerError: (e) => errors.push(e.message) },
  );
  try {
    // The batching timer is faked so that each ten requests make exactly one batch: three batches.
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      for (let i = 0; i < 30; i++) {
        a.submit(finished(i));
        if (i % 10 === 9) mock.timers.tick(60_000);
      }
    } finally {
      mock.timers.reset();
    }
    await a.drain();
    assert.equal(a.restarts, 1);
    assert.match(errors.join('\n'), /exited with code 70/);
    assert.deepEqual(rows.map((r) => r.id).sort(), Array.from({ length: 30 }, (_, i) => `gw_t_${i}`).sort());
  } finally {
    await a.close();
  }
});

test('analysis worker: a policy reload that lowers the acting risk publishes standings it held back', { timeout: 60_000 }, async () => {
  const sim = await prepareSimulation({ scenario: 'demo', seed: 1 });
  const published = new Set<string>();
  const a = new Analysis(
    // Campaigns and lone accounts can never be flagged here: attackers stay suspicious.
    { linkIntervalMs: 3_600_000, publishRisk: 1, logPrompts: false, params: { campaignConfidence: 1, aloneDistillationRisk: 1, minCampaignAccounts: 1_000_000 } },
    { onRecorded: () => {}, onFailure: () => {}, onRisk: (u) => u.forEach((x) => published.add(x.accountId)), onWorkerError: (e) => assert.fail(e.message) },
  );
  try {
    let n = 0;
    for (const ex of sim.exchanges) {
      const edge = { ts: ex.ts, client: ex.client ?? {}, account: ex.account ?? {}, ...(ex.org_id ? { org_id: ex.org_id } : {}) };
      a.submit({
        id: `gw_sim_${n++}`,
        api: 'anthropic',
        accountId: ex.account_id,
        apiKeyId: 'key_' + ex.account_id,
        body: enc.encode(JSON.stringify({ ...ex.request, model: ex.model, max_tokens: ex.request.max_tokens ?? 256 })),
        response: null,
        status: 200,
        startedAt: Date.parse(ex.ts),
        latencyMs: 100,
        action: 'allow',
        edgeHeader: JSON.stringify(edge),
        ...(ex.client?.user_agent ? { userAgent: ex.client.user_agent } : {}),
      });
    }
    await a.link();
    assert.equal(published.size, 0, 'no suspicious account reaches a risk of 1');
    a.setPublishRisk(0.5);
    await a.link();
    assert.ok(published.size > 0, 'suspicious accounts at or above 0.5 are published once the threshold is lowered');
    const malicious = new Set(Object.entries(sim.truth.accounts).filter(([, t]) => t.operator).map(([id]) => id));
    for (const id of published) assert.ok(malicious.has(id), `${id} is an attacker`);
  } finally {
    await a.close();
  }
});
