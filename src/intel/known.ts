/**
 * From the imported indicators a store keeps to what the engine matches. Only the marks of
 * a harness and a payment method count as evidence: they name one operator's client or card.
 * Addresses and networks are kept but not matched, because operators rent the same proxies
 * and clouds as everyone else; a partner's address is a lead for a human, not evidence here.
 */
import { KnownIndicatorSet, type KnownIndicator } from '../detect/known-indicators.js';
import { kindOf, parseIndicatorKey, STRONG_KINDS } from '../link/indicators.js';
import type { IntelIndicatorRecord } from '../store/store.js';

export function knownIndicators(records: readonly IntelIndicatorRecord[]): KnownIndicatorSet {
  const out: KnownIndicator[] = [];
  for (const r of records) {
    const key = r.key === null ? null : parseIndicatorKey(r.key);
    if (key === null || !STRONG_KINDS.has(kindOf(key))) continue;
    out.push({ key, bundleId: r.bundleId, producer: r.producer, confidence: r.confidence });
  }
  return new KnownIndicatorSet(out);
}
