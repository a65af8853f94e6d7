import { test } from 'node:test';
import assert from 'node:assert/strict';
import { membersOf, sizeOf, withMember, withoutMember, type OneOrMore } from './one-or-more.js';

test('a group of calls holds one member without a Set, more with one, and goes back to the one left', () => {
  const [a, b, c] = [{ n: 'a' }, { n: 'b' }, { n: 'c' }];
  let g: OneOrMore<{ n: string }> = undefined;
  assert.equal(sizeOf(g), 0);
  assert.deepEqual([...membersOf(g)], []);
  g = withMember(g, a);
  assert.equal(g, a, 'one member is the member itself');
  assert.equal(withMember(g, a), a, 'adding it again changes nothing');
  g = withMember(withMember(g, b), c);
  assert.ok(g instanceof Set);
  assert.equal(sizeOf(g), 3);
  assert.deepEqual(new Set(membersOf(g)), new Set([a, b, c]));
  g = withoutMember(g, a);
  assert.equal(sizeOf(g), 2);
  assert.equal(withoutMember(g, a), g, 'removing a member it does not hold changes nothing');
  g = withoutMember(g, c);
  assert.equal(g, b, 'the one left is the member itself again');
  assert.equal(withoutMember(g, c), b);
  assert.equal(withoutMember(g, b), undefined);
});

test('members removed while the group is walked (a cut ends its call at once) are all visited once', () => {
  const calls = [{ n: 1 }, { n: 2 }, { n: 3 }];
  let g: OneOrMore<{ n: number }> = undefined;
  for (const c of calls) g = withMember(g, c);
  const seen: number[] = [];
  for (const c of membersOf(g)) {
    seen.push(c.n);
    g = withoutMember(g, c);
  }
  assert.deepEqual(seen, [1, 2, 3]);
  assert.equal(g, undefined);
});
