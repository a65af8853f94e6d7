/**
 * The suspect-model test over every key that could have marked the texts: the key of
 * accounts marked before a campaign was found, and each campaign's. Trying k keys gives k
 * chances of a small p-value by luck, so the smallest is multiplied by k (Bonferroni), which
 * holds whatever the dependence between the keys' tests.
 */
import { deriveKey, scopeName, UNATTRIBUTED, type KeyScope, type MasterKey } from './keys.js';
import { collectContexts, scoreContexts, type WatermarkScore } from './statistic.js';

export interface KeyResult extends WatermarkScore {
  scope: KeyScope;
  name: string;
}

export interface ProveResult {
  /** Bonferroni-corrected: the smallest key's p-value times the number of keys tried. */
  pValue: number;
  /** The key with the smallest p-value. */
  best: KeyResult;
  keys: KeyResult[];
  /** De-duplicated contexts scored (the same for every key). */
  scored: number;
  texts: number;
  /** Markable words read, before de-duplication. */
  occurrences: number;
  correction: string;
}

export function prove(master: MasterKey, texts: readonly string[], campaigns: readonly string[]): ProveResult {
  const table = collectContexts(texts);
  const scopes: KeyScope[] = [UNATTRIBUTED, ...[...new Set(campaigns)].map((campaignId): KeyScope => ({ kind: 'campaign', campaignId }))];
  const keys = scopes.map((scope) => ({ scope, name: scopeName(scope), ...scoreContexts(table, deriveKey(master, scope)) }));
  const best = keys.reduce((a, b) => (b.pValue < a.pValue ? b : a));
  return {
    pValue: Math.min(1, best.pValue * keys.length),
    best,
    keys,
    scored: best.scored,
    texts: texts.length,
    occurrences: table.occurrences,
    correction: keys.length === 1 ? 'none (one key tried)' : `Bonferroni over ${keys.length} keys`,
  };
}
