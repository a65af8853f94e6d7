/**
 * Detection on simulated traffic whose answer is known: floors, not exact figures. The
 * detector sees only the traffic; the truth is read after the scan.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario, type ScenarioResult } from './detection.js';

const HARD_NEGATIVES = ['saas', 'enterprise', 'university', 'eval_run', 'coding_agent', 'release_mover', 'batch_pipeline', 'bystander', 'reseller_customer'];

/**
 * Floors for the first flag of every non-adaptive operator on `small` seed 5: measured at most
 * 1.99% of its exchanges and 5.1 h on seeds 1, 2, 3 and 5 (the synchronized pool is the latest
 * by share, 1.99% on seed 5; see docs/detection.md).
 */
const TTD_FLOOR = { share: 0.02, hours: 6 };

function dw(r: ScenarioResult) {
  return r.detectors.find((d) => d.name === 'distillwatch')!;
}

describe('detection benchmark', () => {
  for (const seed of [11, 12]) {
    it(`finds both demo campaigns and leaves every hard negative benign (seed ${seed})`, async () => {
      const r = await runScenario({ scenario: 'demo', seed });
      const d = dw(r);
      assert.ok(d.recall >= 0.95, `recall ${d.recall}`);
      assert.ok(d.precision >= 0.98, `precision ${d.precision}`);
      for (const pop of HARD_NEGATIVES) {
        const g = d.populations[pop];
        assert.ok(g && g.accounts > 0, `the demo has ${pop} accounts`);
        assert.equal(g.flagged, 0, `${pop}: ${g.flagged} of ${g.accounts} flagged`);
      }
      assert.equal(r.reconstruction.merged, 0, 'no campaign mixes operators or benign accounts');
    });
  }

  it('meets its floors on the small scenario with every playbook', async () => {
    const r = await runScenario({ scenario: 'small', seed: 5 });
    const d = dw(r);
    assert.ok(d.precision >= 0.995, `precision ${d.precision}`);
    for (const [playbook, g] of Object.entries(d.playbooks)) {
      // Every non-adaptive playbook is caught whole on seeds 1, 2, 3 and 5. The evasive one has
      // its own floor, below what shared wrappers reach on this seed (0.94; 0.91 and 0.93 on seeds 1 and 2).
      assert.ok(g.recall >= (playbook === 'adaptive' ? 0.85 : 1), `${playbook} recall ${g.recall}`);
    }
    for (const pop of HARD_NEGATIVES) assert.equal(d.populations[pop]?.flagged ?? 0, 0, `${pop}: ${d.populations[pop]?.flagged} of ${d.populations[pop]?.accounts} flagged`);
    // Every campaign found early: its operator's first flag within a small share of its
    // exchanges and within hours of its start (the relay took 57-70 h before it was found by
    // the conversations its accounts carry; see docs/detection.md for the measured figures).
    for (const [playbook, t] of Object.entries(d.playbookTtd)) {
      if (playbook === 'adaptive') continue;
      assert.ok(t.firstFlagShare !== null && t.firstFlagShare <= TTD_FLOOR.share, `${playbook} first flag after ${t.firstFlagShare} of its exchanges`);
      assert.ok(t.firstFlagHours !== null && t.firstFlagHours <= TTD_FLOOR.hours, `${playbook} first flag after ${t.firstFlagHours} h`);
    }
    // Beats the baselines a provider already has.
    for (const b of r.detectors.filter((x) => x.name !== 'distillwatch')) assert.ok(d.f1 > b.f1, `F1 ${d.f1} vs ${b.name} ${b.f1}`);
  });

  it('flags a benign-only population hardly at all', async () => {
    const r = await runScenario({ scenario: 'benign-only', seed: 6 });
    const d = dw(r);
    const benign = Object.values(d.populations).reduce((n, g) => n + g.accounts, 0);
    assert.ok(d.fp / benign <= 0.002, `${d.fp} of ${benign} benign accounts flagged`);
  });

  it('ties the replacement pool of a banned one to the same campaign', async () => {
    const r = await runScenario({ scenario: 'ban-evasion', seed: 7 });
    const d = dw(r);
    assert.ok((d.playbooks['ban_evasion']?.recall ?? 0) >= 0.9, JSON.stringify(d.playbooks));
    assert.equal(r.reconstruction.split, 0, JSON.stringify(r.reconstruction));
  });
});
