import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CountTable } from './count-table.js';

describe('count table', () => {
  it('answers its largest count as a walk of every slot would, through growth, the cap and repeated prompts', () => {
    for (const [cap, tagged] of [[6, false], [64, true], [300, false]] as const) {
      const t = new CountTable(cap, tagged);
      assert.equal(t.top(), 0);
      let seed = 7;
      const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
      for (let i = 0; i < 5000; i++) {
        // Skewed keys (a few heavy ones), and a prompt tag that repeats now and then.
        const r = next();
        const key = 1 + (r % 7 === 0 ? r % 3 : r % 500);
        if (tagged) t.use(key, next() % 4 === 0 ? 1 : i);
        else t.add(key);
        if (i % 97 === 0 || i < 20) {
          let most = 0;
          for (const [, n] of t.entries()) most = Math.max(most, n);
          assert.equal(t.top(), most, `cap ${cap} after ${i + 1} adds`);
        }
      }
    }
  });

  it('notes what a key held before each use as get and lastTag answer it, through growth, the cap and repeated prompts', () => {
    for (const [cap, tagged] of [[6, true], [64, true], [40, false]] as const) {
      const t = new CountTable(cap, tagged);
      let seed = 11;
      const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
      for (let i = 0; i < 3000; i++) {
        const r = next();
        // Key 0 is "none" and counts nothing.
        const key = r % 53 === 0 ? 0 : 1 + (r % 90);
        const tag = next() % 3 === 0 ? 5 : i;
        const count = t.get(key);
        const last = t.lastTag(key);
        const after = tagged ? t.use(key, tag) : t.add(key);
        assert.equal(t.countBefore, count, `cap ${cap}, use ${i + 1}: count before`);
        assert.equal(t.tagBefore, last, `cap ${cap}, use ${i + 1}: tag before`);
        assert.equal(t.get(key), after === 0 ? count : after, `cap ${cap}, use ${i + 1}: count after`);
      }
    }
  });
});
