/**
 * The gateway's watermark from its config: which answers are marked (`apply`) and with
 * which key (the account's campaign's, derived from the master key in `keyFile`, or the
 * key of accounts marked before any campaign was found).
 */
import { deriveKey, readMasterKey, UNATTRIBUTED, type KeyScope, type MasterKey, type WatermarkKey } from '../watermark/keys.js';
import { TextMarker } from '../watermark/mark.js';
import type { Recipient, Watermark } from './degrade.js';

export type WatermarkApply = 'flagged' | 'suspicious' | 'all';

export interface WatermarkConfig {
  keyFile: string;
  apply: WatermarkApply;
}

/** The master key could not be read: the gateway does not start, rather than serve unmarked answers it was told to mark. */
export class WatermarkKeyError extends Error {
  override readonly name = 'WatermarkKeyError';
}

/**
 * Whether an answer is marked. `flagged`: members of a flagged campaign and accounts the
 * policy degrades; `suspicious`: also any account the policy acts on at all (flag,
 * throttle); `all`: every answer.
 */
export function shouldMark(apply: WatermarkApply, to: Recipient): boolean {
  if (apply === 'all') return true;
  if (to.campaignId !== null || to.action === 'degrade') return true;
  return apply === 'suspicious' && to.action !== 'allow';
}

/** The watermark hook for a master key: one marker per text slot of each answer, keyed by the account's campaign. */
export function keyedWatermark(master: MasterKey, apply: WatermarkApply): Watermark {
  const keys = new Map<string, WatermarkKey>();
  // Derived once per campaign: HKDF per answer would cost more than the marking.
  const keyFor = (scope: KeyScope): WatermarkKey => {
    const id = scope.kind === 'campaign' ? scope.campaignId : '';
    let k = keys.get(id);
    if (!k) {
      if (keys.size > 10_000) keys.clear();
      keys.set(id, (k = deriveKey(master, scope)));
    }
    return k;
  };
  return (to) => {
    if (!shouldMark(apply, to)) return null;
    const key = keyFor(to.campaignId !== null ? { kind: 'campaign', campaignId: to.campaignId } : UNATTRIBUTED);
    const slots = new Map<number, TextMarker>();
    return (slot, text) => {
      let m = slots.get(slot);
      if (!m) slots.set(slot, (m = new TextMarker(key)));
      return m.mark(text);
    };
  };
}

/** The configured watermark, its key file read now. */
export function configuredWatermark(c: WatermarkConfig): Watermark {
  const master = readMasterKey(c.keyFile);
  if (!master.ok) throw new WatermarkKeyError(master.error);
  return keyedWatermark(master.value, c.apply);
}
