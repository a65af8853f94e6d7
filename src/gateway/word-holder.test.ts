import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WordHolder } from './word-holder.js';

test('whole words come out of deltas that cut them; the unfinished word waits for its slot to end', () => {
  const w = new WordHolder();
  assert.equal(w.push(0, 'Hel'), '');
  assert.equal(w.push(0, 'lo wo'), 'Hello ');
  assert.equal(w.push(1, 'other slot '), 'other slot ', 'slots are apart');
  assert.equal(w.push(0, 'rld\n'), 'world\n');
  assert.equal(w.push(0, 'end'), '');
  assert.equal(w.end(0), 'end');
  assert.equal(w.end(0), '', 'given up once');
});

test('a long run without whitespace is let go rather than holding the stream back', () => {
  const w = new WordHolder();
  const run = 'x'.repeat(150);
  assert.equal(w.push(0, run), '');
  assert.equal(w.push(0, run), run + run);
  assert.equal(w.push(2, 'tail'), '');
  assert.deepEqual(w.endAll(), [[2, 'tail']]);
});
