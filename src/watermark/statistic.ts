/**
 * The test: does a set of texts choose the key's forms more often than chance? Each
 * (pair, context) is scored once, by the form the texts use most there (ties not scored):
 * a model repeats its phrases, and counting each repeat would make the p-value falsely
 * small. Under the null (the texts never saw text marked with this key) the key's choice
 * in each context is an independent fair coin, independent of the texts, so the number of
 * matches is exactly Binomial(scored, 1/2); the p-value is its upper tail.
 */
import type { WatermarkKey } from './keys.js';
import { LEXICON, type LexiconPair } from './lexicon.js';
import { keyedForm } from './mark.js';
import { WordScanner } from './scan.js';

/** The contexts a set of texts has, with how often each form was used there; the same for every key. */
export interface ContextTable {
  readonly contexts: ReadonlyArray<{ pair: LexiconPair; context: string; counts: [number, number] }>;
  /** Markable words read, before de-duplication. */
  readonly occurrences: number;
}

export function collectContexts(texts: Iterable<string>): ContextTable {
  const byKey = new Map<string, { pair: LexiconPair; context: string; counts: [number, number] }>();
  let occurrences = 0;
  for (const text of texts) {
    new WordScanner().scan(text, (site) => {
      occurrences++;
      const k = `${site.pair.id}\u0000${site.context}`;
      let c = byKey.get(k);
      if (!c) byKey.set(k, (c = { pair: LEXICON[site.pair.id]!, context: site.context, counts: [0, 0] }));
      c.counts[site.index]++;
      return undefined;
    });
  }
  return { contexts: [...byKey.values()], occurrences };
}

export interface WatermarkScore {
  /** De-duplicated contexts scored (ties left out). */
  scored: number;
  /** Of those, how many use the key's form. */
  matches: number;
  /** One-sided: the chance of at least `matches` of `scored` under the null. */
  pValue: number;
}

export function scoreContexts(table: ContextTable, key: WatermarkKey): WatermarkScore {
  let scored = 0;
  let matches = 0;
  for (const c of table.contexts) {
    if (c.counts[0] === c.counts[1]) continue;
    scored++;
    const used = c.counts[0] > c.counts[1] ? 0 : 1;
    if (keyedForm(key, c.pair, c.context) === used) matches++;
  }
  return { scored, matches, pValue: binomialUpperTail(scored, matches) };
}

/** P(X >= k) for X ~ Binomial(n, 1/2), summed in log space so that tiny tails stay exact. */
export function binomialUpperTail(n: number, k: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  // log C(n, i), walked from i = 0.
  let logC = 0;
  const terms: number[] = [];
  for (let i = 1; i <= n; i++) {
    logC += Math.log(n - i + 1) - Math.log(i);
    if (i >= k) terms.push(logC);
  }
  const max = terms.reduce((a, b) => Math.max(a, b), -Infinity);
  let sum = 0;
  for (const t of terms) sum += Math.exp(t - max);
  return Math.min(1, Math.exp(max + Math.log(sum) - n * Math.LN2));
}
