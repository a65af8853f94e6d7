import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { accountId } from '../core/ids.js';
import { computeFeatures } from '../signals/features.js';
import { prepareSimulation } from '../traffic/simulate.js';
import { AccountState } from './account-state.js';
import { AccountScore, accountFindings, findingBits, scoreAccount } from './account-score.js';
import { ACCOUNT_FINDING_CODES, combine, families } from './findings.js';
import { DEFAULT_PARAMS } from './params.js';

/** Every account of the first 30,000 exchanges of a small scenario, after each of several cuts. */
async function accountsOverTime(): Promise<AccountState[][]> {
  const sim = await prepareSimulation({ scenario: 'small', seed: 3 });
  const states = new Map<string, AccountState>();
  const cuts: AccountState[][] = [];
  let i = 0;
  for (const ex of sim.exchanges) {
    const f = computeFeatures(ex, { ipHashKey: 'test-key' });
    let s = states.get(f.account_id);
    if (!s) states.set(f.account_id, (s = new AccountState(accountId(f.account_id))));
    s.observe(f);
    if (++i % 10_000 === 0) cuts.push([...states.values()].map((x) => x));
    if (i >= 30_000) break;
  }
  return cuts;
}

describe('account score', () => {
  it('holds the strengths, risk and families of the findings in words, rewritten in place without leftovers', async () => {
    const cuts = await accountsOverTime();
    // One score object rewritten for every account in turn, as the book rewrites an account's own.
    const reused = new AccountScore();
    let fired = 0;
    let strong = 0;
    for (const states of cuts) {
      for (const s of states) {
        const findings = accountFindings(s, DEFAULT_PARAMS);
        const fresh = scoreAccount(s, DEFAULT_PARAMS);
        const again = scoreAccount(s, DEFAULT_PARAMS, reused);
        assert.equal(again, reused);
        for (const score of [fresh, again]) {
          for (const code of ACCOUNT_FINDING_CODES) {
            const strength = findings.find((f) => f.code === code)?.strength ?? 0;
            assert.equal(score.strength(code), strength, `${s.id} ${code}`);
            assert.equal(score.anyStrong(findingBits(code)), strength >= 0.5, `${s.id} ${code} strong`);
            assert.equal(score.anyFired(findingBits(code)), strength > 0, `${s.id} ${code} fired`);
          }
          const lifecycle = findingBits('no_ramp_up', 'farmed_entry_point', 'ip_rotation', 'client_rotation');
          assert.equal(score.anyStrong(lifecycle), findings.some((f) => (f.family === 'lifecycle' && f.code !== 'throughput_vs_tier' && f.strength >= 0.5) || (f.family === 'infrastructure' && f.strength >= 0.5)), s.id);
          assert.equal(score.risk, combine(findings), s.id);
          const fam = families(findings, 0.5);
          assert.equal(score.familyCount, fam.size, s.id);
          for (const f of ['content', 'automation', 'lifecycle', 'infrastructure'] as const) assert.equal(score.hasFamily(f), fam.has(f), `${s.id} ${f}`);
        }
        for (const f of findings) assert.ok(f.detail.length > 0, `${s.id} ${f.code} has its values in words`);
        fired += findings.length;
        if (fresh.familyCount >= 2) strong++;
      }
    }
    // The scenario's accounts are not all quiet: the comparison covered findings that fired.
    assert.ok(fired > 1000 && strong > 10, `${fired} findings, ${strong} accounts with two kinds of evidence`);
  });
});
