import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findCommunities } from './communities.js';
import { accountId, type AccountId } from '../core/ids.js';
import { IndicatorIndex, type IndicatorKey } from './indicators.js';

/** Builds a link input from account → indicator keys; every listed account is a suspect unless named in `honest`. */
function input(held: Record<string, IndicatorKey[]>, honest: string[] = []) {
  const index = new IndicatorIndex();
  for (const [a, keys] of Object.entries(held)) for (const k of keys) index.add(k, accountId(a));
  const suspects = new Set(Object.keys(held).filter((a) => !honest.includes(a)).map(accountId));
  return { suspects, keysOf: (a: AccountId) => held[a] ?? [], index, genericAccounts: 2000, resolution: 0.5 };
}

const pool = (prefix: string, n: number, keys: (i: number) => IndicatorKey[]): Record<string, IndicatorKey[]> =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, keys(i)]));

const groupsOf = (held: Record<string, IndicatorKey[]>, honest: string[] = []): string[][] =>
  findCommunities(input(held, honest))
    .map((c) => c.accounts)
    .filter((a) => a.length > 1)
    .sort((a, b) => a[0]!.localeCompare(b[0]!));

describe('findCommunities', () => {
  it('groups accounts that share one client into one community', () => {
    const groups = groupsOf(pool('a', 6, () => ['harness:h1', 'system:s1']));
    assert.deepEqual(groups, [['a0', 'a1', 'a2', 'a3', 'a4', 'a5']]);
  });

  it('keeps two operators apart when they meet only on a public template and a proxy exit', () => {
    // Both fill the same public templates and exit through the same proxies, so modularity
    // alone would call them one group.
    const shared: IndicatorKey[] = ['template:public1', 'template:public2', 'template:public3', 'ip:198.51.100.9', 'ip:198.51.100.10'];
    const held = {
      ...pool('a', 8, () => ['harness:ha', ...shared]),
      ...pool('b', 8, () => ['harness:hb', 'payment:pb', ...shared]),
    };
    const groups = groupsOf(held);
    assert.deepEqual(groups, [
      ['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7'],
      ['b0', 'b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7'],
    ]);
  });

  it('joins accounts with no client in common through a template only suspects use', () => {
    // Every account runs its own client, but all fill the operator's own wrapper.
    const groups = groupsOf(pool('a', 5, (i) => [`harness:own${i}`, 'template:operator']));
    assert.deepEqual(groups, [['a0', 'a1', 'a2', 'a3', 'a4']]);
  });

  it('does not pull honest accounts in through a shared IP', () => {
    const held = {
      ...pool('a', 5, () => ['harness:ha', 'ip:203.0.113.1']),
      ...pool('office', 4, () => ['ip:203.0.113.1']),
    };
    const groups = groupsOf(held, ['office0', 'office1', 'office2', 'office3']);
    assert.deepEqual(groups, [['a0', 'a1', 'a2', 'a3', 'a4']]);
  });

  it('keeps a loose group apart from another operator it meets only on the text of a public bank', () => {
    // One operator runs one client; the other runs a client per account and is tied by its
    // stock of wrapper sentences alone. One account of the second sends a few items of the
    // same public bank as the first, and its template is all that touches the first's core
    // (the bank's sentences are habits of both): content anyone can copy is no bridge
    // between two groups.
    const bank = Array.from({ length: 12 }, (_, i): IndicatorKey => `phrase:bank${i}`);
    const held = {
      ...pool('a', 6, (i) => ['harness:ha', 'system:sa', ...bank, ...(i < 4 ? (['template:bank-item'] as IndicatorKey[]) : [])]),
      ...pool('b', 6, (i) => [`harness:own${i}`, 'phrase:stock1', 'phrase:stock2', ...bank, ...(i === 0 ? (['template:bank-item'] as IndicatorKey[]) : [])]),
    };
    const groups = groupsOf(held);
    assert.deepEqual(groups, [
      ['a0', 'a1', 'a2', 'a3', 'a4', 'a5'],
      ['b0', 'b1', 'b2', 'b3', 'b4', 'b5'],
    ]);
  });

  it('still hangs a straggler on the core it shares a template with', () => {
    // An operator's account whose client is not yet a habit of its own is tied by the template.
    const held = { ...pool('a', 5, () => ['harness:ha', 'template:op']), late: ['template:op'] as IndicatorKey[] };
    assert.deepEqual(groupsOf(held), [['a0', 'a1', 'a2', 'a3', 'a4', 'late']]);
  });
});
