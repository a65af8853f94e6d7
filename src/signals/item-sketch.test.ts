import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { phrasesOf, phraseSigs, MAX_PHRASES } from './item-sketch.js';
import { maskVariableParts } from './text.js';

const sketch = (text: string): string[] => phrasesOf(phraseSigs(maskVariableParts(text)));

describe('phraseSigs', () => {
  it('gives a wrapper sentence the same hash around different items, whatever its case and spacing', () => {
    const a = sketch('Could you take a look? Ana has 12 apples and buys 3 packs. Write out the full rationale, not only the result.');
    const b = sketch('write out the full rationale,   not only the result.\nBo has 7 books and sells 2 of them.');
    const shared = a.filter((h) => b.includes(h));
    assert.equal(shared.length, 1);
    assert.equal(a.length, 3);
  });

  it('masks numbers so items of one template share their sentences', () => {
    assert.deepEqual(sketch('Ana has 12 apples and buys 3 packs.'), sketch('Ana has 40 apples and buys 9 packs.'));
  });

  it('leaves out interjections and keeps the ends of a long prompt', () => {
    assert.deepEqual(sketch('Hi! Thanks.'), []);
    assert.equal(phraseSigs(''), '');
    const long = Array.from({ length: 20 }, (_, i) => `Sentence about topic ${String.fromCharCode(97 + i)} here.`).join(' ');
    const kept = sketch(long);
    assert.equal(kept.length, MAX_PHRASES);
    assert.ok(kept.includes(sketch('Sentence about topic a here.')[0]!));
    assert.ok(kept.includes(sketch('Sentence about topic t here.')[0]!));
  });
});
