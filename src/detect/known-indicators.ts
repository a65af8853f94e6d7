/**
 * Indicators another provider shared (imported from a STIX bundle): the engine treats an
 * account's use of one as evidence about its group, never as a verdict on its own.
 */
import type { IndicatorKey } from '../link/indicators.js';

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
