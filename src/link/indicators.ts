/**
 * Indicators that can join two accounts: shared infrastructure (IPs, subnets, payment
 * methods), a shared harness (client fingerprint, fixed injected system prompt), shared
 * template families, and creation bursts. Kept as an inverted index, indicator → accounts,
 * updated as exchanges arrive.
 */
import type { ExchangeFeatures } from '../core/features.js';
import type { AccountId } from '../core/ids.js';

export const INDICATOR_KINDS = ['ip', 'subnet', 'payment', 'harness', 'system', 'template', 'phrase', 'item', 'burst'] as const;
export type IndicatorKind = (typeof INDICATOR_KINDS)[number];

/** One shared value of one kind, e.g. `harness:9f3a…`; built only by `indicatorKey`. */
export type IndicatorKey = `${IndicatorKind}:${string}`;

/** @example indicatorKey('ip', '203.0.113.7') // 'ip:203.0.113.7' */
export const indicatorKey = <K extends IndicatorKind>(kind: K, value: string): `${K}:${string}` => `${kind}:${value}`;

/** Link weight per kind: how much sharing it says about common control. */
export const KIND_WEIGHT: Record<IndicatorKind, number> = {
  payment: 3,
  harness: 2,
  system: 2,
  template: 1.5,
  phrase: 1,
  // A sentence of a public item that an account sent inside text of its own: the bank it
  // harvests, which honest users send too, so it ties suspects only and weighs little.
  item: 0.5,
  burst: 1,
  ip: 1,
  subnet: 0.3,
};

/** Kinds that say "same client software and habits", which survive a change of pool. */
export const HARNESS_KINDS: ReadonlySet<IndicatorKind> = new Set(['harness', 'system', 'template']);

/** Kinds that tie any holder, not only suspects (unless generic); see communities.ts. */
export const STRONG_KINDS: ReadonlySet<IndicatorKind> = new Set(['payment', 'harness', 'system', 'template']);

/**
 * The kind a key was built with, read from its first letters: no two kinds share their first
 * two. A slice was a new string on every call, and linking asks it of every key of a group on
 * every run. Only for keys built by `indicatorKey`; text from outside is `parseIndicatorKey`'s.
 */
export function kindOf(key: IndicatorKey): IndicatorKind {
  const second = key.charCodeAt(1);
  switch (key.charCodeAt(0)) {
    case 105: // i
      return second === 112 /* p */ ? 'ip' : 'item';
    case 115: // s
      return second === 117 /* u */ ? 'subnet' : 'system';
    case 112: // p
      return second === 97 /* a */ ? 'payment' : 'phrase';
    case 104: // h
      return 'harness';
    case 116: // t
      return 'template';
    default: // b
      return 'burst';
  }
}

const KINDS: ReadonlySet<string> = new Set(INDICATOR_KINDS);

/** A key read from outside (a store, an imported bundle), or null when it names no kind of indicator. */
export function parseIndicatorKey(text: string): IndicatorKey | null {
  const colon = text.indexOf(':');
  return colon > 0 && KINDS.has(text.slice(0, colon)) ? (text as IndicatorKey) : null;
}

/** Uses of a harness value or template by one account before it counts as that account's habit. */
export const HABIT_MIN_USES = 3;

const HOUR = 3_600_000;

/**
 * Account creation bucket: accounts created in the same hour with the same tier and email
 * domain. Farmed pools are created in bursts through one entry point.
 */
export function burstKey(f: ExchangeFeatures): IndicatorKey | null {
  if (f.account_created_at === null) return null;
  return indicatorKey('burst', `${Math.floor(f.account_created_at / HOUR)}:${f.tier ?? ''}:${f.email_domain ?? ''}`);
}

export class IndicatorIndex {
  readonly accounts = new Map<IndicatorKey, Set<AccountId>>();

  add(key: IndicatorKey, account: AccountId): boolean {
    let s = this.accounts.get(key);
    if (!s) {
      s = new Set();
      this.accounts.set(key, s);
    }
    if (s.has(account)) return false;
    s.add(account);
    return true;
  }

  holders(key: IndicatorKey): ReadonlySet<AccountId> {
    return this.accounts.get(key) ?? EMPTY;
  }
}

const EMPTY: ReadonlySet<AccountId> = new Set();
