/**
 * One contract, every Linker: the from-scratch and the incremental linker run through the
 * same cases, and on the same random edits they must hold the same communities after each.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { accountId, type AccountId } from '../core/ids.js';
import { communityDifference } from './communities.js';
import { FullLinker, IncrementalLinker, type Linker } from './linker.js';
import { indicatorKey, type IndicatorKey } from './indicators.js';

const PARAMS = { genericAccounts: 2000, resolution: 0.5, minCoreAccounts: 3 };
const LINKERS: [string, () => Linker][] = [
  ['FullLinker', () => new FullLinker(PARAMS)],
  ['IncrementalLinker', () => new IncrementalLinker(PARAMS)],
];

const ids = (prefix: string, n: number): AccountId[] => Array.from({ length: n }, (_, i) => accountId(`${prefix}${i}`));
const groups = (l: Linker): string[][] => l.communities().map((c) => c.accounts.slice());

function hold(l: Linker, accounts: readonly AccountId[], keys: readonly IndicatorKey[], suspect = true): void {
  for (const a of accounts) {
    for (const k of keys) l.addKey(a, k);
    l.setSuspect(a, suspect);
  }
}

/** Seeded so that a failing case can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

for (const [name, make] of LINKERS) {
  describe(`${name} (shared contract)`, () => {
    it('groups accounts that share one client into one community', () => {
      const l = make();
      hold(l, ids('a', 6), [indicatorKey('harness', 'h1'), indicatorKey('system', 's1')]);
      assert.deepEqual(groups(l), [['a0', 'a1', 'a2', 'a3', 'a4', 'a5']]);
    });

    it('pulls a quiet account in through a harness but not through an IP', () => {
      const l = make();
      hold(l, ids('a', 4), [indicatorKey('harness', 'h1'), indicatorKey('ip', '203.0.113.1')]);
      hold(l, [accountId('quiet')], [indicatorKey('harness', 'h1')], false);
      hold(l, [accountId('office')], [indicatorKey('ip', '203.0.113.1')], false);
      assert.deepEqual(groups(l), [['a0', 'a1', 'a2', 'a3', 'quiet']]);
    });

    it('drops a group when its suspects are cleared and finds it again when they return', () => {
      const l = make();
      const pool = ids('a', 5);
      hold(l, pool, [indicatorKey('template', 'operator')]);
      assert.equal(groups(l).length, 1);
      for (const a of pool) l.setSuspect(a, false);
      assert.deepEqual(groups(l), []);
      for (const a of pool) l.setSuspect(a, true);
      assert.deepEqual(groups(l), [['a0', 'a1', 'a2', 'a3', 'a4']]);
    });

    it('joins accounts into a group when a new tie appears and counts the tie as evidence', () => {
      const l = make();
      const pool = ids('a', 4);
      pool.forEach((a, i) => hold(l, [a], [indicatorKey('harness', `own${i}`)]));
      assert.deepEqual(groups(l), []);
      for (const a of pool) l.addKey(a, indicatorKey('template', 'operator'));
      const coms = l.communities();
      assert.deepEqual(coms.map((c) => c.accounts), [['a0', 'a1', 'a2', 'a3']]);
      assert.equal(coms[0]!.indicators.get(indicatorKey('template', 'operator')), 4);
    });

    it('ties loose suspects by a shared sentence but hangs no client core on them by it', () => {
      const l = make();
      const phrase = indicatorKey('phrase', '5e1f0a2b');
      // Three suspects, each with its own client, wrapping their prompts in one sentence.
      const more = [indicatorKey('phrase', '77aa0c01'), indicatorKey('phrase', '77aa0c02')];
      ids('a', 3).forEach((a, i) => hold(l, [a], [indicatorKey('harness', `own${i}`), phrase, ...more]));
      // A company's accounts on one client and card that happen to use the sentences too.
      hold(l, ids('corp', 3), [indicatorKey('harness', 'corp'), indicatorKey('payment', 'card'), phrase, ...more]);
      // An honest account using it ties nothing: a sentence ties suspects only.
      hold(l, [accountId('honest')], [phrase], false);
      assert.deepEqual(groups(l).sort(), [['a0', 'a1', 'a2'], ['corp0', 'corp1', 'corp2']]);
    });

    it('stops a value from holding a group once most of its users behave normally', () => {
      const l = make();
      const key = indicatorKey('harness', 'popular');
      hold(l, ids('a', 3), [key]);
      assert.deepEqual(groups(l), [['a0', 'a1', 'a2']]);
      hold(l, ids('honest', 10), [key], false);
      // Generic now: it still joins the suspects' component but is no group's evidence.
      const coms = l.communities();
      assert.deepEqual(coms.map((c) => c.accounts), [['a0'], ['a1'], ['a2']]);
      for (const c of coms) assert.equal(c.indicators.size, 0);
    });
  });
}

describe('IncrementalLinker', () => {
  it('clusters nothing when nothing changed and only the changed component otherwise', () => {
    const l = new IncrementalLinker(PARAMS);
    hold(l, ids('a', 4), [indicatorKey('harness', 'ha')]);
    hold(l, ids('b', 4), [indicatorKey('harness', 'hb')]);
    l.communities();
    assert.equal(l.lastClustered, 2);
    l.communities();
    assert.equal(l.lastClustered, 0);
    // A key only one account holds ties nothing and counts nowhere: a rotating account's next IP.
    l.addKey(accountId('b0'), indicatorKey('ip', '198.51.100.3'));
    l.communities();
    assert.equal(l.lastClustered, 0);
    l.addKey(accountId('b1'), indicatorKey('ip', '198.51.100.3'));
    l.communities();
    assert.equal(l.lastClustered, 1);
  });

  it('holds the communities a from-scratch run finds after every random edit', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const r = rng(seed);
      const full = new FullLinker(PARAMS);
      const inc = new IncrementalLinker(PARAMS);
      const accounts = ids('x', 60);
      const kinds = ['ip', 'subnet', 'payment', 'harness', 'system', 'template', 'burst'] as const;
      for (let step = 0; step < 400; step++) {
        const a = accounts[Math.floor(r() * accounts.length)]!;
        if (r() < 0.3) {
          const suspect = r() < 0.6;
          full.setSuspect(a, suspect);
          inc.setSuspect(a, suspect);
        } else {
          const key = indicatorKey(kinds[Math.floor(r() * kinds.length)]!, String(Math.floor(r() * 12)));
          full.addKey(a, key);
          inc.addKey(a, key);
        }
        if (step % 7 === 0) {
          const diff = communityDifference(inc.communities(), full.communities());
          assert.equal(diff, null, `seed ${seed}, step ${step}`);
        }
      }
    }
  });
});
