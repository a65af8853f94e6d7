import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { phrasesOf, phraseSigs, MAX_PHRASES } from './item-sketch.js';
import { fnv1a32, hex8 } from './hash.js';
import { maskVariableParts } from './text.js';

/** The sketch as first written (split on a regex, each piece folded and trimmed): the walk by offsets must give the same. */
function byRegex(masked: string): string {
  const sentences = (t: string): string[] => {
    const out: string[] = [];
    for (const raw of t.split(/(?<=[.?!:;])\s+|\n+/)) {
      const s = raw.replace(/\s+/g, ' ').trim();
      if (s.length === 0 || s.length > 240 || s.split(' ').length < 3) continue;
      out.push(s);
    }
    return out;
  };
  const all = masked.length <= 3000 ? sentences(masked) : [...sentences(masked.slice(0, 1500)).slice(0, -1), ...sentences(masked.slice(-1500)).slice(1)];
  const kept = all.length <= MAX_PHRASES ? all : [...all.slice(0, MAX_PHRASES / 2), ...all.slice(-MAX_PHRASES / 2)];
  return [...new Set(kept.map((s) => hex8(fnv1a32(s))))].join(' ');
}

/** A deterministic text over the characters that decide sentences: stops, white space of every kind, newlines. */
function randomText(seed: number, length: number): string {
  const alphabet = ['a', 'b', 'ab', 'word', 'x', '#', '.', '?', '!', ':', ';', ',', ' ', ' ', ' ', '  ', '\n', '\n\n', '\t', '\r', '\u00a0', '\u2003', '\u3000', '\ufeff', 'é', '😀'];
  let x = seed >>> 0 || 1;
  let out = '';
  while (out.length < length) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out += alphabet[x % alphabet.length]!;
  }
  return out;
}

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

  it('gives what splitting on the sentence regex and folding each piece gave, on short, cut and long texts', () => {
    const texts = ['', ' ', '\n', 'a b c', ' a b c ', 'a b c.\n\n d e f', 'a b c. \n d e f!\t g h i', 'a b c\n \nd e f', 'a\u00a0b\u2003c. d e f', '. a b c', 'a b c;', 'a  b\n\n\nc d e'];
    for (let seed = 1; seed <= 400; seed++) texts.push(randomText(seed, [40, 300, 2999, 3001, 4500][seed % 5]!));
    // Long texts whose cuts fall in every kind of place.
    for (let pad = 0; pad < 8; pad++) texts.push('one two three. '.repeat(120) + 'x'.repeat(pad) + '\n' + 'four five six! '.repeat(120));
    // Long texts with few sentences at each end, so that the sentence dropped at each cut is among those kept.
    for (let k = 0; k < 6; k++) {
      const ends = Array.from({ length: k }, (_, j) => `end sentence number ${'abcdef'[j]}.`).join(' ');
      texts.push(ends + ' ' + 'filler '.repeat(600) + ends);
      texts.push(ends + '\n' + 'z'.repeat(3200) + '. ' + ends);
    }
    for (const t of texts) assert.equal(phraseSigs(t), byRegex(t), `for ${JSON.stringify(t.slice(0, 60))} (${t.length} characters)`);
  });
});
