/**
 * Online detection: the scanner's engine fed live. Linking runs on a timer; what it
 * concludes (risk, campaign, flags) goes to `publish`, which puts it where the policy reads
 * it on the next request. Runs inside the analysis worker, off the proxy's thread.
 */
import type { ExchangeFeatures } from '../core/features.js';
import { DetectionEngine, type FlagEvent } from '../detect/engine.js';
import type { DetectorParams } from '../detect/params.js';

/** A conclusion of linking: an account's risk, its campaign, and whether it was just flagged. */
export interface RiskUpdate {
  accountId: string;
  risk: number;
  campaignId: string | null;
  /** Set when this linking run flagged the account: in-flight streams are to be cut. */
  flag?: FlagEvent;
}

export interface OnlineDetectorOptions {
  linkIntervalMs: number;
  /** Below this risk an account's standing is not published (it stays at 0). */
  publishRisk: number;
  params?: Partial<DetectorParams>;
  publish: (updates: RiskUpdate[]) => void;
}

export class OnlineDetector {
  readonly engine: DetectionEngine;
  private readonly timer: NodeJS.Timeout;
  private lastTs = 0;
  private pending: FlagEvent[] = [];
  /** Below this risk an account's standing is not published; a policy reload moves it. */
  publishRisk: number;

  constructor(private readonly opts: OnlineDetectorOptions) {
    this.publishRisk = opts.publishRisk;
    // The engine links only when ticked: the timer below ticks it on wall-clock time.
    this.engine = new DetectionEngine({ params: opts.params ?? {}, onFlag: (e) => this.pending.push(e) });
    this.timer = setInterval(() => this.link(), opts.linkIntervalMs);
    this.timer.unref();
  }

  observe(f: ExchangeFeatures): void {
    if (f.ts > this.lastTs) this.lastTs = f.ts;
    this.engine.observe(f);
  }

  /** Runs linking at the latest event time seen and publishes the outcome. */
  link(): void {
    if (this.engine.exchanges === 0) return;
    this.engine.tick(this.lastTs + 1);
    const flagged = this.pending;
    this.pending = [];
    const updates: RiskUpdate[] = [];
    for (const e of flagged) {
      const v = this.engine.verdictOf(e.accountId);
      updates.push({ accountId: e.accountId, risk: Math.max(v?.risk ?? 0, 0.95), campaignId: e.campaignId ?? v?.campaignId ?? null, flag: e });
    }
    for (const v of this.engine.verdicts()) {
      if (v.flaggedAt !== null) continue;
      if (v.risk >= this.publishRisk) updates.push({ accountId: v.accountId, risk: v.risk, campaignId: v.campaignId });
    }
    if (updates.length > 0) this.opts.publish(updates);
  }

  close(): void {
    clearInterval(this.timer);
  }
}
