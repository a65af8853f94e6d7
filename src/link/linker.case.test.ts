/**
 * One contract, every Linker: the from-scratch and the incremental linker run through the
 * same cases, and on the same random edits they must hold the same communities after each.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { accountId, type AccountId } from '../core/ids.js';
import { communityDifference, type LinkParams } from './communities.js';
import { FullLinker, IncrementalLinker, type Linker } from './linker.js';
import { indicatorKey, type IndicatorKey, type IndicatorKind } from './indicators.js';

const PARAMS = { genericAccounts: 2000, resolution: 0.5, minCoreAccounts: 3 };
const LINKERS: [string, () => Linker][] = [
  ['FullLinker', () => new FullLinker(PARAMS)],
  ['IncrementalLinker', () => new IncrementalLinker(PARAMS)],
  // Every component keeps its graph between calls, however small (component-graph.ts).
  ['IncrementalLinker keeping every graph', () => new IncrementalLinker(PARAMS, 1)],
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
    it('counts as evidence a key only non-suspect members share, and none only one member holds', () => {
      const l = make();
      hold(l, ids('a', 3), [indicatorKey('harness', 'h1')]);
      // Two quiet accounts, pulled in by the harness, share an IP no suspect holds; one of them
      // alone holds another.
      hold(l, ids('q', 2), [indicatorKey('harness', 'h1'), indicatorKey('ip', '192.0.2.9')], false);
      l.addKey(accountId('q0'), indicatorKey('ip', '192.0.2.10'));
      const coms = l.communities();
      assert.deepEqual(coms.map((c) => c.accounts), [['a0', 'a1', 'a2', 'q0', 'q1']]);
      assert.equal(coms[0]!.indicators.get(indicatorKey('ip', '192.0.2.9')), 2);
      assert.equal(coms[0]!.indicators.has(indicatorKey('ip', '192.0.2.10')), false);
      assert.equal(coms[0]!.indicators.get(indicatorKey('harness', 'h1')), 5);
    });

    it('counts new evidence of a group whose ties did not change', () => {
      const l = make();
      const pool = ids('a', 4);
      hold(l, pool, [indicatorKey('harness', 'h1')]);
      l.communities();
      // Two quiet accounts tied in through the harness share an office IP: evidence, no new tie.
      hold(l, [accountId('q0'), accountId('q1')], [indicatorKey('harness', 'h1')], false);
      l.communities();
      l.addKey(accountId('q0'), indicatorKey('ip', '192.0.2.9'));
      l.addKey(accountId('q1'), indicatorKey('ip', '192.0.2.9'));
      const coms = l.communities();
      assert.deepEqual(coms.map((c) => c.accounts), [['a0', 'a1', 'a2', 'a3', 'q0', 'q1']]);
      assert.equal(coms[0]!.indicators.get(indicatorKey('ip', '192.0.2.9')), 2);
    });

    it('re-cuts a group that gains ties among its own accounts', () => {
      const l = make();
      // One component through a shared IP among suspects, two clients inside it.
      hold(l, ids('a', 3), [indicatorKey('harness', 'ha'), indicatorKey('ip', '192.0.2.1')]);
      hold(l, ids('b', 3), [indicatorKey('harness', 'hb'), indicatorKey('ip', '192.0.2.1')]);
      const before = groups(l);
      assert.deepEqual(before.sort(), [['a0', 'a1', 'a2'], ['b0', 'b1', 'b2']]);
      // Both clients turn out to be paid with one card: one operation.
      for (const a of [...ids('a', 3), ...ids('b', 3)]) l.addKey(a, indicatorKey('payment', 'card'));
      assert.deepEqual(groups(l), [['a0', 'a1', 'a2', 'b0', 'b1', 'b2']]);
    });

    it('joins two groups into one component through a new key and parts them when it stops tying', () => {
      const l = make();
      hold(l, ids('a', 3), [indicatorKey('harness', 'ha')]);
      hold(l, ids('b', 3), [indicatorKey('harness', 'hb')]);
      assert.deepEqual(groups(l), [['a0', 'a1', 'a2'], ['b0', 'b1', 'b2']]);
      // A public template both operators copy: one component, still two operations, each
      // holding the template as its evidence.
      for (const a of [...ids('a', 3), ...ids('b', 3)]) l.addKey(a, indicatorKey('template', 'public'));
      const merged = l.communities();
      assert.deepEqual(merged.map((c) => c.accounts), [['a0', 'a1', 'a2'], ['b0', 'b1', 'b2']]);
      for (const c of merged) assert.equal(c.indicators.get(indicatorKey('template', 'public')), 3);
      // An exit IP ties suspects only: once one of its two holders is cleared it ties nobody.
      l.addKey(accountId('a0'), indicatorKey('ip', '192.0.2.7'));
      l.addKey(accountId('b0'), indicatorKey('ip', '192.0.2.7'));
      assert.equal(groups(l).length, 2);
      l.setSuspect(accountId('b0'), false);
      assert.deepEqual(groups(l), [['a0', 'a1', 'a2'], ['b0', 'b1', 'b2']]);
    });

    it('stops counting a key as evidence once it turns generic, inside a group that stays whole', () => {
      const l = make();
      const pool = ids('a', 4);
      hold(l, pool, [indicatorKey('payment', 'card'), indicatorKey('subnet', '198.51.100.0')]);
      assert.equal(l.communities()[0]!.indicators.get(indicatorKey('subnet', '198.51.100.0')), 4);
      hold(l, ids('office', 12), [indicatorKey('subnet', '198.51.100.0')], false);
      const coms = l.communities();
      assert.deepEqual(coms.map((c) => c.accounts), [pool]);
      assert.equal(coms[0]!.indicators.has(indicatorKey('subnet', '198.51.100.0')), false);
      assert.equal(coms[0]!.indicators.get(indicatorKey('payment', 'card')), 4);
    });

    it('joins every component a client mark comes to tie when a third suspect makes it specific', () => {
      const l = make();
      const mark = indicatorKey('harness', 'h1');
      // Eight holders, two of them suspects: a popular client, tying only the suspects. One of
      // its ordinary users (o0) stands in a component of its own, through a template.
      for (const a of ['o1', 'o0', 'a0', 'a1', 'o2', 'o3', 'o4', 'o5']) l.addKey(accountId(a), mark);
      for (const a of ['a0', 'a1']) l.setSuspect(accountId(a), true);
      l.addKey(accountId('o0'), indicatorKey('template', 't1'));
      l.addKey(accountId('b0'), indicatorKey('template', 't1'));
      l.setSuspect(accountId('b0'), true);
      assert.deepEqual(groups(l), [['a0'], ['a1'], ['b0'], ['o0']]);
      // A third suspect: now specific, the mark ties every holder, o0 with the two suspects'
      // component and b0 through it (the incremental linker once reached only one of them).
      hold(l, [accountId('a2')], [mark]);
      assert.deepEqual(groups(l), [['a0', 'a1', 'a2', 'o1', 'o2', 'o3', 'o4', 'o5'], ['b0'], ['o0']]);
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
    assert.equal(l.lastGrownInPlace, 1, 'the IP started tying two accounts of one component: new ties, same accounts');
    // A tie that already holds gains a holder of the same component: re-clustered, not traced again.
    l.addKey(accountId('b2'), indicatorKey('ip', '198.51.100.3'));
    l.communities();
    assert.equal(l.lastClustered, 1);
    assert.equal(l.lastGrownInPlace, 1);
    // A tie to an account outside: traced again, and the component takes the account in.
    l.addKey(accountId('b0'), indicatorKey('harness', 'hb2'));
    l.addKey(accountId('c0'), indicatorKey('harness', 'hb2'));
    l.setSuspect(accountId('c0'), true);
    l.communities();
    assert.equal(l.lastClustered, 1);
    assert.equal(l.lastGrownInPlace, 0);
    assert.ok(groups(l).flat().includes('c0'));
  });

  it('moves a kept graph to a component that takes in an account or loses one, as a from-scratch run cuts it', () => {
    const full = new FullLinker(PARAMS);
    const inc = new IncrementalLinker(PARAMS, 1);
    const both = (f: (l: Linker) => void): void => {
      f(full);
      f(inc);
    };
    const same = (what: string): void => assert.equal(communityDifference(inc.communities(), full.communities()), null, what);
    both((l) => hold(l, ids('a', 5), [indicatorKey('harness', 'h1'), indicatorKey('ip', '203.0.113.1')]));
    both((l) => hold(l, ids('b', 4), [indicatorKey('template', 't1'), indicatorKey('phrase', 'p1')]));
    both((l) => hold(l, [accountId('a0'), accountId('b0')], [indicatorKey('subnet', '203.0.113.0/24')]));
    same('first');
    // A new account tied by the harness: the component takes it in, its graph is kept and renumbered.
    both((l) => hold(l, [accountId('a00')], [indicatorKey('harness', 'h1'), indicatorKey('ip', '203.0.113.1')]));
    same('taken in');
    assert.equal(inc.lastGraphsKept, 1);
    assert.equal(inc.lastGrownInPlace, 0);
    // A suspect leaves: the component loses it and keeps its graph.
    both((l) => l.setSuspect(accountId('b3'), false));
    same('lost one');
    assert.equal(inc.lastGraphsKept, 1);
    // The subnet stops tying the two groups' members when b0 leaves too: two components, one keeps the graph.
    both((l) => l.setSuspect(accountId('b0'), false));
    same('parted');
    // A new tie inside the group, then a holder of the same group more: re-cut in place.
    both((l) => {
      l.addKey(accountId('a1'), indicatorKey('payment', 'card9'));
      l.addKey(accountId('a3'), indicatorKey('payment', 'card9'));
    });
    same('new tie');
    both((l) => l.addKey(accountId('a4'), indicatorKey('payment', 'card9')));
    same('grown in place');
    assert.equal(inc.lastGrownInPlace, 1);
    assert.equal(inc.lastGraphsKept, 1);
  });

  for (const keep of [32, 1]) {
    it(`holds the communities a from-scratch run finds after every random edit (graphs kept from ${keep} accounts)`, () => {
      let kept = 0;
      randomEdits({ params: PARAMS, keep, seeds: [1, 2, 3, 4, 5], steps: 400, every: 7, suspectShare: 0.6, values: 12, kinds: ['ip', 'subnet', 'payment', 'harness', 'system', 'template', 'burst'] }, (inc) => (kept += inc.lastGraphsKept));
      if (keep === 1) assert.ok(kept > 0, 'kept graphs were clustered again');
    });
  }
});

describe('IncrementalLinker (few values, many holders)', () => {
  for (const keep of [32, 2]) {
    it(`holds what a from-scratch run holds when a few values are each held by dozens of accounts, after every random edit (graphs kept from ${keep} accounts)`, () => {
      // Keys held by many turn specific and generic as suspects come and go: ties that widen
      // from suspects to every holder reach holders standing in other components, and keys held
      // by more accounts than four per kept graph are asked of the graphs (touchKeptGraphs).
      const params = { ...PARAMS, genericAccounts: 20, deferAccounts: 5, deferAccountGrowth: 0.3, deferHoldingGrowth: 0.3, deferRuns: 4 };
      let cores = 0;
      randomEdits({ params, keep, seeds: [1, 2, 3, 4, 5, 6, 7, 8], steps: 800, every: 4, suspectShare: 0.6, values: 2, accounts: 120, kinds: ['ip', 'subnet', 'payment', 'harness', 'system', 'template', 'burst'] }, (inc) => (cores += inc.lastCores));
      if (keep === 2) assert.ok(cores > 0, 'some components that may have split stood on their core');
    });
  }
});

/** Deferral (defer.ts) at a size the cases reach: components of 4 accounts and more. */
const DEFER = { ...PARAMS, deferAccounts: 4, deferAccountGrowth: 0.5, deferHoldingGrowth: 10, deferRuns: 3 };
const DEFERRING: [string, (p?: Partial<LinkParams>) => Linker][] = [
  ['FullLinker', (p) => new FullLinker({ ...DEFER, ...p })],
  ['IncrementalLinker', (p) => new IncrementalLinker({ ...DEFER, ...p })],
  ['IncrementalLinker keeping every graph', (p) => new IncrementalLinker({ ...DEFER, ...p }, 1)],
];

for (const [name, make] of DEFERRING) {
  describe(`${name} (deferral rule)`, () => {
    it('keeps a large component that only grew on its last communities until its accounts grew enough', () => {
      const l = make();
      const h = indicatorKey('harness', 'h1');
      hold(l, ids('a', 4), [h]);
      assert.deepEqual(groups(l), [['a0', 'a1', 'a2', 'a3']]);
      // 5 accounts, under 4 × 1.5: the newcomer is in the component but in no community yet.
      hold(l, [accountId('a4')], [h]);
      assert.deepEqual(groups(l), [['a0', 'a1', 'a2', 'a3']]);
      // 6: grown by half, clustered again.
      hold(l, [accountId('a5')], [h]);
      assert.deepEqual(groups(l), [['a0', 'a1', 'a2', 'a3', 'a4', 'a5']]);
    });

    it('clusters a deferred component once enough runs passed, even when nothing changed since', () => {
      const l = make();
      const h = indicatorKey('harness', 'h1');
      hold(l, ids('a', 4), [h]);
      groups(l);
      hold(l, [accountId('a4')], [h]);
      assert.deepEqual(groups(l), [['a0', 'a1', 'a2', 'a3']], 'run 2: deferred');
      assert.deepEqual(groups(l), [['a0', 'a1', 'a2', 'a3']], 'run 3: still deferred');
      assert.deepEqual(groups(l), [['a0', 'a1', 'a2', 'a3', 'a4']], 'run 4: three runs after its clustering');
    });

    it('clusters at once a large component that lost an account', () => {
      const l = make();
      const h = indicatorKey('harness', 'h1');
      const ip = indicatorKey('ip', '192.0.2.1');
      hold(l, ids('a', 4), [h]);
      // a4 is tied by an IP it shares with a0, which ties suspects only.
      l.addKey(accountId('a0'), ip);
      hold(l, [accountId('a4')], [ip]);
      assert.deepEqual(groups(l).flat().sort(), ['a0', 'a1', 'a2', 'a3', 'a4']);
      hold(l, [accountId('a5')], [h]);
      assert.equal(groups(l).flat().includes('a5'), false, 'deferred: a5 is in no community yet');
      l.setSuspect(accountId('a4'), false);
      assert.deepEqual(groups(l).flat().sort(), ['a0', 'a1', 'a2', 'a3', 'a5'], 'split: clustered now');
    });

    it('keeps a large component that lost a few accounts on its last communities, without them', () => {
      const l = make({ deferAccountLoss: 0.25 });
      const h = indicatorKey('harness', 'h1');
      const ip = indicatorKey('ip', '192.0.2.1');
      hold(l, ids('a', 4), [h, ip]);
      // a4, a bystander on the same IP, which ties suspects only.
      hold(l, [accountId('a4')], [ip]);
      assert.deepEqual(groups(l), [['a0', 'a1', 'a2', 'a3', 'a4']]);
      hold(l, [accountId('a5')], [h]);
      assert.deepEqual(groups(l), [['a0', 'a1', 'a2', 'a3', 'a4']], 'deferred: a5 is in no community yet');
      // a4 is cleared: 1 of 5 accounts lost.
      l.setSuspect(accountId('a4'), false);
      const [com, ...none] = l.communities();
      assert.deepEqual(none, []);
      assert.deepEqual(com!.accounts, ['a0', 'a1', 'a2', 'a3'], 'still deferred, without a4');
      assert.equal(com!.indicators.get(ip), 4, 'the IP counted again over the accounts that stay');
      assert.equal(com!.indicators.get(h), 4);
      assert.deepEqual(groups(l), [['a0', 'a1', 'a2', 'a3', 'a5']], 'three runs after its clustering');
    });

    it('clusters at once a large component that lost more accounts than the rule allows', () => {
      const l = make({ deferAccountLoss: 0.25 });
      const h = indicatorKey('harness', 'h1');
      const ip = indicatorKey('ip', '192.0.2.1');
      hold(l, ids('a', 4), [h]);
      l.addKey(accountId('a0'), ip);
      hold(l, ids('b', 2), [ip]);
      assert.equal(groups(l).flat().length, 6);
      hold(l, [accountId('a5')], [h]);
      groups(l);
      // Two of six lost: more than a quarter of 6 × 0.25 = 1.5.
      l.setSuspect(accountId('b0'), false);
      l.setSuspect(accountId('b1'), false);
      assert.deepEqual(groups(l), [['a0', 'a1', 'a2', 'a3', 'a5']]);
    });

    it('clusters at once a large component that took in another component', () => {
      const l = make();
      const h = indicatorKey('harness', 'h1');
      hold(l, ids('a', 4), [h]);
      hold(l, ids('b', 2), [indicatorKey('harness', 'hb')]);
      groups(l);
      hold(l, [accountId('a4')], [h]);
      assert.equal(groups(l).flat().includes('a4'), false, 'deferred: a4 is in no community yet');
      // A card shared with the b pair merges the two components: not growth, clustered now.
      for (const a of [accountId('a0'), accountId('b0')]) l.addKey(a, indicatorKey('payment', 'card'));
      assert.ok(groups(l).flat().includes('a4'));
    });
  });
}

describe('IncrementalLinker (deferral rule)', () => {
  it('clusters nothing on a run where the only change is a deferred component growing', () => {
    const l = new IncrementalLinker(DEFER);
    hold(l, ids('a', 4), [indicatorKey('harness', 'h1')]);
    l.communities();
    assert.equal(l.lastClustered, 1);
    hold(l, [accountId('a4')], [indicatorKey('harness', 'h1')]);
    l.communities();
    assert.equal(l.lastClustered, 0);
    assert.equal(l.lastDeferred, 1);
  });

  for (const keep of [32, 1]) {
    it(`holds what a from-scratch run with the same rule holds after every random edit (graphs kept from ${keep} accounts)`, () => {
      let deferred = 0;
      // Keys turn generic at 20 holders: ties that narrow, so components split as well as grow.
      const params = { ...PARAMS, genericAccounts: 20, deferAccounts: 5, deferAccountGrowth: 0.3, deferHoldingGrowth: 0.3, deferRuns: 4 };
      randomEdits({ params, keep, seeds: [1, 2, 3, 4, 5, 6, 7, 8], steps: 600, every: 5, suspectShare: 0.7, values: 30, kinds: ['ip', 'subnet', 'payment', 'harness', 'system', 'template', 'burst', 'phrase'] }, (inc) => (deferred += inc.lastDeferred));
      assert.ok(deferred > 0, 'some runs deferred a component');
    });

    it(`holds what a from-scratch run holds when deferred components may lose accounts, after every random edit (graphs kept from ${keep} accounts)`, () => {
      let losing = 0;
      let cores = 0;
      const params = { ...PARAMS, genericAccounts: 20, deferAccounts: 5, deferAccountGrowth: 0.3, deferHoldingGrowth: 0.3, deferRuns: 4, deferAccountLoss: 0.2 };
      randomEdits({ params, keep, seeds: [1, 2, 3, 4, 5, 6, 7, 8], steps: 600, every: 5, suspectShare: 0.7, values: 30, kinds: ['ip', 'subnet', 'payment', 'harness', 'system', 'template', 'burst', 'phrase'] }, (inc) => {
        losing += inc.lastDeferredLosing;
        cores += inc.lastCores;
      });
      assert.ok(losing > 0, 'some runs kept a component that lost accounts on its last communities');
      // Components of at least `keep` accounts that may have split stand on their core.
      if (keep === 1) assert.ok(cores > 0, 'some components that may have split stood on their core');
    });
  }
});

interface RandomEdits {
  params: LinkParams;
  /** Components of at least this many accounts keep their graph. */
  keep: number;
  seeds: number[];
  steps: number;
  /** A linking run every this many edits. */
  every: number;
  /** Of the suspect changes, the share that makes an account a suspect. */
  suspectShare: number;
  /** Different values per kind of key. */
  values: number;
  /** Accounts edited (60 unless said). */
  accounts?: number;
  kinds: readonly IndicatorKind[];
}

/**
 * The same random edits (suspects set or cleared, keys added) to a from-scratch and an
 * incremental linker, failing on the first run where their communities differ; `afterRun` is
 * given the incremental linker after each run.
 */
function randomEdits(o: RandomEdits, afterRun: (inc: IncrementalLinker) => void): void {
  for (const seed of o.seeds) {
    const r = rng(seed);
    const full = new FullLinker(o.params);
    const inc = new IncrementalLinker(o.params, o.keep);
    const accounts = ids('x', o.accounts ?? 60);
    for (let step = 0; step < o.steps; step++) {
      const a = accounts[Math.floor(r() * accounts.length)]!;
      if (r() < 0.3) {
        const suspect = r() < o.suspectShare;
        full.setSuspect(a, suspect);
        inc.setSuspect(a, suspect);
      } else {
        const key = indicatorKey(o.kinds[Math.floor(r() * o.kinds.length)]!, String(Math.floor(r() * o.values)));
        full.addKey(a, key);
        inc.addKey(a, key);
      }
      if (step % o.every === 0) {
        const diff = communityDifference(inc.communities(), full.communities());
        assert.equal(diff, null, `seed ${seed}, step ${step}`);
        afterRun(inc);
      }
    }
  }
}
