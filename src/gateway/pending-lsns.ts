/**
 * The write-ahead log's records not yet settled: lsn -> id (null: settled by lsn).
 *
 * Not a Map, for the garbage collector's sake. The log adds one entry and deletes one per
 * request, and a Map under that churn rebuilds its hash table every few dozen requests;
 * V8 allocates the new table of a long-lived Map straight into the old generation, where
 * only a full collection frees it. On a replica at a few thousand requests a second that
 * was the second largest source of old-generation garbage, and so of the full collections
 * whose pauses set its tail latency.
 *
 * Lsns are added in increasing order and mostly settled in about that order, so they are
 * kept as a window over a ring of slots, from the oldest unsettled lsn to the newest one
 * added; settling clears a slot, and the window's start moves past cleared slots. The ring
 * is reallocated only to grow. A record that stays unsettled while many after it settle
 * (a row the store keeps refusing) would stretch the window; once the window is mostly
 * cleared, its older half's unsettled entries move to a side map instead, so that memory
 * follows the entries, not the lsns between them.
 */
export class PendingLsns {
  /** Slot of lsn `first + k` at `(head + k) & mask`; undefined: settled, or never added. */
  private slots: (string | null | undefined)[] = new Array<string | null | undefined>(64).fill(undefined);
  private mask = 63;
  private head = 0;
  /** The window's first lsn: unsettled whenever the window holds any entry. */
  private first = 0;
  /** The newest lsn added (0: none yet). */
  private last = 0;
  /** Entries in the window. */
  private inWindow = 0;
  /** Entries moved out of the window, in increasing lsn order (each move takes lsns above the last) unless `unordered`. */
  private readonly stragglers = new Map<number, string | null>();
  /** Set once an lsn came below one added before (a log whose segments disagree): `oldest` then searches. */
  private unordered = false;

  get size(): number {
    return this.inWindow + this.stragglers.size;
  }

  /** Slots of the ring: what the window holds in memory, whatever its entries. */
  get ringSize(): number {
    return this.mask + 1;
  }

  /** The oldest unsettled lsn, or undefined when none is. */
  get oldest(): number | undefined {
    let oldest = this.inWindow > 0 ? this.first : undefined;
    for (const lsn of this.stragglers.keys()) {
      if (!this.unordered) return lsn;
      if (oldest === undefined || lsn < oldest) oldest = lsn;
    }
    return oldest;
  }

  /** Adds `lsn`, normally above every lsn added before. */
  add(lsn: number, id: string | null): void {
    if (!(lsn > this.last)) return this.addBelow(lsn, id);
    if (this.inWindow === 0) {
      // An empty window starts again at this lsn: every slot is already cleared.
      this.head = 0;
      this.first = lsn;
    } else if (lsn - this.first > this.mask) {
      this.makeRoom(lsn);
    }
    this.slots[(this.head + lsn - this.first) & this.mask] = id;
    this.inWindow++;
    this.last = lsn;
  }

  /** An lsn at or below one added before: the log hands lsns out in order, but one read back is kept whatever its order. */
  private addBelow(lsn: number, id: string | null): void {
    if (this.inWindow > 0 && lsn >= this.first) {
      const at = (this.head + lsn - this.first) & this.mask;
      if (this.slots[at] === undefined) this.inWindow++;
      this.slots[at] = id;
      return;
    }
    // Below the window, as every straggler is; among them, in order only if it is the first.
    if (this.stragglers.size > 0 && !this.stragglers.has(lsn)) this.unordered = true;
    this.stragglers.set(lsn, id);
  }

  /** The id of an unsettled lsn (null: settled by lsn), or undefined when it is not unsettled. */
  get(lsn: number): string | null | undefined {
    if (this.inWindow > 0 && lsn >= this.first && lsn <= this.last) return this.slots[(this.head + lsn - this.first) & this.mask];
    return this.stragglers.size > 0 ? this.stragglers.get(lsn) : undefined;
  }

  has(lsn: number): boolean {
    return this.get(lsn) !== undefined;
  }

  /** Settles `lsn`; false when it was not unsettled. */
  delete(lsn: number): boolean {
    if (this.inWindow > 0 && lsn >= this.first && lsn <= this.last) {
      const at = (this.head + lsn - this.first) & this.mask;
      if (this.slots[at] === undefined) return false;
      this.slots[at] = undefined;
      this.inWindow--;
      if (lsn === this.first) this.advance();
      return true;
    }
    return this.stragglers.size > 0 && this.stragglers.delete(lsn);
  }

  /** Moves the window's start past cleared slots, to the next unsettled lsn (none left: the window is empty). */
  private advance(): void {
    if (this.inWindow === 0) return;
    while (this.slots[this.head] === undefined) {
      this.head = (this.head + 1) & this.mask;
      this.first++;
    }
  }

  /**
   * Makes the window reach `lsn`: a mostly cleared window gives its older half's entries to
   * the side map and starts past them; a full one doubles its ring.
   */
  private makeRoom(lsn: number): void {
    const capacity = this.mask + 1;
    if (this.inWindow * 4 < capacity) {
      const until = lsn - (capacity >> 1);
      while (this.inWindow > 0 && this.first <= until) {
        const id = this.slots[this.head];
        if (id !== undefined) {
          this.stragglers.set(this.first, id);
          this.slots[this.head] = undefined;
          this.inWindow--;
        }
        this.head = (this.head + 1) & this.mask;
        this.first++;
      }
      if (this.inWindow === 0) {
        this.head = 0;
        this.first = lsn;
        return;
      }
      this.advance();
      if (lsn - this.first <= this.mask) return;
    }
    // Unrolled into a ring at least twice as large that reaches `lsn`.
    let size = capacity * 2;
    while (size <= lsn - this.first) size *= 2;
    const slots = new Array<string | null | undefined>(size).fill(undefined);
    for (let k = 0; k <= this.last - this.first; k++) slots[k] = this.slots[(this.head + k) & this.mask];
    this.slots = slots;
    this.mask = size - 1;
    this.head = 0;
  }
}
