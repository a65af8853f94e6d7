/**
 * Event-time ticks for a replay: one linking run every `linkIntervalMs` of event time,
 * before the first exchange at or past each boundary, so that a run sees only what came
 * before it, and one in between whenever the engine says that enough has changed to link
 * (`linkDue`). The gateway ticks on a wall-clock timer every few seconds and needs none of this.
 */
import type { ExchangeFeatures } from '../core/features.js';

export interface Tickable {
  observe(f: ExchangeFeatures): void;
  tick(at: number): void;
  finish(): void;
  /** Whether a linking run is due before an exchange at `at`, between the interval's runs. */
  linkDue?(at: number): boolean;
}

export class EventTimeTicker {
  private nextTick = -Infinity;

  constructor(
    private readonly engine: Tickable,
    private readonly intervalMs: number,
  ) {}

  /** Feeds one exchange (event-time order), ticking first when it crosses a boundary. */
  observe(f: ExchangeFeatures): void {
    if (f.ts >= this.nextTick) {
      const boundary = Math.floor(f.ts / this.intervalMs) * this.intervalMs;
      if (this.nextTick !== -Infinity) this.engine.tick(boundary);
      this.nextTick = boundary + this.intervalMs;
    } else if (this.engine.linkDue?.(f.ts)) this.engine.tick(f.ts);
    this.engine.observe(f);
  }

  /** One last linking run after the last exchange. */
  finish(): void {
    this.engine.finish();
  }
}

/**
 * Replays time-ordered exchanges through an engine with event-time ticks.
 * @example replay(new DetectionEngine(), sortedFeatures)
 */
export function replay<E extends Tickable & { params: { linkIntervalMs: number } }>(engine: E, exchanges: Iterable<ExchangeFeatures>): E {
  const ticker = new EventTimeTicker(engine, engine.params.linkIntervalMs);
  for (const f of exchanges) ticker.observe(f);
  ticker.finish();
  return engine;
}
