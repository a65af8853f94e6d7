/**
 * When a large component keeps the communities of its last clustering instead of being
 * clustered again. An operation of tens of thousands of accounts is one component that
 * changes on every linking run (its members keep gaining ties, new accounts keep joining);
 * clustering it from scratch each time costs its size, every run. Between clusterings it
 * only grows, and what grew is held back until the growth is worth a clustering.
 *
 * The rule reads only what both linkers know the same way (a component's accounts, the keys
 * they hold, the runs), so that the incremental linker, which knows what changed, and the
 * from-scratch linker, which compares with the components of its previous run, keep exactly
 * the same communities: a component of at least `deferAccounts` accounts whose only change
 * since its last clustering is growth (every account it had is still in it, it took in no
 * other component, the accounts it took in were in none) keeps that clustering's communities
 * until its accounts grew by `deferAccountGrowth`, what they hold by `deferHoldingGrowth`, or
 * `deferRuns` runs have passed since. Accounts it took in meanwhile are in no community.
 */
import type { Community } from './communities.js';

export interface DeferParams {
  /** Components of fewer accounts are clustered whenever they change. @default Infinity (never deferred) */
  deferAccounts?: number;
  /** Growth in accounts (a share) that makes a deferred component due. @default 0.02 */
  deferAccountGrowth?: number;
  /** Growth in holdings (account, key) that makes it due. @default 0.1 */
  deferHoldingGrowth?: number;
  /** Runs after its last clustering at which it is due whatever it grew. @default 24 */
  deferRuns?: number;
}

/** A component's last clustering, as the rule weighs it. */
export interface Clustering {
  accounts: number;
  /** Keys its accounts held, summed over them. */
  holdings: number;
  /** The linking run (call of `communities`) it was made on, counted from 1. */
  run: number;
  communities: Community[];
}

/** Whether a component this large is kept for the rule at all: a clustering of it is recorded. */
export const deferrable = (accounts: number, p: DeferParams): boolean => accounts >= (p.deferAccounts ?? Infinity);

/**
 * Whether a component that only grew since `last` keeps `last`'s communities on run `run`,
 * with `accounts` accounts holding `holdings` keys now.
 */
export function stillDeferred(last: Clustering, accounts: number, holdings: number, run: number, p: DeferParams): boolean {
  return (
    deferrable(accounts, p) &&
    accounts < last.accounts * (1 + (p.deferAccountGrowth ?? 0.02)) &&
    holdings < last.holdings * (1 + (p.deferHoldingGrowth ?? 0.1)) &&
    run - last.run < (p.deferRuns ?? 24)
  );
}
