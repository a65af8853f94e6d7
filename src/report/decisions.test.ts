import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CampaignReport, ScanReport } from '../core/report.js';
import type { CaseDecision } from '../store/casework.js';
import { withDecisions } from './decisions.js';
import { currentDecisions } from '../investigate/decisions.js';
import { formatSummary } from './summary.js';

function campaign(id: string, accounts: string[], shared: { kind: string; value: string }[]): CampaignReport {
  return {
    id, confidence: 0.9, accounts, exchanges: 10, first_seen: '2026-01-01T00:00:00.000Z', last_seen: '2026-01-02T00:00:00.000Z', first_flagged_at: '2026-01-01T06:00:00.000Z',
    capabilities: { coding: 1 }, tactics: [], explanation: 'x', links: {},
    indicators: { ips: [], asns: [], payment_fingerprints: [], templates: [], user_agents: [], harnesses: [], subnets: [] },
    shared_indicators: shared.map((s) => ({ ...s, accounts: accounts.length })),
  };
}
const acct = (id: string, campaignId: string) => ({ account_id: id, risk: 0.97, verdict: 'distillation' as const, campaign_id: campaignId, first_flagged_at: '2026-01-01T06:00:00.000Z', reasons: ['r'], exchanges: 5 });
const base = { seq: 1, at: '2026-01-03T00:00:00.000Z', actor: 'ana', note: '' };

test('a campaign sharing a confirmed campaign\'s harness marks is named its successor, in the report and the summary', () => {
  const report: ScanReport = {
    generated_at: '', input: { exchanges: 20, accounts: 4, bad_records: 0 },
    campaigns: [campaign('cmp_new', ['n1', 'n2'], [{ kind: 'harness', value: 'h1' }, { kind: 'ip', value: '10.0.0.9' }])],
    accounts: [acct('n1', 'cmp_new'), acct('n2', 'cmp_new')],
  };
  const confirmed: CaseDecision = { ...base, kind: 'confirm', target: { kind: 'campaign', id: 'cmp_old' }, marks: ['harness:h1', 'template:t1'], accounts: ['o1', 'o2'] };
  const out = withDecisions(report, [confirmed]);
  assert.deepEqual(out.campaigns[0]!.successor_of, { campaign_id: 'cmp_old', marks: ['harness:h1'] });
  assert.match(formatSummary(out), /successor of cmp_old \(confirmed\)/);
  assert.equal(out.accounts[0]!.verdict, 'distillation', 'a successor is not set aside');
});

test('a dismissal sets aside an account raised again only by dismissed indicators, not one raised by a new one', () => {
  const report: ScanReport = {
    generated_at: '', input: { exchanges: 20, accounts: 4, bad_records: 0 },
    campaigns: [campaign('cmp_a', ['a1'], [{ kind: 'ip', value: '10.0.0.1' }]), campaign('cmp_b', ['a2'], [{ kind: 'ip', value: '10.0.0.1' }, { kind: 'payment', value: 'p9' }])],
    accounts: [acct('a1', 'cmp_a'), acct('a2', 'cmp_b')],
  };
  const dismissed: CaseDecision = { ...base, kind: 'dismiss', reason: 'shared_infrastructure', target: { kind: 'campaign', id: 'cmp_old' }, marks: ['ip:10.0.0.1'], accounts: ['a1', 'a2'] };
  const out = withDecisions(report, [dismissed]);
  assert.deepEqual([out.accounts[0]!.verdict, out.accounts[0]!.engine_verdict], ['benign', 'distillation']);
  assert.match(out.accounts[0]!.reasons[0]!, /dismissed as a false positive \(shared_infrastructure\) by ana/);
  assert.equal(out.accounts[1]!.verdict, 'distillation', 'a new payment tie raises it again');
  assert.match(formatSummary(out), /dismissed \(shared_infrastructure\) by ana/);
});

test('a snooze past its date is no longer shown', () => {
  const report: ScanReport = { generated_at: '', input: { exchanges: 1, accounts: 1, bad_records: 0 }, campaigns: [campaign('cmp_a', ['a1'], [])], accounts: [acct('a1', 'cmp_a')] };
  const snoozed: CaseDecision = { ...base, kind: 'snooze', until: '2026-01-04T00:00:00.000Z', target: { kind: 'campaign', id: 'cmp_a' }, marks: [], accounts: ['a1'] };
  assert.equal(withDecisions(report, [snoozed], Date.parse('2026-01-03T12:00:00Z')).campaigns[0]!.decision?.kind, 'snooze');
  assert.equal(withDecisions(report, [snoozed], Date.parse('2026-01-05T00:00:00Z')).campaigns[0]!.decision, undefined);
});

test('a campaign decision follows its members when a later scan numbers their campaign differently, and leaves the campaign that took its old id', () => {
  // The first scan called the members' campaign cmp_2; a scan of the grown store found another campaign first.
  const report: ScanReport = {
    generated_at: '', input: { exchanges: 30, accounts: 5, bad_records: 0 },
    campaigns: [campaign('cmp_2', ['x1', 'x2'], [{ kind: 'payment', value: 'p7' }]), campaign('cmp_3', ['a1', 'a2', 'a3'], [{ kind: 'ip', value: '10.0.0.1' }])],
    accounts: [acct('x1', 'cmp_2'), acct('x2', 'cmp_2'), acct('a1', 'cmp_3'), acct('a2', 'cmp_3'), acct('a3', 'cmp_3')],
  };
  const dismissed: CaseDecision = { ...base, kind: 'dismiss', reason: 'research_partner', target: { kind: 'campaign', id: 'cmp_2' }, marks: ['ip:10.0.0.1'], accounts: ['a1', 'a2'] };
  const out = withDecisions(report, [dismissed]);
  assert.equal(out.campaigns.find((c) => c.id === 'cmp_3')!.decision?.kind, 'dismiss', 'the decision is on the campaign its members are in now');
  assert.equal(out.campaigns.find((c) => c.id === 'cmp_2')!.decision, undefined, 'not on the campaign that took the old id');
  assert.deepEqual(out.accounts.map((a) => [a.account_id, a.verdict]), [['x1', 'distillation'], ['x2', 'distillation'], ['a1', 'benign'], ['a2', 'benign'], ['a3', 'distillation']], 'the accounts dismissed are set aside, a newcomer is not');
  // Through the investigation read model as well: the list shows the decision beside the right campaign.
  const current = currentDecisions([dismissed], report);
  assert.equal(current.get('campaign:cmp_3')?.kind, 'dismiss');
  assert.equal(current.get('campaign:cmp_2'), undefined);
  // A campaign that keeps fewer than half of the members decided on is another campaign.
  const scattered: ScanReport = { ...report, campaigns: [campaign('cmp_9', ['a1', 'z1', 'z2'], [])] };
  assert.equal(currentDecisions([{ ...dismissed, accounts: ['a1', 'a2', 'a3'] }], scattered).size, 0);
});
