import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ExchangeFeatures } from '../core/features.js';
import { DetectionEngine } from '../detect/engine.js';
import { KnownIndicatorSet, type KnownIndicator } from '../detect/known-indicators.js';
import { replay } from '../detect/ticker.js';
import { feat } from '../detect/_test-features.js';
import type { IndicatorKey } from '../link/indicators.js';

const T0 = Date.parse('2026-04-22T00:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const known = (...keys: IndicatorKey[]): KnownIndicatorSet =>
  new KnownIndicatorSet(keys.map((key): KnownIndicator => ({ key, bundleId: 'bundle--2f0d6a43-5a8e-5d3c-9d0e-6a1b2c3d4e5f', producer: 'Lab A', confidence: 90 })));

/** People at one company on one harness and one card: office hours, conversations, old accounts. */
function office(accounts: number, days: number): ExchangeFeatures[] {
  const out: ExchangeFeatures[] = [];
  for (let d = 0; d < days; d++) {
    for (let i = 0; i < accounts; i++) {
      for (let k = 0; k < 4 + ((i + d) % 4); k++) {
        out.push(
          feat({
            account_id: `emp${i}`,
            ts: T0 + d * DAY + (9 + ((i + k * 3) % 8)) * HOUR + ((i * 13 + k * 17) % 50) * 60_000,
            org_id: 'org-acme',
            ip: `192.0.2.${10 + i}`,
            subnet: '192.0.2.0/24',
            payment_fp: 'pm-shared',
            harness_sig: 'h-shared',
            n_messages: 1 + (k % 4) * 2,
            n_user_turns: 1 + (k % 4),
            capability: k % 3 ? 'general_chat' : 'coding',
          }),
        );
      }
    }
  }
  return out.sort((a, b) => a.ts - b.ts);
}

/**
 * A pool harvesting reasoning through one harness with an injected system prompt, round the clock, from month-old accounts
 * with their own cards and addresses, each request with a fabricated earlier turn: its content
 * shows in hours, its automation (around the clock) only after a day and a half, its lifecycle never.
 */
function pool(accounts: number, hours: number): ExchangeFeatures[] {
  const out: ExchangeFeatures[] = [];
  for (let h = 0; h < hours; h++) {
    for (let i = 0; i < accounts; i++) {
      for (let k = 0; k < 2; k++) {
        out.push(
          feat({
            account_id: `pool${i}`,
            ts: T0 + h * HOUR + i * 5_000 + k * 1_700_000 + ((h * 7919 + i * 104_729) % 600_000),
            ip: `203.0.113.${10 + i}`,
            subnet: '203.0.113.0/24',
            account_created_at: T0 - 30 * DAY,
            payment_fp: `pm-pool-${i}`,
            harness_sig: 'h-harvester',
            system_sig: 'sys-injected',
            capability: k % 2 ? 'coding' : 'reasoning',
            elicitation: 1,
            grading: h % 3 === 0 && k === 1,
            max_tokens: 8192,
            // A fabricated earlier turn: not single-turn scripting at a glance.
            n_messages: 3,
            n_user_turns: 2,
          }),
        );
      }
    }
  }
  return out.sort((a, b) => a.ts - b.ts);
}

const firstFlag = (e: DetectionEngine): number => Math.min(...e.verdicts().map((v) => v.flaggedAt ?? Infinity));

describe('engine with indicators another provider shared', () => {
  it('never flags a group on a shared mark alone: coordinated accounts that behave like people stay unflagged', () => {
    const e = replay(new DetectionEngine({ linker: 'verify', knownIndicators: known('harness:h-shared', 'payment:pm-shared') }), office(8, 4));
    assert.deepEqual(e.verdicts().filter((v) => v.verdict !== 'benign'), []);
    assert.deepEqual(e.campaignList(), []);
  });

  it('flags a harvesting pool that uses a shared harness earlier, and names the bundle', () => {
    const traffic = pool(6, 60);
    const without = replay(new DetectionEngine({ linker: 'verify' }), traffic);
    const withIntel = replay(new DetectionEngine({ linker: 'verify', knownIndicators: known('harness:h-harvester') }), traffic);
    assert.ok(Number.isFinite(firstFlag(without)), 'the pool is caught without the import too');
    assert.ok(firstFlag(withIntel) < firstFlag(without), `with ${new Date(firstFlag(withIntel)).toISOString()}, without ${new Date(firstFlag(without)).toISOString()}`);
    const c = withIntel.campaignList()[0]!;
    assert.deepEqual(c.intelBundles, [{ bundleId: 'bundle--2f0d6a43-5a8e-5d3c-9d0e-6a1b2c3d4e5f', producer: 'Lab A', accounts: 6 }]);
    assert.ok(c.score.findings.some((f) => f.code === 'shared_intel' && /shared by Lab A in bundle--2f0d6a43/.test(f.detail)));
    assert.deepEqual(without.campaignList()[0]!.intelBundles, []);
  });

  it('does not act on an account alone for a shared mark', () => {
    // One account, one shared harness, plenty of traffic: a campaign needs several accounts,
    // and an account alone is judged on its own evidence, which the match does not add to.
    const one = pool(1, 60);
    const e = replay(new DetectionEngine({ linker: 'verify', knownIndicators: known('harness:h-harvester') }), one);
    const plain = replay(new DetectionEngine({ linker: 'verify' }), one);
    assert.deepEqual(e.verdicts().map((v) => [v.verdict, v.flaggedAt, v.risk]), plain.verdicts().map((v) => [v.verdict, v.flaggedAt, v.risk]));
  });
});
