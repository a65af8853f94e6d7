/**
 * A small student for the watermark benchmark: a trigram language model over whitespace
 * tokens (paragraph breaks kept as a token), trained by counting, sampled with stupid
 * backoff. It learns which word follows which, which is what a lexical watermark marks,
 * and trains on a few hundred thousand tokens in a second.
 */
import type { Rng } from '../traffic/rng.js';

const PARA = '\u00b6';
const START = '<s>';
const END = '</s>';

type Counts = Map<string, Map<string, number>>;

function add(m: Counts, ctx: string, next: string): void {
  let row = m.get(ctx);
  if (!row) m.set(ctx, (row = new Map()));
  row.set(next, (row.get(next) ?? 0) + 1);
}

function draw(row: Map<string, number>, rng: Rng): string {
  let total = 0;
  for (const n of row.values()) total += n;
  let r = rng.next() * total;
  for (const [w, n] of row) {
    r -= n;
    if (r < 0) return w;
  }
  return [...row.keys()].at(-1)!;
}

function tokens(text: string): string[] {
  return text.replace(/\n\s*\n/g, ` ${PARA} `).split(/\s+/).filter((t) => t.length > 0);
}

export class TrigramModel {
  private readonly tri: Counts = new Map();
  private readonly bi: Counts = new Map();
  private readonly uni: Counts = new Map();
  tokens = 0;

  train(texts: Iterable<string>): this {
    for (const text of texts) {
      const ts = [START, START, ...tokens(text), END];
      for (let i = 2; i < ts.length; i++) {
        add(this.tri, ts[i - 2] + ' ' + ts[i - 1], ts[i]!);
        add(this.bi, ts[i - 1]!, ts[i]!);
        add(this.uni, '', ts[i]!);
        this.tokens++;
      }
    }
    return this;
  }

  /** One text of at most `maxTokens` tokens: the trigram's choice when it has seen the context, else backing off. */
  sample(rng: Rng, maxTokens: number): string {
    const out: string[] = [];
    let a = START;
    let b = START;
    while (out.length < maxTokens) {
      const row = this.tri.get(a + ' ' + b) ?? this.bi.get(b) ?? this.uni.get('')!;
      const w = draw(row, rng);
      if (w === END) break;
      out.push(w);
      a = b;
      b = w;
    }
    return out.join(' ').replace(new RegExp(` ?${PARA} ?`, 'g'), '\n\n');
  }
}
