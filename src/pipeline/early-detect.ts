/**
 * Detection while the input is read: the engine is fed the rows the feature workers
 * encode, in event-time order, on the scan's own thread, while the workers and the store's
 * threads ingest. On a 2-core machine the ingest alone leaves the scan's thread idle most
 * of the time; the replay afterwards kept one core busy while the other waited. Fed this
 * way, the engine overlaps the ingest and the replay (a sort and a read-back of every
 * stored row) is not needed at all.
 *
 * It must give exactly what the replay gives, so it only ever commits to a result it can
 * prove is the replay's: the rows are put back in the replay's order (event time, then id)
 * through a buffer that holds the last `holdMs` of event time, and the first row older than
 * one already fed, a duplicate or a store that held rows before makes it give up; the scan
 * then replays the store as before. Logs merged from several servers are out of order by
 * seconds, which the buffer absorbs; a file sorted some other way is replayed.
 */
import type { ExchangeFeatures } from '../core/features.js';
import { EventTimeTicker } from '../detect/ticker.js';
import type { DetectionEngine } from '../detect/engine.js';
import { before, ReplayOrderBuffer } from './replay-order.js';

export interface EarlyDetectOptions {
  /**
   * Event time a row is held before it is fed: rows may arrive this much out of order.
   * @default 600000 (ten minutes)
   */
  holdMs?: number;
  /**
   * Rows held at most (the buffer's memory): beyond it the oldest is fed whatever its time.
   * @default 50000
   */
  maxHeld?: number;
}

/** Why the engine fed along the ingest cannot stand for the replay. */
export type EarlyDetectMiss =
  | { code: 'out_of_order'; id: string; behindMs: number }
  | { code: 'count_mismatch'; fed: number; stored: number };

export type EarlyDetectResult = { ok: true; engine: DetectionEngine } | { ok: false; miss: EarlyDetectMiss };

/** One-line reason for a note, e.g. why a scan replayed its store. */
export function describeMiss(m: EarlyDetectMiss): string {
  if (m.code === 'out_of_order') return `exchange "${m.id}" came ${(m.behindMs / 1000).toFixed(1)} s of event time after a later one had been analysed`;
  return `${m.fed} exchanges were read and ${m.stored} are stored (duplicates, or rows from earlier scans)`;
}

export class EarlyDetect {
  private readonly holdMs: number;
  private readonly maxHeld: number;
  private readonly ticker: EventTimeTicker;
  /** Rows read and not fed yet, taken in the replay's order. */
  private readonly held = new ReplayOrderBuffer();
  private last: ExchangeFeatures | null = null;
  private newest = -Infinity;
  private fed = 0;
  private miss: EarlyDetectMiss | null = null;
  private engine: DetectionEngine | null;

  constructor(engine: DetectionEngine, opts: EarlyDetectOptions = {}) {
    this.holdMs = opts.holdMs ?? 600_000;
    this.maxHeld = opts.maxHeld ?? 50_000;
    if (!(this.holdMs >= 0)) throw new RangeError(`Cannot hold rows for ${this.holdMs} ms: give 0 or more`);
    if (!Number.isInteger(this.maxHeld) || this.maxHeld < 1) throw new RangeError(`Cannot hold ${this.maxHeld} rows: give a whole number of at least 1`);
    this.engine = engine;
    this.ticker = new EventTimeTicker(engine, engine.params.linkIntervalMs);
  }

  /** Still feeding the engine (false once it gave up). */
  get active(): boolean {
    return this.engine !== null;
  }

  /** A stored row as a replay gives it back (decodeExchange), in input order. */
  offer = (row: ExchangeFeatures): void => {
    if (this.engine === null) return;
    if (this.last !== null && before(row, this.last)) {
      this.giveUp({ code: 'out_of_order', id: row.id, behindMs: this.last.ts - row.ts });
      return;
    }
    const held = this.held;
    held.add(row);
    if (row.ts > this.newest) this.newest = row.ts;
    const until = this.newest - this.holdMs;
    for (let first = held.peek(); first !== undefined && (first.ts < until || held.size > this.maxHeld); first = held.peek()) this.feed(held.take()!);
  };

  /**
   * After the ingest: the engine, finished, when it saw exactly the rows the store holds
   * (`stored`, counted by the store), or why the store must be replayed.
   */
  finish(stored: number): EarlyDetectResult {
    if (this.engine !== null) {
      for (let row = this.held.take(); row !== undefined; row = this.held.take()) this.feed(row);
      if (this.fed !== stored) this.giveUp({ code: 'count_mismatch', fed: this.fed, stored });
    }
    if (this.engine === null) return { ok: false, miss: this.miss! };
    this.ticker.finish();
    return { ok: true, engine: this.engine };
  }

  private feed(row: ExchangeFeatures): void {
    this.last = row;
    this.fed++;
    this.ticker.observe(row);
  }

  /** Lets go of the engine and the held rows: the replay will build its own. */
  private giveUp(miss: EarlyDetectMiss): void {
    this.miss = miss;
    this.engine = null;
    this.held.clear();
  }
}
