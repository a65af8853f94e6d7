import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PendingLsns } from './pending-lsns.js';
import { Rng } from '../traffic/rng.js';

/**
 * Drives a PendingLsns and a Map side by side through the same adds and settles, and checks
 * that they agree on the count and the oldest after every step, and on every lsn every 97.
 */
function compare(seed: number, steps: number, plan: (rng: Rng) => { settleInOrder: number; stuck: number; gap: number }): void {
  const rng = new Rng(seed);
  const { settleInOrder, stuck, gap } = plan(rng);
  const pending = new PendingLsns();
  const reference = new Map<number, string | null>();
  let next = 1 + Math.floor(rng.next() * 1000);
  const check = (where: string): void => {
    assert.equal(pending.size, reference.size, `${where}: size`);
    const oldest = reference.size === 0 ? undefined : Math.min(...reference.keys());
    assert.equal(pending.oldest, oldest, `${where}: oldest`);
  };
  for (let step = 0; step < steps; step++) {
    const where = `seed ${seed}, step ${step}`;
    if (reference.size === 0 || rng.next() < 0.55) {
      const lsn = next;
      next += rng.next() < gap ? 1 + Math.floor(rng.next() * 200) : 1;
      const id = rng.next() < 0.5 ? null : `gw_${lsn}`;
      pending.add(lsn, id);
      reference.set(lsn, id);
    } else {
      const keys = [...reference.keys()];
      // Mostly the oldest few (Redis answers in about the order it was handed records),
      // sometimes any; a few records are never settled (a row the store keeps refusing).
      let lsn = rng.next() < settleInOrder ? keys[Math.floor(rng.next() * Math.min(4, keys.length))]! : keys[Math.floor(rng.next() * keys.length)]!;
      if (lsn % 997 < stuck && keys.length > 1) lsn = keys[keys.length - 1]!;
      assert.equal(pending.delete(lsn), true, `${where}: settling ${lsn}`);
      reference.delete(lsn);
      assert.equal(pending.delete(lsn), false, `${where}: settling ${lsn} twice`);
    }
    if (step % 97 === 0) {
      for (let lsn = next - 300; lsn < next + 2; lsn++) assert.equal(pending.get(lsn), reference.get(lsn), `${where}: lsn ${lsn}`);
      for (const [lsn, id] of reference) assert.equal(pending.get(lsn), id, `${where}: lsn ${lsn}`);
    }
    check(where);
  }
}

test('unsettled lsns are kept as a Map would keep them, settled in order, out of order, with gaps and with records that never settle', () => {
  for (let seed = 1; seed <= 24; seed++) {
    compare(seed, 3000, (rng) => ({ settleInOrder: [1, 0.9, 0.5, 0][seed % 4]!, stuck: seed % 3 === 0 ? 20 : 0, gap: rng.next() < 0.5 ? 0 : 0.05 }));
  }
});

test('a record that never settles while many after it do keeps memory to the entries, not to the lsns between them', () => {
  const pending = new PendingLsns();
  pending.add(1, 'gw_stuck');
  for (let lsn = 2; lsn < 200_000; lsn++) {
    pending.add(lsn, null);
    assert.equal(pending.delete(lsn), true);
  }
  assert.equal(pending.size, 1);
  assert.equal(pending.oldest, 1);
  assert.equal(pending.get(1), 'gw_stuck');
  // The window's ring never grew past its first size: only a growth makes it larger.
  assert.equal(pending.ringSize, 64, 'the ring did not grow with the settled lsns');
  assert.equal(pending.delete(1), true);
  assert.equal(pending.size, 0);
  assert.equal(pending.oldest, undefined);
});

test('an lsn read back below those already added (segments that disagree) is kept, and the oldest found', () => {
  const pending = new PendingLsns();
  for (const lsn of [10, 11, 12]) pending.add(lsn, `gw_${lsn}`);
  pending.add(11, 'gw_again');
  pending.add(5, 'gw_5');
  pending.add(3, 'gw_3');
  assert.equal(pending.size, 5);
  assert.equal(pending.oldest, 3);
  assert.equal(pending.get(11), 'gw_again');
  assert.equal(pending.delete(3), true);
  assert.equal(pending.oldest, 5);
  assert.equal(pending.delete(5), true);
  assert.equal(pending.oldest, 10);
});
