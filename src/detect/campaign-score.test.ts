import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { accountId } from '../core/ids.js';
import type { IndicatorKey } from '../link/indicators.js';
import { AccountState } from './account-state.js';
import { scoreAccount } from './account-score.js';
import { DEFAULT_PARAMS } from './params.js';
import { feat } from './_test-features.js';
import { activityCorrelation, scoreCampaign, type Member } from './campaign-score.js';

const T0 = Date.parse('2026-04-22T00:00:00Z');
const MINUTE = 60_000;

/** `accounts` accounts sharing one payment method, each sending `perAccount` requests; every `followUpEvery`-th one a follow-up. */
function group(accounts: number, perAccount: number, followUpEvery: number | null): Member[] {
  return Array.from({ length: accounts }, (_, i) => {
    const s = new AccountState(accountId(`a${i}`));
    for (let k = 0; k < perAccount; k++) {
      const followUp = followUpEvery !== null && k % followUpEvery === 0;
      s.observe(feat({ account_id: s.id, ts: T0 + k * 7 * MINUTE + i * 1000, payment_fp: 'pm-shared', n_messages: followUp ? 3 : 1, n_user_turns: followUp ? 2 : 1 }));
    }
    return { state: s, score: scoreAccount(s, DEFAULT_PARAMS) };
  });
}

function findingsOf(members: Member[]): string[] {
  const community = { accounts: members.map((m) => m.state.id), indicators: new Map<IndicatorKey, number>([['payment:pm-shared', members.length]]) };
  return scoreCampaign(community, members, DEFAULT_PARAMS, { headHour: Math.floor((T0 + 12 * 60 * MINUTE) / 3_600_000), modelFirstSeen: new Map() }).findings.map((f) => f.code);
}

describe('scoreCampaign', () => {
  it('counts a group that only ever sends one question per request as scripted', () => {
    assert.ok(findingsOf(group(12, 12, null)).includes('campaign_single_turn'));
  });

  it('does not call a group whose people ask follow-ups scripted', () => {
    assert.ok(!findingsOf(group(12, 12, 3)).includes('campaign_single_turn'));
  });

  it('judges a job queue\'s turns after five exchanges a member, and a class\'s conversations not', () => {
    // A load-balanced pool's first hours: a handful of requests per account, all single-turn.
    assert.ok(findingsOf(group(40, 5, null)).includes('campaign_single_turn'));
    // People at the same point: one question in two followed up.
    assert.ok(!findingsOf(group(40, 5, 2)).includes('campaign_single_turn'));
  });

  it('waits until the group has said enough before judging its turns', () => {
    assert.ok(!findingsOf(group(12, 4, null)).includes('campaign_single_turn'));
  });
});

describe('activityCorrelation', () => {
  it('says nothing about a group seen for less than a day', () => {
    // Two accounts seen in the same single hour: perfectly "correlated" series of zeros and one spike.
    const members = ['a', 'b'].map((id) => {
      const s = new AccountState(accountId(id));
      for (let k = 0; k < 5; k++) s.observe(feat({ account_id: id, ts: T0 + k * MINUTE }));
      return { state: s, score: scoreAccount(s, DEFAULT_PARAMS) };
    });
    assert.equal(activityCorrelation(members, Math.floor(T0 / 3_600_000)), 0);
  });

  it('is the mean correlation over every pair of members with activity that varies', () => {
    const HOUR = 3_600_000;
    // Pseudo-random hourly activity over three days; one member the same every hour (left out).
    let seed = 7;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const members = ['a', 'b', 'c', 'd', 'e', 'flat'].map((id) => {
      const s = new AccountState(accountId(id));
      for (let h = 0; h < 72; h++) {
        const n = id === 'flat' ? 2 : Math.floor(rand() * 4);
        for (let k = 0; k < n; k++) s.observe(feat({ account_id: id, ts: T0 + h * HOUR + k * MINUTE }));
      }
      return { state: s, score: scoreAccount(s, DEFAULT_PARAMS) };
    });
    const head = Math.floor(T0 / HOUR) + 71;
    // The definition, pair by pair, over the 72 hours the group has been seen.
    const centred = members
      .map((m) => Array.from(m.state.recentSeries(head).slice(-72)))
      .map((x) => {
        const mean = x.reduce((a, b) => a + b, 0) / x.length;
        return x.map((v) => v - mean);
      })
      .filter((c) => c.some((v) => v !== 0));
    assert.equal(centred.length, 5);
    let sum = 0;
    let pairs = 0;
    for (let i = 0; i < centred.length; i++)
      for (let j = i + 1; j < centred.length; j++) {
        const dot = (a: number[], b: number[]) => a.reduce((t, v, k) => t + v * b[k]!, 0);
        sum += dot(centred[i]!, centred[j]!) / Math.sqrt(dot(centred[i]!, centred[i]!) * dot(centred[j]!, centred[j]!));
        pairs++;
      }
    const got = activityCorrelation(members, head);
    assert.ok(Math.abs(got - sum / pairs) < 1e-12, `${got} against ${sum / pairs}`);
    // Two members alike hour by hour correlate at 1.
    assert.ok(Math.abs(activityCorrelation([members[0]!, members[0]!], head) - 1) < 1e-12);
  });
});

describe('scoreCampaign coordination', () => {
  const HOUR = 3_600_000;
  const ctx = (at: number) => ({ headHour: Math.floor(at / HOUR), modelFirstSeen: new Map<string, number>() });

  it('does not make a campaign of one heavy eliciting account and bystanders that share its SDK settings', () => {
    const heavy = new AccountState(accountId('eval'));
    for (let i = 0; i < 600; i++) heavy.observe(feat({ account_id: 'eval', ts: T0 + 20 * HOUR + i * 1500, elicitation: 1, harness_sig: 'h-sdk-defaults', account_created_at: T0 + 19 * HOUR }));
    const bystanders = ['u1', 'u2'].map((id) => {
      const s = new AccountState(accountId(id));
      for (let i = 0; i < 30; i++) s.observe(feat({ account_id: id, ts: T0 + i * 2 * HOUR, harness_sig: 'h-sdk-defaults', n_messages: i % 2 ? 3 : 1, n_user_turns: i % 2 ? 2 : 1 }));
      return s;
    });
    const members = [heavy, ...bystanders].map((s) => ({ state: s, score: scoreAccount(s, DEFAULT_PARAMS) }));
    const community = { accounts: members.map((m) => m.state.id), indicators: new Map<IndicatorKey, number>([['harness:h-sdk-defaults', 3]]) };
    const sc = scoreCampaign(community, members, DEFAULT_PARAMS, ctx(T0 + 60 * HOUR));
    assert.ok(sc.confidence < DEFAULT_PARAMS.campaignConfidence, `confidence ${sc.confidence}: ${sc.findings.map((f) => f.code).join(',')}`);
  });

  it('does not call products that share only a public template and a daily rhythm coordinated', () => {
    const products = ['p1', 'p2', 'p3', 'p4'].map((id, j) => {
      const s = new AccountState(accountId(id));
      for (let h = 0; h < 72; h++) {
        const load = h % 24 >= 7 && h % 24 < 23 ? 30 : 3;
        for (let k = 0; k < load; k++) s.observe(feat({ account_id: id, ts: T0 + h * HOUR + k * 100_000 + j, elicitation: 1, harness_sig: `h-${id}`, system_sig: `sys-${id}`, template_prefix: 'tp-public', template_suffix: 'ts-public' }));
      }
      return { state: s, score: scoreAccount(s, DEFAULT_PARAMS) };
    });
    const community = { accounts: products.map((m) => m.state.id), indicators: new Map<IndicatorKey, number>([['template:tp-public', 4], ['template:ts-public', 4]]) };
    const sc = scoreCampaign(community, products, DEFAULT_PARAMS, ctx(T0 + 72 * HOUR));
    assert.ok(sc.confidence <= 0.5, `confidence ${sc.confidence}: ${sc.findings.map((f) => f.code).join(',')}`);
  });
});

describe('scoreCampaign template ties', () => {
  it('calls new, network-rotating accounts that each run their own client but fill one wrapper coordinated', () => {
    const HOUR = 3_600_000;
    const members = Array.from({ length: 6 }, (_, i) => {
      const id = `h${i}`;
      const s = new AccountState(accountId(id));
      for (let k = 0; k < 60; k++) {
        const net = (i * 7 + k) % 9;
        s.observe(
          feat({
            account_id: id,
            ts: T0 + k * 20 * MINUTE + i * 1000,
            elicitation: 1,
            harness_sig: `own-client-${i}`,
            template_prefix: 'tp-operator',
            template_suffix: `ts-${k}`,
            prompt_hash: `item-${i}-${k}`,
            account_created_at: T0 - 2 * HOUR,
            ip: `203.0.113.${(k * 13 + i) % 250}`,
            subnet: `203.0.${net}.0/24`,
            asn: 64600 + net,
          }),
        );
      }
      return { state: s, score: scoreAccount(s, DEFAULT_PARAMS) };
    });
    const community = { accounts: members.map((m) => m.state.id), indicators: new Map<IndicatorKey, number>([['template:tp-operator', 6]]) };
    const sc = scoreCampaign(community, members, DEFAULT_PARAMS, { headHour: Math.floor((T0 + 20 * HOUR) / HOUR), modelFirstSeen: new Map() });
    assert.ok(sc.confidence >= DEFAULT_PARAMS.campaignConfidence, `confidence ${sc.confidence}: ${sc.findings.map((f) => `${f.code}:${f.strength.toFixed(2)}`).join(',')}`);
  });
});

describe('scoreCampaign model pivot', () => {
  const HOUR = 3_600_000;
  /** Four accounts on `m-1` from T0, moving `share` of their traffic to `m-2` from `switchAt`. */
  const pivoting = (switchAt: number, share: number): Member[] =>
    Array.from({ length: 4 }, (_, i) => {
      const s = new AccountState(accountId(`p${i}`));
      for (let k = 0; k < 80; k++) {
        const ts = T0 + k * HOUR + i * 1000;
        s.observe(feat({ account_id: s.id, ts, model: ts >= switchAt && k % 10 < share * 10 ? 'm-2' : 'm-1', payment_fp: 'pm-shared' }));
      }
      return { state: s, score: scoreAccount(s, DEFAULT_PARAMS) };
    });
  const tactics = (members: Member[], released: number): string[] => {
    const community = { accounts: members.map((m) => m.state.id), indicators: new Map<IndicatorKey, number>([['payment:pm-shared', members.length]]) };
    const modelFirstSeen = new Map([['m-0', T0 - 90 * 24 * HOUR], ['m-1', T0 - 30 * 24 * HOUR], ['m-2', released]]);
    return scoreCampaign(community, members, DEFAULT_PARAMS, { headHour: Math.floor((T0 + 80 * HOUR) / HOUR), modelFirstSeen }).tactics;
  };

  it('names a group that moves most of its traffic to a model within a day of its release', () => {
    assert.ok(tactics(pivoting(T0 + 30 * HOUR, 0.6), T0 + 20 * HOUR).includes('model_pivot'));
  });

  it('does not for a move days after the release, a small share, or a model out before the group began', () => {
    assert.ok(!tactics(pivoting(T0 + 60 * HOUR, 0.6), T0 + 20 * HOUR).includes('model_pivot'));
    assert.ok(!tactics(pivoting(T0 + 30 * HOUR, 0.1), T0 + 20 * HOUR).includes('model_pivot'));
    assert.ok(!tactics(pivoting(T0 + 30 * HOUR, 0.6), T0 - HOUR).includes('model_pivot'));
  });
});
