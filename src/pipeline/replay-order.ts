/**
 * Rows held until they can be fed in the replay's order (event time, then id), for the engine
 * fed along the ingest (early-detect.ts).
 *
 * Logs arrive almost in order: a row is nearly always at or a few rows behind the last one
 * held. Those rows are put in their place in a run kept in order (found by stepping back at
 * most `STEP_BACK` rows), which is taken from its head in O(1); only the rows that arrive
 * further behind go to a heap, and the smaller of the two heads is taken. A heap alone cost
 * two comparisons a level on every row taken (ten minutes of `hydra-28m` hold some 8,000
 * rows: 13 levels), about a twentieth of the engine's thread. On the first 200,000 lines of
 * `hydra-28m`, 69% of the rows come after every row before them, 92% within 64 rows of their
 * place, and 4% more than 256 rows behind it.
 */
import type { ExchangeFeatures } from '../core/features.js';

/** The replay's order: event time, then id compared byte by byte as DuckDB compares VARCHAR. */
export function before(a: ExchangeFeatures, b: ExchangeFeatures): boolean {
  if (a.ts !== b.ts) return a.ts < b.ts;
  return compareIds(a.id, b.id) < 0;
}

const ASCII = /^[\x00-\x7f]*$/;
function compareIds(a: string, b: string): number {
  // UTF-16 order is UTF-8 byte order for ASCII, which ids almost always are.
  if (ASCII.test(a) && ASCII.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** How far back in the run a row is put in its place; a row further behind goes to the heap. */
const STEP_BACK = 64;

/** Rows taken from the run's head before the taken slots are dropped from its array. */
const COMPACT_AFTER = 4096;

export class ReplayOrderBuffer {
  /** Rows in the replay's order, from `head` on; the slots before it were taken. */
  private run: (ExchangeFeatures | undefined)[] = [];
  private head = 0;
  /** Min-heap in the replay's order: the rows that came more than STEP_BACK rows behind their place in the run. */
  private heap: ExchangeFeatures[] = [];

  get size(): number {
    return this.run.length - this.head + this.heap.length;
  }

  add(row: ExchangeFeatures): void {
    const run = this.run;
    let at = run.length;
    const stop = Math.max(this.head, at - STEP_BACK);
    while (at > stop && before(row, run[at - 1]!)) at--;
    if (at === run.length) {
      run.push(row);
      return;
    }
    // Further back than STEP_BACK rows: the heap's.
    if (at === stop && at > this.head && before(row, run[at - 1]!)) {
      this.heapPush(row);
      return;
    }
    run.push(row);
    for (let i = run.length - 1; i > at; i--) run[i] = run[i - 1]!;
    run[at] = row;
  }

  /** The first row in the replay's order, or undefined when none is held. */
  peek(): ExchangeFeatures | undefined {
    if (this.heapFirst()) return this.heap[0];
    return this.head < this.run.length ? this.run[this.head] : undefined;
  }

  /** Takes the first row in the replay's order (undefined when none is held). */
  take(): ExchangeFeatures | undefined {
    if (this.heapFirst()) return this.heapPop();
    if (this.head === this.run.length) return undefined;
    const r = this.run[this.head];
    // The taken slot lets go of its row, so that only held rows stay reachable.
    this.run[this.head++] = undefined;
    if (this.head === this.run.length) {
      this.run.length = 0;
      this.head = 0;
    } else if (this.head >= COMPACT_AFTER && this.head * 2 >= this.run.length) {
      this.run = this.run.slice(this.head);
      this.head = 0;
    }
    return r;
  }

  clear(): void {
    this.run = [];
    this.head = 0;
    this.heap = [];
  }

  /** Whether the first row held is the heap's: it holds one, and the run none or a later one. */
  private heapFirst(): boolean {
    const h = this.heap[0];
    if (h === undefined) return false;
    return this.head === this.run.length || before(h, this.run[this.head]!);
  }

  private heapPush(row: ExchangeFeatures): void {
    const h = this.heap;
    let i = h.length;
    h.push(row);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(row, h[p]!)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = row;
  }

  private heapPop(): ExchangeFeatures {
    const h = this.heap;
    const top = h[0]!;
    const end = h.pop()!;
    const n = h.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && before(h[r]!, h[l]!) ? r : l;
        if (!before(h[c]!, end)) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = end;
    }
    return top;
  }
}
