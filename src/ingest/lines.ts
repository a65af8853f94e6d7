/**
 * Streaming line reader for JSONL inputs, plain or gzip-compressed, from a file or stdin.
 *
 * This is the hot path of an ingest: a log of a few million lines goes through here once
 * per scan. Lines are found with `Buffer.indexOf(0x0a)` on large chunks and decoded straight
 * from the chunk, so the only per-line allocations are the string and its item object.
 * Memory stays bounded by the chunk size plus `maxLineBytes`, whatever the file size.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** One physical line of the input: its text, or why it cannot be read. */
export type LineItem =
  | { line: number; text: string }
  | { line: number; bad: string; excerpt: string };

/**
 * Whole lines of an input as bytes, to be cut into lines where they are read (a feature
 * worker): handing a worker the bytes, transferred, costs neither the decoding of every line
 * on the reading thread nor a structured clone of every line's string. Every line but an
 * input's last ends in its newline; `firstLine` is the number of the first.
 */
export interface LineBlock {
  firstLine: number;
  bytes: Uint8Array;
}

/** In file order: a block of whole lines, or lines already cut (a line over the limit, a broken input). */
export type BlockItem = LineBlock | LineItem[];

export interface ReadLinesOptions {
  /**
   * A longer line is reported as bad; its bytes past the limit are dropped unread.
   * @default 8388608 (8 MiB)
   */
  maxLineBytes?: number;
  /**
   * Physical lines to skip at the start (blank ones included), to resume an interrupted
   * ingest. Skipped lines are counted, never decoded.
   * @default 0
   */
  skipLines?: number;
  /**
   * Bytes per read. Large reads keep the per-chunk overhead negligible.
   * @default 1048576 (1 MiB)
   */
  chunkBytes?: number;
}

/** An input that cannot be opened or read at all (as opposed to a bad line in it). */
export class InputError extends Error {
  override readonly name = 'InputError';
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export const DEFAULT_MAX_LINE_BYTES = 8 * 1024 * 1024;
const DEFAULT_CHUNK_BYTES = 1024 * 1024;
/** Bytes kept from a line's start to show a human; 200 characters need at most 800 bytes. */
const EXCERPT_BYTES = 800;
export const EXCERPT_CHARS = 200;

const NL = 0x0a;
const CR = 0x0d;

/**
 * Reads the lines of a file, or of stdin when `path` is `'-'`. Gzip input is recognised by
 * its magic bytes, whatever the file is called. Blank lines are skipped but keep their
 * number, so line numbers match an editor's.
 *
 * @example
 * for await (const item of readLines('logs.jsonl.gz')) {
 *   if ('text' in item) handle(JSON.parse(item.text));
 *   else report(item.line, item.bad);
 * }
 */
export function readLines(path: string, opts: ReadLinesOptions = {}): AsyncIterableIterator<LineItem> {
  return flatten(readLineBatches(path, opts));
}

/**
 * Items of batches, one at a time. Hand-rolled because an async generator that yields
 * per item costs about a microsecond per item, more than finding and decoding the line
 * (measured on a 1M-line file: 1.5 s that way, 0.45 s this way, 0.38 s for the bare
 * batches); here an item from a batch already read costs one resolved promise.
 */
export function flatten<T>(batches: AsyncIterator<T[]>): AsyncIterableIterator<T> {
  let batch: T[] = [];
  let i = 0;
  let done = false;
  const pull = async (): Promise<IteratorResult<T>> => {
    for (;;) {
      const r = await batches.next();
      if (r.done === true) {
        done = true;
        return { value: undefined, done: true };
      }
      batch = r.value;
      i = 0;
      if (batch.length > 0) return { value: batch[i++]!, done: false };
    }
  };
  return {
    next(): Promise<IteratorResult<T>> {
      if (i < batch.length) return Promise.resolve({ value: batch[i++]!, done: false });
      if (done) return Promise.resolve({ value: undefined, done: true });
      return pull();
    },
    async return(): Promise<IteratorResult<T>> {
      done = true;
      batch = [];
      await batches.return?.();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * The lines of an input a chunk at a time: the same items as `readLines`, for consumers
 * that would rather pay one `await` per chunk than one per line.
 */
export function readLineBatches(path: string, opts: ReadLinesOptions = {}): AsyncGenerator<LineItem[]> {
  const o = checkOptions(opts);
  return split(fileSource(path, o.chunkBytes), path, o);
}

/**
 * The lines of an input as blocks of whole lines' bytes, a chunk of input at a time, for a
 * reader that cuts them into lines on another thread (`linesOfBlock`, given the same
 * `maxLineBytes`). The lines are those `readLineBatches` gives, in the same order.
 */
export function readLineBlocks(path: string, opts: ReadLinesOptions = {}): AsyncGenerator<BlockItem[]> {
  const o = checkOptions(opts);
  return cutBlocks(fileSource(path, o.chunkBytes), path, o);
}

/** The lines of a block, as `readLineBatches` gives them; `maxLineBytes` as given to `readLineBlocks`. */
export function linesOfBlock(block: LineBlock, maxLineBytes = DEFAULT_MAX_LINE_BYTES): LineItem[] {
  const out: LineItem[] = [];
  const splitter = new LineSplitter(maxLineBytes, 0, block.firstLine - 1);
  splitter.push(block.bytes, out);
  splitter.end(out);
  return out;
}

function fileSource(path: string, chunkBytes: number): AsyncIterable<Uint8Array> {
  // Opened lazily, on the first read, so that a reader that is never read leaks no descriptor.
  const source = async function* (): AsyncGenerator<Uint8Array> {
    yield* path === '-' ? process.stdin : createReadStream(path, { highWaterMark: chunkBytes });
  };
  return source();
}

/** `readLineBatches` over any byte source, for callers that already hold a stream. */
export function splitLines(
  source: AsyncIterable<Uint8Array>,
  name: string,
  opts: ReadLinesOptions = {},
): AsyncGenerator<LineItem[]> {
  return split(source, name, checkOptions(opts));
}

/** Options are checked when a reader is made, so a bad option fails at the call that passed it. */
function checkOptions(opts: ReadLinesOptions): Required<ReadLinesOptions> {
  return {
    maxLineBytes: positiveInt(opts.maxLineBytes, DEFAULT_MAX_LINE_BYTES, 'maxLineBytes'),
    skipLines: nonNegativeInt(opts.skipLines, 0, 'skipLines'),
    chunkBytes: positiveInt(opts.chunkBytes, DEFAULT_CHUNK_BYTES, 'chunkBytes'),
  };
}

/** The lines of the blocks, cut here: the same cutter serves a reader on this thread and the feature workers. */
async function* split(source: AsyncIterable<Uint8Array>, name: string, opts: Required<ReadLinesOptions>): AsyncGenerator<LineItem[]> {
  for await (const items of cutBlocks(source, name, opts)) {
    const out: LineItem[] = [];
    for (const item of items) {
      if (Array.isArray(item)) for (const line of item) out.push(line);
      else for (const line of linesOfBlock(item, opts.maxLineBytes)) out.push(line);
    }
    if (out.length > 0) yield out;
  }
}

async function* cutBlocks(
  source: AsyncIterable<Uint8Array>,
  name: string,
  { maxLineBytes, skipLines, chunkBytes }: Required<ReadLinesOptions>,
): AsyncGenerator<BlockItem[]> {
  const cutter = new BlockCutter(maxLineBytes, skipLines);
  const bytes = gunzipIfCompressed(source, name, chunkBytes);
  let out: BlockItem[] = [];
  try {
    for await (const chunk of bytes) {
      cutter.push(chunk, out);
      if (out.length > 0) {
        yield out;
        out = [];
      }
    }
  } catch (e) {
    if (!isZlibError(e)) throw e;
    cutter.fail(`gzip data is truncated or corrupt (${lowerFirst((e as Error).message)})`, out);
    yield out;
    return;
  }
  cutter.end(out);
  if (out.length > 0) yield out;
}

/**
 * Cuts byte chunks into blocks of whole lines without looking inside a line: one search
 * for each newline, to count them, and one copy of the bytes. A line longer than the limit
 * is not gathered: it goes through a LineSplitter here, which drops its bytes.
 */
class BlockCutter {
  /** Number of the last line that ended before `carry`. */
  private line = 0;
  /** Bytes after the last newline seen (a line's start), copied: chunks are not ours. */
  private carry: Buffer[] = [];
  private carryBytes = 0;
  /** A line over the limit, being dropped up to its newline. */
  private over: LineSplitter | null = null;
  private toSkip: number;

  constructor(
    private readonly maxLineBytes: number,
    skipLines: number,
  ) {
    this.toSkip = skipLines;
  }

  push(input: Uint8Array, out: BlockItem[]): void {
    let chunk = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    if (this.toSkip > 0) {
      const start = this.skip(chunk);
      if (start < 0) return;
      chunk = chunk.subarray(start);
    }
    if (this.over !== null) {
      const nl = chunk.indexOf(NL);
      const items: LineItem[] = [];
      this.over.push(nl === -1 ? chunk : chunk.subarray(0, nl + 1), items);
      if (items.length > 0) out.push(items);
      if (nl === -1) return;
      this.line = this.over.lastLine;
      this.over = null;
      chunk = chunk.subarray(nl + 1);
    }
    const last = chunk.lastIndexOf(NL);
    if (last === -1) {
      if (this.carryBytes + chunk.length > this.maxLineBytes) {
        // Not gathered: the splitter keeps the line's head for the excerpt and drops the rest.
        this.over = new LineSplitter(this.maxLineBytes, 0, this.line);
        const items: LineItem[] = [];
        for (const part of this.carry) this.over.push(part, items);
        this.over.push(chunk, items);
        this.dropCarry();
        if (items.length > 0) out.push(items);
      } else if (chunk.length > 0) {
        this.carry.push(Buffer.from(chunk));
        this.carryBytes += chunk.length;
      }
      return;
    }
    const bytes = this.block(chunk, last + 1);
    out.push({ firstLine: this.line + 1, bytes });
    let lines = 0;
    for (let i = bytes.indexOf(NL); i !== -1; i = bytes.indexOf(NL, i + 1)) lines++;
    this.line += lines;
    if (last + 1 < chunk.length) {
      this.carry.push(Buffer.from(chunk.subarray(last + 1)));
      this.carryBytes = chunk.length - last - 1;
    }
  }

  /** The carried bytes and the chunk's first `n`, in memory of their own, so that they can be transferred to another thread. */
  private block(chunk: Buffer, n: number): Buffer {
    const bytes = Buffer.from(new ArrayBuffer(this.carryBytes + n));
    let at = 0;
    for (const part of this.carry) at += part.copy(bytes, at);
    chunk.copy(bytes, at, 0, n);
    this.dropCarry();
    return bytes;
  }

  private dropCarry(): void {
    this.carry = [];
    this.carryBytes = 0;
  }

  /** Flushes a last line that has no newline. */
  end(out: BlockItem[]): void {
    if (this.toSkip > 0) return;
    if (this.over !== null) {
      const items: LineItem[] = [];
      this.over.end(items);
      if (items.length > 0) out.push(items);
      return;
    }
    if (this.carryBytes > 0) out.push({ firstLine: this.line + 1, bytes: this.block(EMPTY, 0) });
  }

  /** The input broke off: the line it was in, or the next one, is reported as lost. */
  fail(reason: string, out: BlockItem[]): void {
    const splitter = this.over ?? new LineSplitter(this.maxLineBytes, 0, this.line);
    const items: LineItem[] = [];
    if (this.over === null) for (const part of this.carry) splitter.push(part, items);
    splitter.fail(reason, items);
    out.push(items);
    this.over = null;
    this.dropCarry();
  }

  /** As LineSplitter's: counts newlines without looking at the bytes between them. */
  private skip(chunk: Buffer): number {
    let pos = 0;
    while (this.toSkip > 0) {
      const nl = chunk.indexOf(NL, pos);
      if (nl === -1) return -1;
      this.line++;
      this.toSkip--;
      pos = nl + 1;
    }
    return pos;
  }
}

/**
 * Cuts byte chunks into lines. Kept synchronous and free of I/O so the same code serves
 * files, stdin and tests.
 */
class LineSplitter {
  /** Number of the last line that ended. */
  private line = 0;
  /** Bytes of the current line seen in earlier chunks (copied: chunks are not ours). */
  private parts: Buffer[] = [];
  private partBytes = 0;
  /** The current line went over the limit: its remaining bytes are dropped. */
  private tooLong = false;
  private tooLongHead: Buffer | null = null;
  /** Bytes of a line being skipped were seen after the last newline. */
  private skippedPartial = false;
  private toSkip: number;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

  constructor(
    private readonly maxLineBytes: number,
    skipLines: number,
    /** Lines before the first this splitter sees (a block's place in its input). */
    firstLine = 0,
  ) {
    this.toSkip = skipLines;
    this.line = firstLine;
  }

  /** Number of the last line that ended. */
  get lastLine(): number {
    return this.line;
  }

  push(input: Uint8Array, out: LineItem[]): void {
    const chunk = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    const len = chunk.length;
    let start = 0;
    if (this.toSkip > 0) {
      start = this.skip(chunk);
      if (start < 0) return;
    }
    for (;;) {
      const nl = chunk.indexOf(NL, start);
      if (nl === -1) {
        if (start < len) this.carry(chunk, start, len);
        return;
      }
      this.line++;
      this.emit(chunk, start, nl, out);
      start = nl + 1;
    }
  }

  /** Flushes a last line that has no newline. */
  end(out: LineItem[]): void {
    if (this.toSkip > 0) {
      if (this.skippedPartial) this.line++;
      return;
    }
    if (this.partBytes > 0 || this.tooLong) {
      this.line++;
      this.emit(EMPTY, 0, 0, out);
    }
  }

  /** The input broke off: the line it was in, or the next one, is reported as lost. */
  fail(reason: string, out: LineItem[]): void {
    this.line++;
    const head = this.tooLongHead ?? (this.parts.length > 0 ? Buffer.concat(this.parts) : EMPTY);
    out.push({ line: this.line, bad: reason, excerpt: excerptOf(head, 0, head.length) });
    this.reset();
  }

  /** Counts newlines without looking at the bytes between them. Returns where reading resumes, or -1. */
  private skip(chunk: Buffer): number {
    let pos = 0;
    while (this.toSkip > 0) {
      const nl = chunk.indexOf(NL, pos);
      if (nl === -1) {
        if (pos < chunk.length) this.skippedPartial = true;
        return -1;
      }
      this.line++;
      this.toSkip--;
      this.skippedPartial = false;
      pos = nl + 1;
    }
    return pos;
  }

  private carry(chunk: Buffer, start: number, end: number): void {
    if (this.tooLong) return;
    const n = end - start;
    if (this.partBytes + n > this.maxLineBytes) {
      this.markTooLong(chunk, start, end);
      return;
    }
    this.parts.push(Buffer.from(chunk.subarray(start, end)));
    this.partBytes += n;
  }

  private markTooLong(chunk: Buffer, start: number, end: number): void {
    const first = this.parts[0];
    this.tooLongHead =
      first !== undefined && first.length >= EXCERPT_BYTES
        ? first.subarray(0, EXCERPT_BYTES)
        : Buffer.concat([...this.parts, chunk.subarray(start, Math.min(end, start + EXCERPT_BYTES))]).subarray(
            0,
            EXCERPT_BYTES,
          );
    this.tooLong = true;
    this.parts = [];
    this.partBytes = 0;
  }

  private emit(chunk: Buffer, start: number, end: number, out: LineItem[]): void {
    const line = this.line;
    if (this.tooLong || this.partBytes + (end - start) > this.maxLineBytes) {
      if (!this.tooLong) this.markTooLong(chunk, start, end);
      const head = this.tooLongHead!;
      out.push({ line, bad: `longer than the limit of ${formatBytes(this.maxLineBytes)}`, excerpt: excerptOf(head, 0, head.length) });
      this.reset();
      return;
    }
    let buf = chunk;
    let s = start;
    let e = end;
    if (this.parts.length > 0) {
      this.parts.push(chunk.subarray(start, end));
      buf = Buffer.concat(this.parts, this.partBytes + (end - start));
      s = 0;
      e = buf.length;
      this.reset();
    }
    if (line === 1 && e - s >= 3 && buf[s] === 0xef && buf[s + 1] === 0xbb && buf[s + 2] === 0xbf) s += 3;
    if (e > s && buf[e - 1] === CR) e--;
    if (e === s) return;
    const b0 = buf[s]!;
    if ((b0 === 0x20 || b0 === 0x09 || b0 === CR) && isBlank(buf, s, e)) return;
    const text = buf.toString('utf8', s, e);
    // The lenient decoder turns bad bytes into U+FFFD, so only a line that contains one can
    // be invalid; the strict decoder then tells a real U+FFFD from a bad byte. For the
    // usual ASCII line the search returns at once.
    if (text.indexOf('\uFFFD') !== -1 && !this.isUtf8(buf.subarray(s, e))) {
      out.push({ line, bad: 'not valid UTF-8', excerpt: text.slice(0, EXCERPT_CHARS) });
      return;
    }
    out.push({ line, text });
  }

  private isUtf8(bytes: Uint8Array): boolean {
    try {
      this.decoder.decode(bytes);
      return true;
    } catch {
      return false;
    }
  }

  private reset(): void {
    this.parts = [];
    this.partBytes = 0;
    this.tooLong = false;
    this.tooLongHead = null;
  }
}

const EMPTY = Buffer.alloc(0);

function isBlank(buf: Buffer, s: number, e: number): boolean {
  for (let i = s; i < e; i++) {
    const b = buf[i];
    if (b !== 0x20 && b !== 0x09 && b !== CR) return false;
  }
  return true;
}

function excerptOf(buf: Buffer, s: number, e: number): string {
  return buf.toString('utf8', s, Math.min(e, s + EXCERPT_BYTES)).slice(0, EXCERPT_CHARS);
}

/**
 * Passes bytes through, or decompresses them when they start with the gzip magic number.
 * Sniffing beats trusting the name: rotated logs are often compressed without a `.gz`.
 */
async function* gunzipIfCompressed(source: AsyncIterable<Uint8Array>, name: string, chunkBytes: number): AsyncGenerator<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  try {
    const head: Uint8Array[] = [];
    let n = 0;
    while (n < 2) {
      const r = await next(it, name);
      if (r.done) break;
      head.push(r.value);
      n += r.value.length;
    }
    if (n === 0) return;
    const first = head.length === 1 ? head[0]! : Buffer.concat(head);
    if (first[0] !== 0x1f || first[1] !== 0x8b) {
      yield first;
      for (;;) {
        const r = await next(it, name);
        if (r.done) return;
        yield r.value;
      }
    }
    const rest = async function* (): AsyncGenerator<Uint8Array> {
      yield first;
      for (;;) {
        const r = await next(it, name);
        if (r.done) return;
        yield r.value;
      }
    };
    const input = Readable.from(rest(), { objectMode: false });
    const gunzip = createGunzip({ chunkSize: Math.min(chunkBytes, 256 * 1024) });
    input.on('error', (e) => gunzip.destroy(e));
    input.pipe(gunzip);
    try {
      for await (const chunk of gunzip) yield chunk as Buffer;
    } finally {
      input.destroy();
    }
  } finally {
    await it.return?.();
  }
}

async function next(it: AsyncIterator<Uint8Array>, name: string): Promise<IteratorResult<Uint8Array>> {
  try {
    return await it.next();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    const what = name === '-' ? 'stdin' : `"${name}"`;
    throw new InputError(`Cannot read ${what}: ${lowerFirst((e as Error).message)}`, code);
  }
}

function isZlibError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}

function lowerFirst(s: string): string {
  return s.length > 1 && s[1] !== s[1]!.toUpperCase() ? s[0]!.toLowerCase() + s.slice(1) : s;
}

function formatBytes(n: number): string {
  const MiB = 1024 * 1024;
  if (n >= MiB && n % MiB === 0) return `${n / MiB} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

function positiveInt(v: number | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`Invalid option "${name}": expected a positive integer, got ${v}`);
  return v;
}

function nonNegativeInt(v: number | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`Invalid option "${name}": expected a non-negative integer, got ${v}`);
  return v;
}
