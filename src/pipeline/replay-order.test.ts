import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ExchangeFeatures } from '../core/features.js';
import { Rng } from '../traffic/rng.js';
import { before, ReplayOrderBuffer } from './replay-order.js';

/** Only the fields the replay's order reads; the rest do not matter here. */
const row = (ts: number, id: string): ExchangeFeatures => ({ ts, id }) as ExchangeFeatures;

/** The reference: every row held in a plain array, the smallest taken by a full search. */
class Reference {
  rows: ExchangeFeatures[] = [];
  add(r: ExchangeFeatures): void {
    this.rows.push(r);
  }
  take(): ExchangeFeatures | undefined {
    if (this.rows.length === 0) return undefined;
    let m = 0;
    for (let i = 1; i < this.rows.length; i++) if (before(this.rows[i]!, this.rows[m]!)) m = i;
    return this.rows.splice(m, 1)[0];
  }
}

describe('ReplayOrderBuffer', () => {
  it('takes rows in the replay order whatever order they arrive in, rows added and taken in turns', () => {
    for (let seed = 1; seed <= 40; seed++) {
      // Seeded, so that a failure can be run again.
      const rng = new Rng(seed);
      const rnd = (): number => rng.next();
      const buffer = new ReplayOrderBuffer();
      const reference = new Reference();
      // Mostly in order, with stragglers up to `late` behind (within the run's step back, or
      // far beyond it on even seeds), ties in time, and ids that are not ASCII.
      const late = Math.floor(rnd() * (seed % 2 === 0 ? 2_000 : 50));
      let clock = 1_000;
      let taken = 0;
      for (let i = 0; i < 3_000; i++) {
        clock += Math.floor(rnd() * 3);
        const ts = rnd() < 0.2 ? clock - Math.floor(rnd() * late) : clock;
        const id = rnd() < 0.05 ? `é${Math.floor(rnd() * 100)}` : `ex_${Math.floor(rnd() * 1_000)}`;
        const r = row(ts, id);
        buffer.add(r);
        reference.add(r);
        assert.equal(buffer.size, reference.rows.length);
        const takes = rnd() < 0.5 ? 0 : Math.floor(rnd() * 3);
        for (let k = 0; k < takes; k++) {
          const want = reference.take();
          assert.equal(buffer.peek()?.ts, want?.ts, `seed ${seed}, row ${i}: peek`);
          const got = buffer.take();
          assert.deepEqual(got && [got.ts, got.id], want && [want.ts, want.id], `seed ${seed}, row ${i}, take ${taken}`);
          if (got) taken++;
        }
      }
      for (let want = reference.take(); want !== undefined; want = reference.take()) {
        const got = buffer.take()!;
        assert.deepEqual([got.ts, got.id], [want.ts, want.id], `seed ${seed}: at the end`);
      }
      assert.equal(buffer.take(), undefined);
      assert.equal(buffer.size, 0);
    }
  });

  it('takes a long run in order and keeps taking it after its taken slots are dropped', () => {
    const buffer = new ReplayOrderBuffer();
    const n = 20_000;
    for (let i = 0; i < n; i++) buffer.add(row(i, `ex_${i}`));
    // Half taken (past the point where the run's array is compacted), then more added behind and after.
    for (let i = 0; i < n / 2; i++) assert.equal(buffer.take()!.ts, i);
    buffer.add(row(n / 2 + 0.5, 'late'));
    buffer.add(row(n, 'next'));
    const order: number[] = [];
    for (let r = buffer.take(); r !== undefined; r = buffer.take()) order.push(r.ts);
    assert.equal(order.length, n / 2 + 2);
    assert.deepEqual(order.slice(0, 3), [n / 2, n / 2 + 0.5, n / 2 + 1]);
    assert.equal(order.at(-1), n);
    assert.ok(order.every((t, i) => i === 0 || order[i - 1]! <= t));
  });

  it('is empty after clear', () => {
    const buffer = new ReplayOrderBuffer();
    buffer.add(row(2, 'b'));
    buffer.add(row(1, 'a'));
    buffer.clear();
    assert.equal(buffer.size, 0);
    assert.equal(buffer.peek(), undefined);
    assert.equal(buffer.take(), undefined);
  });
});
