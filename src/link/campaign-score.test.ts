import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AccountState } from '../detect/account-state.js';
import { scoreAccount } from '../detect/account-score.js';
import { DEFAULT_PARAMS } from '../detect/params.js';
import { feat } from '../detect/_test-features.js';
import { scoreCampaign, type Member } from './campaign-score.js';

const T0 = Date.parse('2026-04-22T00:00:00Z');
const MINUTE = 60_000;

/** `accounts` accounts sharing one payment method, each sending `perAccount` requests; every `followUpEvery`-th one a follow-up. */
function group(accounts: number, perAccount: number, followUpEvery: number | null): Member[] {
  return Array.from({ length: accounts }, (_, i) => {
    const s = new AccountState(`a${i}`);
    for (let k = 0; k < perAccount; k++) {
      const followUp = followUpEvery !== null && k % followUpEvery === 0;
      s.observe(feat({ account_id: s.id, ts: T0 + k * 7 * MINUTE + i * 1000, payment_fp: 'pm-shared', n_messages: followUp ? 3 : 1, n_user_turns: followUp ? 2 : 1 }));
    }
    return { state: s, score: scoreAccount(s, DEFAULT_PARAMS) };
  });
}

function findingsOf(members: Member[]): string[] {
  const community = { accounts: members.map((m) => m.state.id), indicators: new Map([['payment:pm-shared', members.length]]) };
  return scoreCampaign(community, members, DEFAULT_PARAMS, { headHour: Math.floor((T0 + 12 * 60 * MINUTE) / 3_600_000), modelFirstSeen: new Map() }).findings.map((f) => f.code);
}

describe('scoreCampaign', () => {
  it('counts a group that only ever sends one question per request as scripted', () => {
    assert.ok(findingsOf(group(12, 12, null)).includes('campaign_single_turn'));
  });

  it('does not call a group whose people ask follow-ups scripted', () => {
    assert.ok(!findingsOf(group(12, 12, 3)).includes('campaign_single_turn'));
  });

  it('waits until the group has said enough before judging its turns', () => {
    assert.ok(!findingsOf(group(12, 5, null)).includes('campaign_single_turn'));
  });
});
