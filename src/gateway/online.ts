/**
 * Online detection: the scanner's engine fed live, off the request path. Linking runs on
 * a timer; what it concludes (risk, campaign) is published to the shared state, where
 * the policy reads it on the next request.
 */
import type { ExchangeFeatures } from '../core/features.js';
import { DetectionEngine, type FlagEvent } from '../detect/engine.js';
import type { DetectorParams } from '../detect/params.js';
import type { GatewayState } from './state.js';

export interface OnlineDetectorOptions {
  state: GatewayState;
  linkIntervalMs: number;
  /** Below this risk an account's standing is not published (it stays at 0). */
  publishRisk: number;
  params?: Partial<DetectorParams>;
  /** Told of every account flagged, so in-flight streams can be stopped. */
  onFlag?: (e: FlagEvent) => void;
}

export class OnlineDetector {
  readonly engine: DetectionEngine;
  private readonly timer: NodeJS.Timeout;
  private lastTs = 0;
  private pending: FlagEvent[] = [];

  constructor(private readonly opts: OnlineDetectorOptions) {
    // The engine's own event-time ticks would run linking inside observe(); a huge interval
    // leaves linking to the timer below, off the request path.
    this.engine = new DetectionEngine({ params: { ...(opts.params ?? {}), linkIntervalMs: 1e15 }, onFlag: (e) => this.pending.push(e) });
    this.timer = setInterval(() => void this.link(), opts.linkIntervalMs);
    this.timer.unref();
  }

  observe(f: ExchangeFeatures): void {
    if (f.ts > this.lastTs) this.lastTs = f.ts;
    this.engine.observe(f);
  }

  /** Runs linking at the latest event time seen and publishes the outcome. */
  async link(): Promise<void> {
    if (this.engine.exchanges === 0) return;
    this.engine.tick(this.lastTs + 1);
    const flagged = this.pending;
    this.pending = [];
    for (const e of flagged) {
      const v = this.engine.verdictOf(e.accountId);
      await this.opts.state.setRisk(e.accountId, Math.max(v?.risk ?? 0, 0.95), e.campaignId ?? v?.campaignId ?? null);
      this.opts.onFlag?.(e);
    }
    for (const v of this.engine.verdicts()) {
      if (v.flaggedAt !== null) continue;
      if (v.risk >= this.opts.publishRisk) await this.opts.state.setRisk(v.accountId, v.risk, v.campaignId);
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}
