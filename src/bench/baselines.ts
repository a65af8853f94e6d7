/**
 * The two rules a provider already has, as baselines for the benchmark: a per-account rate
 * limit and a per-account keyword rule for reasoning elicitation. Both are fed the same
 * exchanges in the same order as the detector and say when they would have flagged.
 */

const HOUR = 3_600_000;

export interface BaselineInput {
  account: string;
  ts: number;
  /** The prompt matches an explicit reasoning-elicitation keyword. */
  keyword: boolean;
}

export interface Baseline {
  readonly name: string;
  readonly description: string;
  observe(x: BaselineInput): void;
  flags(): Map<string, number>;
}

/** Flags an account whose requests in any sliding hour exceed `perHour`. */
export class RateLimitBaseline implements Baseline {
  readonly name = 'rate_limit';
  readonly description: string;
  private readonly windows = new Map<string, number[]>();
  private readonly flagged = new Map<string, number>();
  constructor(private readonly perHour = 120) {
    this.description = `more than ${perHour} requests in a sliding hour`;
  }
  observe(x: BaselineInput): void {
    if (this.flagged.has(x.account)) return;
    let w = this.windows.get(x.account);
    if (!w) this.windows.set(x.account, (w = []));
    w.push(x.ts);
    while (w.length > 0 && w[0]! <= x.ts - HOUR) w.shift();
    if (w.length > this.perHour) {
      this.flagged.set(x.account, x.ts);
      this.windows.delete(x.account);
    }
  }
  flags(): Map<string, number> {
    return this.flagged;
  }
}

/** Flags an account once `minHits` of its prompts, and at least `minShare` of them, use elicitation keywords. */
export class KeywordBaseline implements Baseline {
  readonly name = 'keyword_rule';
  readonly description: string;
  private readonly counts = new Map<string, { n: number; hits: number }>();
  private readonly flagged = new Map<string, number>();
  constructor(
    private readonly minHits = 10,
    private readonly minShare = 0.3,
  ) {
    this.description = `at least ${minHits} prompts and ${Math.round(minShare * 100)}% of them with reasoning-elicitation keywords`;
  }
  observe(x: BaselineInput): void {
    if (this.flagged.has(x.account)) return;
    let c = this.counts.get(x.account);
    if (!c) this.counts.set(x.account, (c = { n: 0, hits: 0 }));
    c.n++;
    if (x.keyword) c.hits++;
    if (c.hits >= this.minHits && c.hits / c.n >= this.minShare) this.flagged.set(x.account, x.ts);
  }
  flags(): Map<string, number> {
    return this.flagged;
  }
}
