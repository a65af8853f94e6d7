import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Pool } from 'undici';
import { prepareSimulation } from '../traffic/simulate.js';
import type { Exchange } from '../core/exchange.js';
import type { Truth } from '../traffic/actors.js';
import { startStubUpstream, startTestGateway, testConfig, type StubUpstream } from './_test-helpers.js';
import type { RunningGateway } from './start.js';

const HARD_NEGATIVES = new Set(['saas', 'enterprise', 'university', 'eval_run', 'coding_agent', 'release_mover']);

let stub: StubUpstream;
let gw: RunningGateway;
let exchanges: Exchange[];
let truth: Truth;

before(async () => {
  const sim = await prepareSimulation({ scenario: 'demo', seed: 1 });
  exchanges = [...sim.exchanges];
  truth = sim.truth;
  const keys: Record<string, string> = {};
  for (const id of Object.keys(truth.accounts)) keys['sk-' + id] = id;
  stub = await startStubUpstream();
  // Linking every 50 ms of wall time while simulated days go by in seconds.
  // The test client stands for the edge: it is the one that sends edge metadata.
  gw = await startTestGateway(testConfig(stub.url, { keys, linkIntervalMs: 50, edge: { trustedAddresses: ['127.0.0.1/32'] } }));
});
after(async () => {
  await gw?.close();
  await stub?.close();
});

// The limit is a safety net, not a speed target: on a shared, loaded machine the run took over two minutes.
test('simulated campaign is blocked mid-run while hard-negative customers all pass', { timeout: 600_000 }, async () => {
  const pool = new Pool(gw.url, { connections: 16 });
  const outcomes = new Map<string, number[]>();
  let next = 0;
  // Replays in event-time order with a little concurrency, as the edge would deliver it.
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < exchanges.length) {
        const ex = exchanges[next++]!;
        const body = { ...ex.request, model: ex.model, max_tokens: ex.request.max_tokens ?? 256 };
        const edge = { ts: ex.ts, client: ex.client ?? {}, account: ex.account ?? {}, ...(ex.org_id ? { org_id: ex.org_id } : {}) };
        const r = await pool.request({
          path: '/v1/messages',
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': 'sk-' + ex.account_id, 'anthropic-version': '2023-06-01', 'x-distillwatch-edge': JSON.stringify(edge), ...(ex.client?.user_agent ? { 'user-agent': ex.client.user_agent } : {}) },
          body: JSON.stringify(body),
        });
        await r.body.dump();
        const list = outcomes.get(ex.account_id) ?? [];
        list.push(r.statusCode);
        outcomes.set(ex.account_id, list);
      }
    }),
  );
  await pool.close();

  let attackersStopped = 0;
  let attackersStoppedMidRun = 0;
  let attackers = 0;
  for (const [id, statuses] of outcomes) {
    const t = truth.accounts[id];
    if (!t) continue;
    if (HARD_NEGATIVES.has(t.population)) {
      assert.ok(statuses.every((s) => s === 200), `hard negative ${id} (${t.population}) was refused: ${statuses.filter((s) => s !== 200).slice(0, 3)}`);
    }
    if (t.malicious) {
      attackers++;
      const firstRefused = statuses.findIndex((s) => s === 403 || s === 429);
      if (firstRefused !== -1) {
        attackersStopped++;
        if (firstRefused > 0) attackersStoppedMidRun++;
      }
    }
  }
  assert.ok(attackers > 0);
  assert.ok(attackersStopped > 0, `no attacker account was throttled or blocked (of ${attackers})`);
  assert.ok(attackersStoppedMidRun > 0, 'a block arrived while an attacker account was running');
});
