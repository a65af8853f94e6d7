/**
 * Indicators another provider shared (imported from a STIX bundle): the engine treats an
 * account's use of one as evidence about its group, never as a verdict on its own.
 */
import type { ExchangeFeatures } from '../core/features.js';
import type { AccountId } from '../core/ids.js';
import { indicatorKey, kindOf, type IndicatorKey } from '../link/indicators.js';
import { ramp, type Finding } from './findings.js';

export interface KnownIndicator {
  key: IndicatorKey;
  /** The STIX bundle it came in, and who shared it (the bundle's producer identity). */
  bundleId: string;
  producer: string;
  /** The producer's confidence, 0..100, or null when it gave none. */
  confidence: number | null;
}

export interface KnownIndicators {
  /** The shared indicators with this key (one per bundle that shared it); empty when none. */
  lookup(key: IndicatorKey): readonly KnownIndicator[];
}

/** Known indicators held in memory, built from the records a store keeps. */
export class KnownIndicatorSet implements KnownIndicators {
  private readonly byKey = new Map<IndicatorKey, KnownIndicator[]>();
  constructor(items: Iterable<KnownIndicator>) {
    for (const k of items) {
      const list = this.byKey.get(k.key);
      if (!list) this.byKey.set(k.key, [k]);
      else if (!list.some((x) => x.bundleId === k.bundleId)) list.push(k);
    }
  }
  get size(): number {
    return this.byKey.size;
  }
  lookup(key: IndicatorKey): readonly KnownIndicator[] {
    return this.byKey.get(key) ?? NONE;
  }
}

const NONE: readonly KnownIndicator[] = [];

/** One imported bundle's reach in a group of accounts. */
export interface BundleUse {
  bundleId: string;
  producer: string;
  /** Accounts of the group that use at least one of its marks. */
  accounts: number;
  kinds: string[];
}

/** Which accounts have used which shared marks, and what that says about a group of them. */
export class IntelMatches {
  private readonly byAccount = new Map<AccountId, Map<IndicatorKey, readonly KnownIndicator[]>>();

  constructor(private readonly known: KnownIndicators) {}

  /**
   * Records the shared marks an exchange carries; `link` is told each one, so that the mark
   * joins the account on first use (its own marks count only once they are a habit).
   */
  observe(account: AccountId, f: ExchangeFeatures, link: (key: IndicatorKey) => void): void {
    const keys: IndicatorKey[] = [];
    if (f.harness_sig) keys.push(indicatorKey('harness', f.harness_sig));
    if (f.system_sig) keys.push(indicatorKey('system', f.system_sig));
    if (f.template_prefix) keys.push(indicatorKey('template', f.template_prefix));
    if (f.template_suffix) keys.push(indicatorKey('template', f.template_suffix));
    if (f.payment_fp !== null) keys.push(indicatorKey('payment', f.payment_fp));
    for (const key of keys) {
      const found = this.known.lookup(key);
      if (found.length === 0) continue;
      link(key);
      let mine = this.byAccount.get(account);
      if (!mine) {
        mine = new Map();
        this.byAccount.set(account, mine);
      }
      mine.set(key, found);
    }
  }

  has(account: AccountId): boolean {
    return this.byAccount.has(account);
  }

  /** The bundles whose marks the accounts use, most used first. */
  bundles(accounts: readonly AccountId[]): BundleUse[] {
    const out = new Map<string, { producer: string; accounts: number; kinds: Set<string> }>();
    for (const a of accounts) {
      const mine = this.byAccount.get(a);
      if (!mine) continue;
      const counted = new Set<string>();
      for (const [key, found] of mine) {
        for (const k of found) {
          let b = out.get(k.bundleId);
          if (!b) {
            b = { producer: k.producer, accounts: 0, kinds: new Set() };
            out.set(k.bundleId, b);
          }
          b.kinds.add(kindOf(key));
          if (!counted.has(k.bundleId)) {
            counted.add(k.bundleId);
            b.accounts++;
          }
        }
      }
    }
    return [...out]
      .map(([bundleId, b]) => ({ bundleId, producer: b.producer, accounts: b.accounts, kinds: [...b.kinds].sort() }))
      .sort((a, b) => b.accounts - a.accounts || a.bundleId.localeCompare(b.bundleId));
  }

  /** The group's use of shared marks as one finding naming the bundles, or null when few members use them. */
  finding(accounts: readonly AccountId[]): Finding | null {
    const bundles = this.bundles(accounts);
    if (bundles.length === 0) return null;
    const k = accounts.length;
    const strength = ramp(bundles[0]!.accounts / k, 0.2, 0.6);
    if (strength <= 0) return null;
    const named = bundles.slice(0, 3).map((b) => `${b.accounts} of ${k} accounts use ${b.kinds.join(' and ')} marks shared by ${b.producer} in ${b.bundleId}`);
    return { code: 'shared_intel', family: 'intel', strength: Math.min(1, strength), weight: 0.35, detail: named.join('; ') };
  }
}
