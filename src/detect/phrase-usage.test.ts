import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { accountId } from '../core/ids.js';
import { PhraseUsage } from './phrase-usage.js';

describe('PhraseUsage', () => {
  it('ties a sentence that most of its users repeat, all its holders at once, then each new one', () => {
    const u = new PhraseUsage();
    for (let i = 0; i < 4; i++) u.firstUse('wrap');
    assert.deepEqual(u.habit('wrap', accountId('a0')), []);
    assert.deepEqual(u.habit('wrap', accountId('a1')), []);
    assert.deepEqual(u.habit('wrap', accountId('a2')), ['a0', 'a1', 'a2']);
    u.firstUse('wrap');
    assert.deepEqual(u.habit('wrap', accountId('a3')), ['a3']);
  });

  it('ties nothing by a sentence that most of its users send once (a public bank, a follow-up)', () => {
    const u = new PhraseUsage();
    for (let i = 0; i < 40; i++) u.firstUse('how many apples does ana have now?');
    for (let i = 0; i < 5; i++) assert.deepEqual(u.habit('how many apples does ana have now?', accountId(`eval${i}`)), []);
  });
});
