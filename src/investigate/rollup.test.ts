import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDuckDbStore } from '../store/duckdb/store.js';
import type { Store } from '../store/store.js';
import type { ScanReport } from '../core/report.js';
import { scan } from '../pipeline/scan.js';
import { writeSimulation } from '../traffic/simulate.js';
import { campaignTimeline } from './campaigns.js';
import { campaignGraph, computeCampaignGraph } from './graph.js';
import { overview } from './overview.js';
import { currentDecisions } from './decisions.js';

const dir = mkdtempSync(join(tmpdir(), 'dw-rollup-'));
let store: Store;
let report: ScanReport;

/** The same store with no rollup: every read counts the exchanges, as before rollups. */
const unrolled = (s: Store): Store => Object.assign(Object.create(s) as Store, { rolledTimeline: async () => null, rolledTotals: async () => null, rolledGraph: async () => null });

before(async () => {
  const traffic = join(dir, 'traffic.jsonl');
  await writeSimulation({ scenario: 'demo', seed: 4, out: traffic, truthOut: join(dir, 'truth.json') });
  store = await openDuckDbStore(join(dir, 'rollup.duckdb'));
  report = (await scan({ inputs: [traffic], store, featureWorkers: 0 })).report!;
  assert.ok(report.campaigns.length >= 2, 'the demo has campaigns');
});
after(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the rollup a scan writes', () => {
  it('gives every campaign the same timeline as counting its exchanges does', async () => {
    for (const c of report.campaigns) {
      assert.ok(await store.rolledTimeline(report.generated_at, c.id), `a rollup for ${c.id}`);
      const rolled = (await campaignTimeline(store, report, c.id))!;
      const counted = (await campaignTimeline(unrolled(store), report, c.id))!;
      assert.deepEqual(rolled.activity, counted.activity, c.id);
      assert.deepEqual(rolled.flags, counted.flags);
      assert.deepEqual(rolled.capabilities.map((x) => [x.hour, x.capability, x.exchanges]), counted.capabilities.map((x) => [x.hour, x.capability, x.exchanges]));
      rolled.capabilities.forEach((x, i) => assert.ok(Math.abs(x.elicitation - counted.capabilities[i]!.elicitation) < 1e-9, 'the same mean elicitation'));
      assert.equal(rolled.activity.reduce((n, a) => n + a.exchanges, 0), c.accounts.reduce((n, a) => n + (report.accounts.find((x) => x.account_id === a)?.exchanges ?? 0), 0), 'every member exchange counted');
    }
  });

  it("gives the overview's hours and each campaign's graph laid out, as computing them does", async () => {
    const decisions = currentDecisions(await store.caseDecisions(), report);
    assert.deepEqual((await overview(store, report, decisions)).hourly, (await overview(unrolled(store), report, decisions)).hourly);
    for (const c of report.campaigns) {
      const g = (await campaignGraph(store, report, c.id))!;
      assert.deepEqual(g, await computeCampaignGraph(store, report, c.id), 'the layout depends only on the graph');
      assert.equal(g.nodes.filter((n) => n.type === 'account').length, c.accounts.length);
      assert.ok(g.nodes.every((n) => n.x >= 0 && n.x <= 1 && n.y >= 0 && n.y <= 1), 'every node placed in the unit square');
      assert.ok(new Set(g.nodes.map((n) => `${n.x},${n.y}`)).size > g.nodes.length / 2, 'nodes spread out, not piled up');
    }
  });

  it('is not read for another report than the one it was made for', async () => {
    const c = report.campaigns[0]!;
    assert.equal(await store.rolledTimeline('2000-01-01T00:00:00.000Z', c.id), null);
    assert.equal(await store.rolledTotals('2000-01-01T00:00:00.000Z'), null);
    assert.equal(await store.rolledGraph('2000-01-01T00:00:00.000Z', c.id), null);
    assert.equal(await store.rolledGraph(report.generated_at, 'cmp_none'), null);
  });
});
