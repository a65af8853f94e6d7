/**
 * From the imported indicators a store keeps to what the engine matches. Only the marks of
 * a harness and a payment method count as evidence: they name one operator's client or card.
 * Addresses and networks are kept but not matched, because operators rent the same proxies
 * and clouds as everyone else; a partner's address is a lead for a human, not evidence here.
 */
import { KnownIndicatorSet, type KnownIndicator } from '../detect/known-indicators.js';
import { indicatorKey, kindOf, STRONG_KINDS, type IndicatorKey } from '../link/indicators.js';
import type { IntelIndicatorRecord } from '../store/store.js';

export function knownIndicators(records: readonly IntelIndicatorRecord[]): KnownIndicatorSet {
  const out: KnownIndicator[] = [];
  for (const r of records) {
    if (r.key === null) continue;
    const colon = r.key.indexOf(':');
    if (colon < 0) continue;
    const kind = kindOf(r.key as IndicatorKey);
    if (!STRONG_KINDS.has(kind)) continue;
    out.push({ key: indicatorKey(kind, r.key.slice(colon + 1)), bundleId: r.bundleId, producer: r.producer, confidence: r.confidence });
  }
  return new KnownIndicatorSet(out);
}
