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
 *
 * A component may also lose a few accounts and stay deferred: an honest account on an
 * operation's network that was a suspect for a while (a burst of worked-answer prompts) and
 * is cleared leaves it, and so does whoever it alone tied in. Measured on the first 1M lines
 * of `hydra-28m`, bystanders clearing broke the operator's component on about half of the
 * linking runs, and each break clustered it again whole. Up to `deferAccountLoss` of its
 * accounts (a share of them at the last clustering, counted over every run since) may leave
 * it; its communities are then the last clustering's without them, their indicators counted
 * again (`withoutLost`). A component that lost more, or lost accounts and took in another
 * component, is clustered at once.
 */
import type { AccountId } from '../core/ids.js';
import type { Community } from './communities.js';
import type { IndicatorKey } from './indicators.js';

export interface DeferParams {
  /** Components of fewer accounts are clustered whenever they change. @default Infinity (never deferred) */
  deferAccounts?: number;
  /** Growth in accounts (a share) that makes a deferred component due. @default 0.02 */
  deferAccountGrowth?: number;
  /** Growth in holdings (account, key) that makes it due. @default 0.1 */
  deferHoldingGrowth?: number;
  /** Runs after its last clustering at which it is due whatever it grew. @default 24 */
  deferRuns?: number;
  /** Accounts it may lose (a share of its accounts at the last clustering) and stay deferred. @default 0 */
  deferAccountLoss?: number;
}

/** A component's last clustering, as the rule weighs it. */
export interface Clustering {
  accounts: number;
  /** Keys its accounts held, summed over them. */
  holdings: number;
  /** The linking run (call of `communities`) it was made on, counted from 1. */
  run: number;
  communities: Community[];
  /** Accounts the component lost since, over every run (none when clustered). */
  lost: number;
}

/** Whether a component this large is kept for the rule at all: a clustering of it is recorded. */
export const deferrable = (accounts: number, p: DeferParams): boolean => accounts >= (p.deferAccounts ?? Infinity);

/** A component's clustering as it is made, before it lost anything. */
export const clustering = (accounts: number, holdings: number, run: number, communities: Community[]): Clustering => ({ accounts, holdings, run, communities, lost: 0 });

/**
 * Whether a component that grew since `last`, and lost `lost` accounts since the previous run,
 * keeps `last`'s communities on run `run`, with `accounts` accounts holding `holdings` keys now.
 */
export function stillDeferred(last: Clustering, accounts: number, holdings: number, run: number, p: DeferParams, lost = 0): boolean {
  return (
    deferrable(accounts, p) &&
    accounts < last.accounts * (1 + (p.deferAccountGrowth ?? 0.02)) &&
    holdings < last.holdings * (1 + (p.deferHoldingGrowth ?? 0.1)) &&
    run - last.run < (p.deferRuns ?? 24) &&
    last.lost + lost <= last.accounts * (p.deferAccountLoss ?? 0)
  );
}

/**
 * `last` for a component that lost `lost` accounts: each community without the accounts that
 * are no longer members, its indicators counted again over those that stay (by `count`, as a
 * clustering counts them), and communities left empty dropped. Communities that lost no one
 * are the same objects.
 */
export function withoutLost(
  last: Clustering,
  lost: number,
  isMember: (account: AccountId) => boolean,
  count: (accounts: readonly AccountId[]) => Map<IndicatorKey, number>,
): Clustering {
  const communities: Community[] = [];
  for (const com of last.communities) {
    if (com.accounts.every(isMember)) {
      communities.push(com);
      continue;
    }
    const accounts = com.accounts.filter(isMember);
    if (accounts.length > 0) communities.push({ accounts, indicators: count(accounts) });
  }
  return { ...last, communities, lost: last.lost + lost };
}
