/**
 * The write-ahead log: every finished request is appended here, as it came off the wire,
 * before it goes to the analysis worker, so that a crash (kill -9, power loss) loses at
 * most the last commit interval of exchanges. Writes are grouped: one write and one fsync
 * every `commitIntervalMs`, whatever the number of requests that finished meanwhile. A record
 * settled before its group is due (a thin replica's stream got it into Redis first) is left
 * out, and a group left empty is not written at all: the fsync, the dearest part of the log,
 * is made only while Redis is slower than the interval.
 *
 * A thin replica's stream also tells the log when it handed a record to Redis (its XADD
 * written whole into the kernel's socket buffer, `handedOver`): from then on the record
 * waits for Redis's answer up to `redisAnswerMs` (50 ms), not for the commit interval. What
 * a kill -9 of the gateway can lose is unchanged: the records finished within the last
 * `commitIntervalMs` and not yet handed over nor written (in this process's memory only). A
 * record handed over is past this process: the kernel sends what the socket holds after
 * the process is gone, and Redis applies it. It is the log's to keep only if Redis does not
 * answer within `redisAnswerMs` (then it is written and fsynced) or fails it (the
 * connection breaks, the answer times out: `notTaken`, written at once), so that what a
 * kill -9 can lose beyond the interval needs Redis to fail too, within that window.
 *
 * The log decides after the event loop has read its sockets (in the check phase, not in
 * the timer's own): on a loop busy with requests, Redis's reply may have waited in its
 * socket for milliseconds, and must be read before a record is taken for late.
 *
 * Each record gets a log sequence number (lsn), increasing across restarts. A record is
 * settled once the store (or the fsynced spool) holds its exchange, or once analysis found
 * nothing to store; a segment whose records are all settled is deleted. On start, the
 * records of the remaining segments past the store's checkpoint are handed back to be
 * analysed and stored again; the store ignores ids it already has, so nothing is doubled.
 */
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { FinishedRequest } from './record.js';
import { decodeFrame, encodeFrame, frameLengthAt, frameLsn, setFrameLsn } from './record-frame.js';
import { PendingLsns } from './pending-lsns.js';

export interface WalOptions {
  dir: string;
  replicaId: string;
  /**
   * Most time a finished exchange waits before its group is written and fsynced: what a
   * kill -9 can lose. 0 writes as soon as the previous write is done.
   * @default 5
   */
  commitIntervalMs?: number;
  /**
   * Most time a record handed to Redis (`handedOver`) waits for Redis's answer before it is
   * written and fsynced all the same. Once handed over, a kill -9 of this process no longer
   * loses it: this bounds how long the log trusts a Redis that does not answer.
   * @default 50
   */
  redisAnswerMs?: number;
  /** A segment is closed and a new one started beyond this size. @default 16 MiB */
  segmentBytes?: number;
  /** Told of each failed write (full disk, I/O error) and of the first write that works again. */
  onHealth?: (healthy: boolean, e?: Error) => void;
}

/** What `open` found on disk. */
export interface WalRecovery {
  /** Records past the checkpoint, in lsn order, to analyse and store again. */
  records: FinishedRequest[];
  /** Lines that could not be read (a write cut off by a crash), copied aside and skipped. */
  setAside: number;
}

interface Segment {
  path: string;
  first: number;
  last: number;
}

type Wire = Omit<FinishedRequest, 'body' | 'response'> & {
  body: string;
  response: { kind: 'assembled'; value: unknown } | { kind: 'bytes'; value: string } | null;
};

/**
 * The first bytes of a segment of binary frames (gateway/record-frame.ts). A segment without
 * them is one of JSON lines, written before: still read, so that a log left by an older
 * version at an upgrade is replayed; new segments are always frames.
 */
const MAGIC = Buffer.from('DWWAL2\n\0', 'latin1');

/** A JSON line of the log's first form. */
function decodeLine(line: string): { lsn: number; f: FinishedRequest } | null {
  try {
    const v = JSON.parse(line) as { lsn?: unknown; f?: Wire };
    if (typeof v.lsn !== 'number' || !Number.isSafeInteger(v.lsn) || v.f === undefined || typeof v.f.id !== 'string' || typeof v.f.body !== 'string') return null;
    const w = v.f;
    const response = w.response?.kind === 'bytes' ? { kind: 'bytes' as const, value: Buffer.from(w.response.value, 'base64') } : w.response;
    return { lsn: v.lsn, f: { ...w, body: Buffer.from(w.body, 'base64'), response } };
  } catch {
    return null;
  }
}

/** The records of a segment's bytes, and what could not be read (a tail cut off by a crash), as it was. */
function readSegment(bytes: Buffer): { records: { lsn: number; f: FinishedRequest }[]; bad: Buffer[] } {
  const records: { lsn: number; f: FinishedRequest }[] = [];
  const bad: Buffer[] = [];
  if (bytes.byteLength >= MAGIC.byteLength && bytes.subarray(0, MAGIC.byteLength).equals(MAGIC)) {
    let at = MAGIC.byteLength;
    while (at < bytes.byteLength) {
      const n = frameLengthAt(bytes, at);
      if (n === null) {
        // Frames are written whole and in order: what follows a frame that cannot be one is a cut write.
        bad.push(bytes.subarray(at));
        break;
      }
      const frame = bytes.subarray(at, at + n);
      at += n;
      const r = decodeFrame(frame);
      if (r === null || r.h.refusal !== undefined || !Number.isSafeInteger(r.lsn) || r.lsn <= 0) bad.push(frame);
      else records.push({ lsn: r.lsn, f: r.h });
    }
    return { records, bad };
  }
  for (const line of bytes.toString('utf8').split('\n')) {
    if (line.length === 0) continue;
    const r = decodeLine(line);
    if (r === null) bad.push(Buffer.from(line + '\n'));
    else records.push(r);
  }
  return { records, bad };
}

const pad = (n: number) => String(n).padStart(16, '0');

export class WriteAheadLog {
  private readonly segments: Segment[] = [];
  private active: { seg: Segment; fh: FileHandle; size: number } | null = null;
  private nextLsn: number;
  /** lsn -> id of records not yet settled (null: settled by lsn, see `appendFrame`). */
  private readonly pending = new PendingLsns();
  /** id -> lsn of the records settled by id. */
  private readonly lsnOf = new Map<string, number>();
  /** Frames waiting for the next group write. */
  private buffer: Buffer[] = [];
  /**
   * When each buffered frame must be on disk unless settled (performance.now()), in the
   * buffer's order: its arrival plus the commit interval, or once handed to Redis, its
   * handing over plus `redisAnswerMs`.
   */
  private dueAt: number[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** The thin replica's stream: hands what it queued to Redis at once (see `decide`). */
  private handOverNow: (() => void) | null = null;
  /** A decision waiting for the check phase (see `due`). */
  private deciding: NodeJS.Immediate | null = null;
  private writing: Promise<void> | null = null;
  /** Most time a record waits before it is written and fsynced (or settled without it). */
  readonly commitIntervalMs: number;
  private readonly redisAnswerMs: number;
  private readonly segmentBytes: number;
  private closed = false;
  /** False from a failed write until one works again. */
  healthy = true;
  /** Records whose write failed: they go on in memory, but a crash would lose them. */
  unlogged = 0;
  /** Records written and fsynced. */
  committed = 0;
  /** Groups written and fsynced: one write and one fsync each, the log's dearest work. */
  groups = 0;
  /** Records settled before their group was due: never written (Redis or the store held them first). */
  unwritten = 0;

  private constructor(
    private readonly opts: WalOptions,
    nextLsn: number,
  ) {
    this.nextLsn = nextLsn;
    this.commitIntervalMs = opts.commitIntervalMs ?? 5;
    this.redisAnswerMs = opts.redisAnswerMs ?? 50;
    this.segmentBytes = opts.segmentBytes ?? 16 * 1024 * 1024;
  }

  /**
   * Opens the log in `opts.dir`, reading what a previous run left. `checkpoint` is the
   * highest lsn the store is known to hold with everything before it.
   */
  static async open(opts: WalOptions, checkpoint: number): Promise<{ wal: WriteAheadLog; recovery: WalRecovery }> {
    mkdirSync(opts.dir, { recursive: true });
    const prefix = `wal-${opts.replicaId}-`;
    const names = readdirSync(opts.dir).filter((n) => n.startsWith(prefix) && n.endsWith('.log')).sort();
    const records: { lsn: number; f: FinishedRequest }[] = [];
    const segments: Segment[] = [];
    let setAside = 0;
    let maxLsn = checkpoint;
    for (const name of names) {
      const path = join(opts.dir, name);
      const seg: Segment = { path, first: Number(name.slice(prefix.length, -4)), last: 0 };
      const { records: read, bad } = readSegment(readFileSync(path));
      for (const r of read) {
        seg.last = Math.max(seg.last, r.lsn);
        maxLsn = Math.max(maxLsn, r.lsn);
        if (r.lsn > checkpoint) records.push(r);
      }
      if (bad.length > 0) {
        setAside += bad.length;
        setAsideBytes(join(opts.dir, `${name}.bad`), bad);
      }
      segments.push(seg);
    }
    const wal = new WriteAheadLog(opts, maxLsn + 1);
    records.sort((a, b) => a.lsn - b.lsn);
    const seen = new Set<string>();
    const out: FinishedRequest[] = [];
    for (const r of records) {
      if (seen.has(r.f.id)) continue;
      seen.add(r.f.id);
      wal.track(r.lsn, r.f.id);
      out.push(r.f);
    }
    wal.segments.push(...segments);
    // A disk too full for a new segment must not stop the start: the gateway serves, counts
    // what it cannot log, and tries again at the next commit.
    await wal.startSegment().catch((e: unknown) => wal.failed(0, e as Error));
    // Segments with nothing left to replay can go at once.
    wal.collect();
    return { wal, recovery: { records: out, setAside } };
  }

  /** The highest lsn at and below which every record is settled. */
  get lowWater(): number {
    const oldest = this.pending.oldest;
    return oldest === undefined ? this.nextLsn - 1 : oldest - 1;
  }

  /** Records appended and not yet settled. */
  get unsettled(): number {
    return this.pending.size;
  }

  private track(lsn: number, id: string | null): void {
    this.pending.add(lsn, id);
    if (id !== null) this.lsnOf.set(id, lsn);
  }

  /** The lsn of a record handed back by `open` (or appended by id) and not yet settled. */
  lsnOfId(id: string): number | undefined {
    return this.lsnOf.get(id);
  }

  private async startSegment(): Promise<void> {
    const seg: Segment = { path: join(this.opts.dir, `wal-${this.opts.replicaId}-${pad(this.nextLsn)}.log`), first: this.nextLsn, last: this.nextLsn - 1 };
    const fh = await open(seg.path, 'a');
    this.segments.push(seg);
    try {
      await fh.write(MAGIC);
    } catch (e) {
      await fh.close().catch(() => undefined);
      this.segments.pop();
      throw e;
    }
    this.active = { seg, fh, size: MAGIC.byteLength };
  }

  /**
   * Appends a finished request; it is on disk within `commitIntervalMs` plus one fsync.
   * Never throws: a write that fails is counted and reported, and the request goes on.
   */
  append(f: FinishedRequest): void {
    this.appendFrame(encodeFrame(f), f.id);
  }

  /**
   * As `append`, for a request its caller already encoded as a frame (a thin gateway encodes
   * each request once, for this log and for its stream): the frame gets its lsn written in,
   * and is kept as it is until written. `id` null: the caller settles it by the lsn returned
   * (`settleLsns`), and the log keeps no index by id for it.
   */
  appendFrame(frame: Buffer, id: string | null): number {
    if (this.closed) return 0;
    const lsn = this.nextLsn++;
    setFrameLsn(frame, lsn);
    this.track(lsn, id);
    this.buffer.push(frame);
    this.dueAt.push(performance.now() + this.commitIntervalMs);
    if (this.timer === null && this.deciding === null && this.writing === null) this.timer = setTimeout(this.due, this.commitIntervalMs);
    return lsn;
  }

  /**
   * Called before the log writes a record due and not yet handed to Redis: the stream that
   * hands records over (`handedOver`) sends what it holds, if it can.
   */
  setHandOver(handOverNow: () => void): void {
    this.handOverNow = handOverNow;
  }

  /**
   * The records of `lsns` (ascending) were handed to Redis at `at` (performance.now()):
   * they are written only if Redis has not answered for them `redisAnswerMs` from then. A
   * record no longer buffered (written, settled) is skipped. The timer is left as it is: it
   * finds the later deadline when it fires.
   */
  handedOver(lsns: readonly number[], at: number): void {
    const frames = this.buffer;
    const due = at + this.redisAnswerMs;
    // Both in lsn order: one walk of each.
    let i = 0;
    for (const lsn of lsns) {
      while (i < frames.length && frameLsn(frames[i]!) < lsn) i++;
      if (i === frames.length) return;
      if (frameLsn(frames[i]!) === lsn && this.dueAt[i]! < due) this.dueAt[i] = due;
    }
  }

  /**
   * The records of `lsns` (ascending), handed to Redis, were not taken (the connection
   * failed, the answer timed out): only this process holds them again, and they are due now.
   */
  notTaken(lsns: readonly number[]): void {
    const frames = this.buffer;
    const now = performance.now();
    let i = 0;
    let any = false;
    for (const lsn of lsns) {
      while (i < frames.length && frameLsn(frames[i]!) < lsn) i++;
      if (i === frames.length) break;
      if (frameLsn(frames[i]!) === lsn && this.dueAt[i]! > now) {
        this.dueAt[i] = now;
        any = true;
      }
    }
    if (!any || this.writing !== null || this.closed) return;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.deciding === null) this.deciding = setImmediate(this.decide);
  }

  /** Marks records as held by Redis or the store, by the lsns `appendFrame` returned. */
  settleLsns(lsns: readonly number[]): void {
    let any = false;
    for (const lsn of lsns) {
      const id = this.pending.get(lsn);
      if (id === undefined) continue;
      this.pending.delete(lsn);
      if (id !== null) this.lsnOf.delete(id);
      any = true;
    }
    if (!any) return;
    this.dropSettledHead();
    this.collect();
  }

  /**
   * Takes the settled records at the head of the buffer out at once (Redis settles in the
   * order it was handed records, mostly the buffer's): their frames are not held until the
   * timer, which may be `redisAnswerMs` away, and the count of those never written is current.
   */
  private dropSettledHead(): void {
    const frames = this.buffer;
    let k = 0;
    while (k < frames.length && !this.pending.has(frameLsn(frames[k]!))) k++;
    if (k === 0) return;
    frames.splice(0, k);
    this.dueAt.splice(0, k);
    this.unwritten += k;
  }

  /** Marks exchanges as held by the store (or analysed with nothing to store). */
  settle(ids: Iterable<string>): void {
    let any = false;
    for (const id of ids) {
      const lsn = this.lsnOf.get(id);
      if (lsn === undefined) continue;
      this.lsnOf.delete(id);
      this.pending.delete(lsn);
      any = true;
    }
    if (any) this.collect();
  }

  /** Deletes the closed segments whose records are all settled. */
  private collect(): void {
    const low = this.lowWater;
    for (let i = 0; i < this.segments.length; i++) {
      const s = this.segments[i]!;
      if (s === this.active?.seg || s.last > low) continue;
      // Off the event loop: freeing a 16 MiB file can take the file system milliseconds,
      // which a synchronous unlink would add to the requests in flight. A crash before it
      // is done leaves a settled segment: the next start replays it, and the store keeps
      // one copy of each exchange.
      unlink(s.path).catch(() => {
        // Gone already, or the folder is read-only: replay skips its records by the checkpoint.
      });
      this.segments.splice(i--, 1);
    }
  }

  /**
   * The commit timer. It decides nothing itself: timers run before the event loop reads its
   * sockets, and on a loop busy with requests a Redis reply that came long ago may still be
   * waiting there. The decision is made in the check phase that follows (`decide`).
   */
  private readonly due = (): void => {
    this.timer = null;
    if (this.writing !== null || this.closed || this.deciding !== null) return;
    this.deciding = setImmediate(this.decide);
  };

  /**
   * The records settled meanwhile (Redis took them: they no longer need the disk to survive
   * a crash of this process) leave the buffer unwritten; the rest is written once one of
   * them is due. On a thin replica whose stream flushes within the interval, most groups
   * are settled whole before they are due, and the write and its fsync (hundreds of
   * microseconds of CPU on ext4) are not made at all.
   */
  private readonly decide = (): void => {
    this.deciding = null;
    if (this.writing !== null || this.closed) return;
    this.dropSettled();
    if (this.buffer.length === 0) return;
    let wait = this.firstDue() - performance.now();
    if (wait <= 0.5 && this.handOverNow !== null) {
      // A record due before the stream handed it over: the loop was too busy for the
      // stream's flush timer, which runs no earlier than this. Handed over now, it no longer
      // needs the disk; what the stream cannot hand over (Redis away) is written below.
      this.handOverNow();
      wait = this.firstDue() - performance.now();
    }
    if (wait > 0.5) this.timer = setTimeout(this.due, wait);
    // What is due within the next interval goes too: one group, not one per record. A
    // record handed to Redis whose answer is not due yet stays for Redis to settle.
    else void this.group(performance.now() + this.commitIntervalMs);
  };

  /** The earliest deadline in the buffer (not empty). */
  private firstDue(): number {
    let first = Infinity;
    for (const d of this.dueAt) if (d < first) first = d;
    return first;
  }

  /** Takes the records already settled out of the buffer (a record is settled by Redis or the store once they hold it). */
  private dropSettled(): void {
    const frames = this.buffer;
    let kept = 0;
    for (let i = 0; i < frames.length; i++) {
      if (!this.pending.has(frameLsn(frames[i]!))) continue;
      frames[kept] = frames[i]!;
      this.dueAt[kept++] = this.dueAt[i]!;
    }
    this.unwritten += frames.length - kept;
    frames.length = kept;
    this.dueAt.length = kept;
  }

  /** Writes and fsyncs what is buffered now (but what is settled already). */
  commit(): Promise<void> {
    return this.group(Infinity);
  }

  /** Writes and fsyncs the buffered records due by `horizon` (performance.now()), but those settled already. */
  private group(horizon: number): Promise<void> {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.deciding !== null) {
      clearImmediate(this.deciding);
      this.deciding = null;
    }
    if (this.writing) return this.writing.then(() => this.group(horizon));
    if (this.buffer.length === 0) return Promise.resolve();
    this.writing = this.write(horizon).finally(() => {
      this.writing = null;
      // What came in during the write goes in the next group, once one of its records is
      // due: a slow fsync must not add a whole interval on top of itself.
      if (this.buffer.length > 0 && this.timer === null && this.deciding === null && !this.closed) {
        this.timer = setTimeout(this.due, Math.max(0, this.firstDue() - performance.now()));
      }
    });
    return this.writing;
  }

  private failed(records: number, e: Error): void {
    this.unlogged += records;
    this.healthy = false;
    this.opts.onHealth?.(false, e);
  }

  private async write(horizon: number): Promise<void> {
    this.dropSettled();
    const lines: Buffer[] = [];
    const keep: Buffer[] = [];
    const keepDue: number[] = [];
    for (let i = 0; i < this.buffer.length; i++) {
      if (this.dueAt[i]! <= horizon) lines.push(this.buffer[i]!);
      else {
        keep.push(this.buffer[i]!);
        keepDue.push(this.dueAt[i]!);
      }
    }
    this.buffer = keep;
    this.dueAt = keepDue;
    if (lines.length === 0) return;
    const last = frameLsn(lines[lines.length - 1]!);
    if (this.active === null) {
      try {
        await this.startSegment();
      } catch (e) {
        return this.failed(lines.length, e as Error);
      }
    }
    const active = this.active!;
    let bytes = 0;
    for (const l of lines) bytes += l.byteLength;
    try {
      // The frames as they are, gathered by the kernel: no copy into one buffer.
      await writeAll(active.fh, lines, bytes);
      await active.fh.datasync();
      active.size += bytes;
      active.seg.last = Math.max(active.seg.last, last);
      this.committed += lines.length;
      this.groups++;
      if (!this.healthy) {
        this.healthy = true;
        this.opts.onHealth?.(true);
      }
    } catch (e) {
      // A write cut off by a full disk leaves part of a line: cut the file back to its last
      // whole line, so that the next group does not start in the middle of one.
      await active.fh.truncate(active.size).catch(() => undefined);
      return this.failed(lines.length, e as Error);
    }
    if (active.size >= this.segmentBytes) {
      this.active = null;
      await active.fh.close().catch(() => undefined);
      // The next segment is opened by the next write, which reports it if it cannot be.
      this.collect();
    }
  }

  async close(): Promise<void> {
    await this.commit();
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.deciding !== null) clearImmediate(this.deciding);
    if (this.active) {
      await this.active.fh.close().catch(() => undefined);
      // A last segment with everything settled is not needed by the next start.
      if (this.pending.size === 0 || this.active.seg.last <= this.lowWater) {
        try {
          unlinkSync(this.active.seg.path);
        } catch {
          // Left for the next start, which skips what the checkpoint covers.
        }
      }
      this.active = null;
    }
  }
}

/** Writes `parts` (`bytes` in all) at the end of the file, going on after a short write. */
async function writeAll(fh: FileHandle, parts: Buffer[], bytes: number): Promise<void> {
  // writev takes at most IOV_MAX (1024) buffers at once on Linux.
  for (let i = 0; i < parts.length; i += 1024) {
    const group = parts.length <= 1024 ? parts : parts.slice(i, i + 1024);
    let want = 0;
    for (const p of group) want += p.byteLength;
    const { bytesWritten } = await fh.writev(group);
    if (bytesWritten < want) await fh.write(Buffer.concat(group).subarray(bytesWritten));
  }
  void bytes;
}

/** Copies unreadable lines to a file beside the log, for a human; never throws. */
export function setAsideLines(path: string, lines: readonly string[]): void {
  setAsideBytes(path, [Buffer.from(lines.join('\n') + '\n')]);
}

/** Copies unreadable bytes to a file beside the log, for a human; never throws. */
export function setAsideBytes(path: string, parts: readonly Buffer[]): void {
  try {
    const fd = openSync(path, 'a');
    try {
      for (const p of parts) writeSync(fd, p);
    } finally {
      closeSync(fd);
    }
  } catch {
    // A full disk: the lines are skipped all the same, and counted.
  }
}
