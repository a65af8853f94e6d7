import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sig64 } from '../signals/hash.js';
import { CappedSet, DistinctCounter } from './account-state.js';

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

  it('answers as an 8192-bit map would, kept as a list of bits or as the map, alone and against another counter', () => {
    // The reference: the set of bits a map would hold, and linear counting over it.
    const estimate = (bits: Set<number>): number => (bits.size === 8192 ? Math.round(8192 * Math.log(8192)) : Math.round(-8192 * Math.log((8192 - bits.size) / 8192)));
    const fill = (n: number, salt: string): { d: DistinctCounter; bits: Set<number>; tags: number[] } => {
      const d = new DistinctCounter();
      const bits = new Set<number>();
      const tags: number[] = [];
      // Repeats and colliding bits too: every third tag again, every fifth on a bit already set.
      for (let i = 0; i < n; i++) {
        const tag = i % 3 === 2 ? tags[i - 1]! : i % 5 === 4 ? (tags[0]! & 8191) + 8192 * (i + 1) : (Math.imul(i + 1, 0x9e3779b1) ^ salt.length) >>> 0;
        tags.push(tag);
        d.addTag(tag);
        bits.add(tag & 8191);
      }
      return { d, bits, tags };
    };
    for (const n of [0, 1, 7, 95, 96, 97, 140, 1000]) {
      const a = fill(n, 'a');
      assert.equal(a.d.size, estimate(a.bits), `${n} tags: size`);
      for (const t of a.tags) assert.ok(a.d.hasTag(t));
      for (let probe = 0; probe < 8192; probe += 97) assert.equal(a.d.hasTag(probe), a.bits.has(probe), `${n} tags: bit ${probe}`);
      for (const m of [0, 5, 96, 300]) {
        const b = fill(m, 'bb');
        const union = new Set([...a.bits, ...b.bits]);
        const expected = Math.max(0, estimate(a.bits) + estimate(b.bits) - estimate(union));
        assert.equal(a.d.shared(b.d), expected, `${n} and ${m} tags: shared`);
        assert.equal(b.d.shared(a.d), expected, `${m} and ${n} tags: shared`);
      }
    }
  });
});

describe('capped set', () => {
  it('answers as a set that stops growing at its cap, whether a value repeats the last one or an earlier one', () => {
    for (const cap of [1, 3, 8]) {
      const set = new CappedSet<string>(cap);
      const held = new Set<string>();
      let overflow = 0;
      let seed = 5;
      const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
      let v = 'ua-0';
      for (let i = 0; i < 2000; i++) {
        // Mostly the value before (a fresh string of the same text), now and then another.
        const r = next() % 10;
        if (r >= 7) v = `ua-${next() % 14}`;
        const value = [...v].join('');
        const isNew = !held.has(value);
        if (isNew) {
          if (held.size < cap) held.add(value);
          else overflow++;
        }
        assert.equal(set.add(value), isNew, `cap ${cap}, add ${i + 1} of ${value}`);
        assert.deepEqual([...set.items], [...held]);
        assert.equal(set.overflow, overflow);
        assert.equal(set.size, held.size + overflow);
      }
    }
  });
});

