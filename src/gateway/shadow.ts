/**
 * Shadow mode's tally: what the policy would have done had it been enforced. A provider
 * runs the gateway this way first and measures (how many requests, which accounts) before
 * it lets the policy act.
 */
import type { Action } from './policy.js';

/** Accounts tallied one by one; beyond, only the totals grow (a memory bound, not a sample). */
const MAX_ACCOUNTS = 10_000;

export type ActedAction = Exclude<Action, 'allow'>;

export class ShadowTally {
  readonly since = new Date().toISOString();
  private readonly totals: Record<ActedAction, number> = { flag: 0, throttle: 0, degrade: 0, block: 0 };
  private readonly accounts = new Map<string, Record<ActedAction, number>>();

  note(accountId: string, action: ActedAction): void {
    this.totals[action]++;
    let a = this.accounts.get(accountId);
    if (a === undefined && this.accounts.size < MAX_ACCOUNTS) this.accounts.set(accountId, (a = { flag: 0, throttle: 0, degrade: 0, block: 0 }));
    if (a !== undefined) a[action]++;
  }

  /** The totals and the accounts most often would-have-blocked (then throttled...), at most `top`. */
  view(top = 50): { since: string; would_have: Record<ActedAction, number>; accounts: ({ account_id: string } & Record<ActedAction, number>)[] } {
    const accounts = [...this.accounts]
      .map(([account_id, n]) => ({ account_id, ...n }))
      .sort((a, b) => b.block - a.block || b.degrade - a.degrade || b.throttle - a.throttle || b.flag - a.flag || a.account_id.localeCompare(b.account_id))
      .slice(0, top);
    return { since: this.since, would_have: { ...this.totals }, accounts };
  }
}
