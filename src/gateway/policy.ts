/**
 * Policy: maps what is known about an account (risk, campaign membership, overrides,
 * allowlist) to one action. A pure function so that every rule is unit-tested.
 */
import { z } from 'zod';

export const ActionSchema = z.enum(['allow', 'flag', 'throttle', 'degrade', 'block']);
export type Action = z.infer<typeof ActionSchema>;

export const PolicySchema = z.strictObject({
  /**
   * `shadow`: the policy is computed and tallied (what it would have done) but never
   * enforced: every request goes through as allowed, and nothing in flight is cut.
   */
  mode: z.enum(['enforce', 'shadow']).default('enforce'),
  /** Accounts never acted on (known customers). */
  allowlist: z.array(z.string()).default([]),
  flagRisk: z.number().min(0).max(1).default(0.5),
  throttleRisk: z.number().min(0).max(1).default(0.7),
  degradeRisk: z.number().min(0).max(1).default(0.8),
  blockRisk: z.number().min(0).max(1).default(0.95),
  /** What happens to a member of a flagged campaign. */
  campaignAction: ActionSchema.default('block'),
  /** Token bucket for throttled accounts: requests per second and burst. */
  throttle: z.strictObject({ ratePerSec: z.number().positive().default(1), burst: z.number().positive().default(5) }).default({ ratePerSec: 1, burst: 5 }),
  /** Token bucket shared by all members of one campaign. */
  campaignThrottle: z.strictObject({ ratePerSec: z.number().positive().default(2), burst: z.number().positive().default(10) }).default({ ratePerSec: 2, burst: 10 }),
  degrade: z.strictObject({
    maxOutputTokens: z.number().int().positive().default(512),
    withholdReasoning: z.boolean().default(true),
  }).default({ maxOutputTokens: 512, withholdReasoning: true }),
});
export type Policy = z.infer<typeof PolicySchema>;

/** The lowest risk any rule acts on: standings below it need not be published. */
export function lowestActingRisk(policy: Policy): number {
  return Math.min(policy.flagRisk, policy.throttleRisk, policy.degradeRisk, policy.blockRisk);
}

/** What the gateway knows about one account when a request arrives. */
export interface AccountStanding {
  risk: number;
  campaignId: string | null;
  /** Set by an operator (admin route); wins over everything but the allowlist. */
  override: Action | null;
  blocked: boolean;
}

export const NO_STANDING: AccountStanding = { risk: 0, campaignId: null, override: null, blocked: false };

export interface Decision {
  action: Action;
  reason: string;
}

const SEVERITY: Record<Action, number> = { allow: 0, flag: 1, throttle: 2, degrade: 3, block: 4 };

/** The action for an account. Example: `decide(policy, 'a1', { risk: 0.99, ... }).action === 'block'`. */
export function decide(policy: Policy, accountId: string, s: AccountStanding): Decision {
  if (policy.allowlist.includes(accountId)) return { action: 'allow', reason: 'allowlisted' };
  if (s.override !== null) return { action: s.override, reason: 'operator override' };
  if (s.blocked) return { action: 'block', reason: 'on blocklist' };
  let d: Decision = { action: 'allow', reason: 'no concern' };
  const raise = (action: Action, reason: string) => {
    if (SEVERITY[action] > SEVERITY[d.action]) d = { action, reason };
  };
  if (s.risk >= policy.flagRisk) raise('flag', `risk ${s.risk.toFixed(2)}`);
  if (s.risk >= policy.throttleRisk) raise('throttle', `risk ${s.risk.toFixed(2)}`);
  if (s.risk >= policy.degradeRisk) raise('degrade', `risk ${s.risk.toFixed(2)}`);
  if (s.risk >= policy.blockRisk) raise('block', `risk ${s.risk.toFixed(2)}`);
  if (s.campaignId !== null) raise(policy.campaignAction, `member of campaign ${s.campaignId}`);
  return d;
}
