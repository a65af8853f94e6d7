/**
 * The test: do a set of texts lean toward the key's forms more often than chance? Each
 * (pair, context) is scored once (a model repeats its phrases, and counting each repeat
 * would make the p-value falsely small), by the form the texts lean to there: the form
 * used more often in this context than over all the pair's uses in the texts. A
 * context that leans neither way, or too little (|z| below `minLean`), is not scored.
 *
 * Why lean rather than the most used form: a student trained on a little marked text
 * (1 in 10 answers) still mostly writes the common form, but writes the key's form more
 * often in the contexts where the key chose it than elsewhere; the lean sees that, the
 * majority does not. Under the null (the texts never saw text marked with this key) the
 * lean is a function of the texts alone and the key's choice in each context is an
 * independent fair coin, so the number of matches is exactly Binomial(scored, 1/2),
 * whatever the texts; the p-value is its upper tail.
 */
import type { WatermarkKey } from './keys.js';
import { LEXICON, type LexiconPair } from './lexicon.js';
import { keyedForm } from './mark.js';
import { WordScanner } from './scan.js';

export interface ScoredContext {
  pair: LexiconPair;
  context: string;
  counts: [number, number];
  /** The form the texts lean to in this context, and how far (a z-score against the pair's rate in the texts); null when neither. */
  lean: { form: 0 | 1; z: number } | null;
}

/** The contexts a set of texts has, with the form each leans to; the same for every key. */
export interface ContextTable {
  readonly contexts: readonly ScoredContext[];
  /** Markable words read, before de-duplication. */
  readonly occurrences: number;
}

export function collectContexts(texts: Iterable<string>): ContextTable {
  const byKey = new Map<string, ScoredContext>();
  const perPair = new Map<number, [number, number]>();
  let occurrences = 0;
  for (const text of texts) {
    new WordScanner().scan(text, (site) => {
      occurrences++;
      const k = `${site.pair.id}\u0000${site.context}`;
      let c = byKey.get(k);
      if (!c) byKey.set(k, (c = { pair: LEXICON[site.pair.id]!, context: site.context, counts: [0, 0], lean: null }));
      c.counts[site.index]++;
      let p = perPair.get(site.pair.id);
      if (!p) perPair.set(site.pair.id, (p = [0, 0]));
      p[site.index]++;
      return undefined;
    });
  }
  for (const c of byKey.values()) {
    const [a, b] = perPair.get(c.pair.id)!;
    const rate = b / (a + b);
    const n = c.counts[0] + c.counts[1];
    const dev = c.counts[1] - n * rate;
    // A pair used in one form only leans nowhere: there is nothing to compare with.
    if (rate === 0 || rate === 1 || Math.abs(dev) < 1e-9) continue;
    c.lean = { form: dev > 0 ? 1 : 0, z: Math.abs(dev) / Math.sqrt(n * rate * (1 - rate)) };
  }
  return { contexts: [...byKey.values()], occurrences };
}

export interface WatermarkScore {
  /** De-duplicated contexts scored. */
  scored: number;
  /** Of those, how many lean to the key's form. */
  matches: number;
  /** One-sided: the chance of at least `matches` of `scored` under the null. */
  pValue: number;
}

export interface ScoreOptions {
  /**
   * Contexts that lean less than this (|z|) are not scored: they add as much noise as signal.
   * @default 1
   */
  minLean?: number;
}

export function scoreContexts(table: ContextTable, key: WatermarkKey, opts: ScoreOptions = {}): WatermarkScore {
  const minLean = opts.minLean ?? 1;
  let scored = 0;
  let matches = 0;
  for (const c of table.contexts) {
    if (c.lean === null || c.lean.z < minLean) continue;
    scored++;
    if (keyedForm(key, c.pair, c.context) === c.lean.form) matches++;
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
