import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sig64 } from '../signals/hash.js';
import { DistinctCounter } from './account-state.js';

describe('distinct counter', () => {
  it('counts distinct prompts within 3% at every size, in fixed memory', () => {
    for (const n of [1, 40, 900, 7000, 40_000]) {
      const d = new DistinctCounter();
      for (let i = 0; i < n; i++) d.add(sig64(`prompt ${i} of ${n}`));
      assert.ok(Math.abs(d.size - n) <= Math.max(1, 0.03 * n), `${n} distinct counted as ${d.size}`);
    }
  });

  it('does not count a repeated prompt again', () => {
    const d = new DistinctCounter();
    for (let r = 0; r < 50; r++) for (let i = 0; i < 20; i++) d.add(sig64(`item ${i}`));
    assert.equal(d.size, 20);
  });
});
