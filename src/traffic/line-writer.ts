/**
 * Writes JSONL to a file in large byte chunks, gzip-compressing them (for a .gz name) as
 * separate gzip members in the thread pool, several at a time, and appending them in order.
 *
 * Why: building one string per megabyte and handing it to a gzip stream cost more than
 * generating the traffic (a rope of small strings flattened and re-encoded, then one
 * compressor working through it alone). Lines are encoded straight into a reused buffer, and
 * each full chunk becomes its own gzip member compressed beside the others: a file of
 * concatenated members is a valid gzip file (RFC 1952, §2.2), read by gunzip, zcat and
 * node's zlib as one stream.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { gzip as gzipCb, constants } from 'node:zlib';

const gzip = promisify(gzipCb);

export interface LineWriterOptions {
  /** Bytes per chunk (and per gzip member). @default 4 MiB */
  chunkBytes?: number;
  /** Chunks compressed at the same time. @default 3 */
  parallel?: number;
  /** gzip level: the fastest keeps writing ahead of the generator. @default 1 */
  level?: number;
}

export class LineWriter {
  private readonly file: WriteStream;
  private readonly gz: boolean;
  private readonly chunkBytes: number;
  private readonly parallel: number;
  private readonly level: number;
  private buf: Buffer;
  private used = 0;
  /** Chunks being compressed, oldest first: written in this order whatever order they finish in. */
  private readonly pending: Promise<Buffer>[] = [];
  bytesIn = 0;

  constructor(path: string, o: LineWriterOptions = {}) {
    this.file = createWriteStream(path);
    this.gz = path.endsWith('.gz');
    this.chunkBytes = o.chunkBytes ?? 4 << 20;
    this.parallel = o.parallel ?? 3;
    this.level = o.level ?? constants.Z_BEST_SPEED;
    this.buf = Buffer.allocUnsafe(this.chunkBytes);
  }

  /** Appends one line (a newline is added). Await it: it waits when the disk or compressors fall behind. */
  async line(s: string): Promise<void> {
    // A UTF-16 unit is at most 3 bytes of UTF-8, so this is a bound, not an estimate.
    const worst = s.length * 3 + 1;
    if (this.used + worst > this.buf.length) {
      await this.flushChunk();
      if (worst > this.buf.length) this.buf = Buffer.allocUnsafe(worst);
    }
    this.used += this.buf.write(s, this.used);
    this.buf[this.used++] = 0x0a;
  }

  /** Appends bytes that are already whole lines. */
  async bytes(b: Uint8Array): Promise<void> {
    if (this.used + b.length > this.buf.length) {
      await this.flushChunk();
      if (b.length > this.buf.length) this.buf = Buffer.allocUnsafe(b.length);
    }
    this.buf.set(b, this.used);
    this.used += b.length;
  }

  private async flushChunk(): Promise<void> {
    if (this.used === 0) return;
    const chunk = this.buf.subarray(0, this.used);
    this.bytesIn += this.used;
    this.buf = Buffer.allocUnsafe(this.buf.length);
    this.used = 0;
    this.pending.push(this.gz ? gzip(chunk, { level: this.level }) : Promise.resolve(chunk));
    while (this.pending.length >= this.parallel) await this.writeOldest();
  }

  private async writeOldest(): Promise<void> {
    const out = await this.pending.shift()!;
    if (!this.file.write(out)) await once(this.file, 'drain');
  }

  /** Writes what is left and closes the file. */
  async close(): Promise<void> {
    await this.flushChunk();
    while (this.pending.length > 0) await this.writeOldest();
    this.file.end();
    await once(this.file, 'close');
  }
}
