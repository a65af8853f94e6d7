import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, NO_STANDING, PolicySchema } from './policy.js';

const policy = PolicySchema.parse({ allowlist: ['acct_known'] });

test('policy allows an account with no concern', () => {
  assert.equal(decide(policy, 'a', NO_STANDING).action, 'allow');
});

test('policy escalates with risk: flag, throttle, degrade, block', () => {
  assert.equal(decide(policy, 'a', { ...NO_STANDING, risk: 0.55 }).action, 'flag');
  assert.equal(decide(policy, 'a', { ...NO_STANDING, risk: 0.75 }).action, 'throttle');
  assert.equal(decide(policy, 'a', { ...NO_STANDING, risk: 0.85 }).action, 'degrade');
  assert.equal(decide(policy, 'a', { ...NO_STANDING, risk: 0.99 }).action, 'block');
});

test('policy applies the campaign action to a member of a campaign whatever its own risk', () => {
  const d = decide(policy, 'a', { ...NO_STANDING, risk: 0.1, campaignId: 'cmp_1' });
  assert.equal(d.action, 'block');
  assert.match(d.reason, /cmp_1/);
  const throttling = PolicySchema.parse({ campaignAction: 'throttle' });
  assert.equal(decide(throttling, 'a', { ...NO_STANDING, campaignId: 'cmp_1' }).action, 'throttle');
});

test('policy keeps the more severe of risk and campaign actions', () => {
  const throttling = PolicySchema.parse({ campaignAction: 'throttle' });
  assert.equal(decide(throttling, 'a', { ...NO_STANDING, risk: 0.99, campaignId: 'cmp_1' }).action, 'block');
});

test('policy never acts on an allowlisted account, even when blocked or in a campaign', () => {
  const d = decide(policy, 'acct_known', { risk: 1, campaignId: 'cmp_1', override: 'block', blocked: true });
  assert.deepEqual(d, { action: 'allow', reason: 'allowlisted' });
});

test('policy lets an operator override win over risk and the blocklist', () => {
  assert.equal(decide(policy, 'a', { risk: 1, campaignId: 'cmp_1', override: 'allow', blocked: true }).action, 'allow');
  assert.equal(decide(policy, 'a', { ...NO_STANDING, override: 'degrade' }).action, 'degrade');
});

test('policy blocks an account on the blocklist', () => {
  assert.equal(decide(policy, 'a', { ...NO_STANDING, blocked: true }).action, 'block');
});

test('policy schema rejects an unknown campaign action', () => {
  assert.equal(PolicySchema.safeParse({ campaignAction: 'nuke' }).success, false);
});
