/**
 * Exchange rows appended to a DuckDB table as data chunks, a column at a time.
 *
 * Before, every row went in as one JSON string into a staging table, was typed by
 * `json_transform` and then copied by `INSERT ... SELECT`: three passes over every row on
 * DuckDB's threads (about 44 µs of CPU per exchange with the checkpoint, measured on 60,000
 * rows of the medium scenario). Filling the columns here and handing DuckDB whole chunks
 * costs about 12 µs on this thread (most of it one native call per string) and about 11 on
 * DuckDB's to append and commit, and nothing is copied a second time. Most strings now go in
 * without a call of their own (fillText): 7 µs an exchange on this thread with the append.
 */
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  DuckDBDataChunk,
  INTEGER,
  TIMESTAMPTZ,
  VARCHAR,
  type DuckDBAppender,
  type DuckDBTimestampTZValue,
  type DuckDBType,
} from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';
import { BOOL_NULL, type ExchangeColumn, type ExchangeColumns } from '../column-batch.js';
import { EXCHANGE_KINDS, EXCHANGE_NAMES, type Kind } from '../exchange-columns.js';

const DUCKDB_TYPE: Record<Kind, DuckDBType> = {
  text: VARCHAR,
  'text?': VARCHAR,
  int32: INTEGER,
  'int32?': INTEGER,
  int64: BIGINT,
  'int64?': BIGINT,
  float: DOUBLE,
  bool: BOOLEAN,
  'bool?': BOOLEAN,
};

/** DuckDB's vector size: a data chunk holds at most this many rows. */
export const CHUNK_ROWS = 2048;

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The columns of the table appended to, around the exchange columns: `exchange_batch` leads
 * with the row's place in its batch (which of two rows of one id came first), `exchanges`
 * has the time the row was ingested after them; both end with the signature of the row's
 * prompt preview, whose text is kept apart (previews.ts), its own column left null.
 */
export type ChunkLayout = { kind: 'batch' } | { kind: 'stored'; ingestedAt: DuckDBTimestampTZValue };

function layoutTypes(layout: ChunkLayout): DuckDBType[] {
  const cols = EXCHANGE_KINDS.map((k) => DUCKDB_TYPE[k]);
  return layout.kind === 'batch' ? [BIGINT, ...cols, VARCHAR] : [...cols, TIMESTAMPTZ, VARCHAR];
}

const PREVIEW = EXCHANGE_NAMES.indexOf('prompt_preview');

/** Every row of a vector null. */
function allNull(vector: duckdb.Vector, n: number): void {
  const mask = new Uint8Array(Math.ceil(n / 64) * 8);
  duckdb.vector_ensure_validity_writable(vector);
  duckdb.copy_data_to_vector_validity(vector, 0, mask.buffer as ArrayBuffer, mask.byteOffset, mask.byteLength);
}

/** Bit `r` of a validity mask cleared: row `r` is null. The mask is DuckDB's, words of 64 bits, little-endian. */
function newMask(n: number): Uint8Array {
  return new Uint8Array(Math.ceil(n / 64) * 8).fill(0xff);
}

function copyTo(vector: duckdb.Vector, data: ArrayBufferView, mask: Uint8Array | null): void {
  duckdb.copy_data_to_vector(vector, 0, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
  if (mask !== null) {
    duckdb.vector_ensure_validity_writable(vector);
    duckdb.copy_data_to_vector_validity(vector, 0, mask.buffer as ArrayBuffer, mask.byteOffset, mask.byteLength);
  }
}

/**
 * A vector filled from a column, straight into DuckDB's memory layout: one copy for the
 * numbers of a chunk, no BigInt per value (the wrapper's `setItem` of a BIGINT takes one,
 * and its validity mask does BigInt arithmetic per row once a column has a null).
 */
function fillVector(vector: duckdb.Vector, kind: Kind, col: ExchangeColumn, n: number, at: (r: number) => number): void {
  let mask: Uint8Array | null = null;
  const isNull = (r: number): void => {
    mask ??= newMask(n);
    mask[r >> 3]! &= ~(1 << (r & 7));
  };
  if (col.kind === 'text') return fillText(vector, col.values, n, at);
  if (col.kind === 'bool') {
    const out = new Uint8Array(n);
    for (let r = 0; r < n; r++) {
      const x = col.values[at(r)]!;
      if (x === BOOL_NULL) isNull(r);
      else out[r] = x;
    }
    return copyTo(vector, out, mask);
  }
  const values = col.values;
  if (kind === 'float') {
    const out = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      const x = values[at(r)]!;
      if (x !== x) isNull(r);
      else out[r] = x;
    }
    return copyTo(vector, out, mask);
  }
  if (kind === 'int32' || kind === 'int32?') {
    const out = new Int32Array(n);
    for (let r = 0; r < n; r++) {
      const x = values[at(r)]!;
      if (x !== x) isNull(r);
      else out[r] = x;
    }
    return copyTo(vector, out, mask);
  }
  copyTo(vector, int64Words(n, (r) => values[at(r)]!, isNull), mask);
}

/** Bytes of DuckDB's `duckdb_string_t`: a length (uint32), then 12 bytes of text, or a 4-byte prefix and a pointer. */
const STRING_T_BYTES = 16;
/** Longest text DuckDB keeps inside its `duckdb_string_t` itself, with no copy on the vector's heap. */
const INLINE_BYTES = 12;

/**
 * A text column's vector. One native call per string (`vector_assign_string_element`, about
 * 170 ns) was most of what filling a chunk cost, and most of a chunk's strings are short or
 * repeat within it (an account's id, address and client; a model, a country, a tier; an
 * operation's template signatures): a chunk of the medium scenario needs 4.5 such calls an
 * exchange instead of 21. The vector's `duckdb_string_t`s (duckdb.h) are laid out here and
 * copied in once: a text of at most 12 ASCII bytes inline (length, then the bytes, the rest
 * zero); a longer one assigned by DuckDB the first time it appears in the chunk, and its
 * `duckdb_string_t` (length, prefix, pointer into this vector's own string heap) copied to
 * the rows that repeat it, as DuckDB's own flattening of a dictionary vector does. The
 * appender copies every row's text out of the vector, so no row outlives the heap it names.
 */
function fillText(vector: duckdb.Vector, values: readonly (string | null | undefined)[], n: number, at: (r: number) => number): void {
  const structs = new Uint8Array(n * STRING_T_BYTES);
  const lengths = new DataView(structs.buffer);
  let mask: Uint8Array | null = null;
  let inline = 0;
  /** Per longer text, the row DuckDB assigns it in; the rows assigned; the rows that repeat one, in pairs (from, to). */
  const firstRow = new Map<string, number>();
  const assigned: number[] = [];
  const repeats: number[] = [];
  for (let r = 0; r < n; r++) {
    const v = values[at(r)];
    if (v === null || v === undefined) {
      mask ??= newMask(n);
      mask[r >> 3]! &= ~(1 << (r & 7));
      continue;
    }
    if (v.length <= INLINE_BYTES && inlined(v, structs, r * STRING_T_BYTES + 4)) {
      lengths.setUint32(r * STRING_T_BYTES, v.length, true);
      inline++;
      continue;
    }
    const first = firstRow.get(v);
    if (first === undefined) {
      firstRow.set(v, r);
      assigned.push(r);
    } else repeats.push(first, r);
  }
  if (inline > 0) duckdb.copy_data_to_vector(vector, 0, structs.buffer, 0, structs.byteLength);
  for (const r of assigned) duckdb.vector_assign_string_element(vector, r, values[at(r)]!);
  if (repeats.length > 0) {
    // A copy of the vector's strings, the assigned ones included, the repeats filled in, copied back whole.
    const data = duckdb.vector_get_data(vector, n * STRING_T_BYTES);
    for (let k = 0; k < repeats.length; k += 2) {
      const from = repeats[k]! * STRING_T_BYTES;
      data.copyWithin(repeats[k + 1]! * STRING_T_BYTES, from, from + STRING_T_BYTES);
    }
    duckdb.copy_data_to_vector(vector, 0, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
  }
  if (mask !== null) {
    duckdb.vector_ensure_validity_writable(vector);
    duckdb.copy_data_to_vector_validity(vector, 0, mask.buffer as ArrayBuffer, mask.byteOffset, mask.byteLength);
  }
}

/** `v`'s bytes written at `at` when it is ASCII (one byte a character); false, the bytes written so far cleared again, when it is not. */
function inlined(v: string, out: Uint8Array, at: number): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c >= 0x80) {
      out.fill(0, at, at + i);
      return false;
    }
    out[at + i] = c;
  }
  return true;
}

const TWO_32 = 2 ** 32;

/**
 * Whole numbers below 2^53 as DuckDB's little-endian int64s, two 32-bit words each: the low
 * word is the number modulo 2^32 (`>>> 0`, right for negatives too: two's complement), the
 * high word its floor over 2^32. NaN is null.
 */
function int64Words(n: number, value: (r: number) => number, isNull: (r: number) => void): Int32Array {
  const out = new Int32Array(2 * n);
  for (let r = 0; r < n; r++) {
    const x = value(r);
    if (x !== x) {
      isNull(r);
      continue;
    }
    out[2 * r] = x >>> 0;
    out[2 * r + 1] = Math.floor(x / TWO_32);
  }
  return out;
}

/**
 * Appends the rows of `cols` (already checked against their columns, see rowProblem) that
 * `pick` names, in its order (every row when null), through `app`, whose table has the
 * columns of `layout` in that order; `previewSigs` has each row's preview signature (by the
 * row's index in `cols`). Each vector is filled straight from its column: no row objects.
 * Between chunks the event loop gets a turn: a live gateway's requests must not wait behind
 * a whole batch.
 */
export async function appendChunks(app: DuckDBAppender, cols: ExchangeColumns, pick: Int32Array | null, layout: ChunkLayout, previewSigs: readonly (string | null)[]): Promise<void> {
  const types = layoutTypes(layout);
  const first = layout.kind === 'batch' ? 1 : 0;
  const total = pick === null ? cols.length : pick.length;
  const ingestedAt = layout.kind === 'stored' ? Number(layout.ingestedAt.micros) : 0;
  for (let start = 0; start < total; start += CHUNK_ROWS) {
    const n = Math.min(CHUNK_ROWS, total - start);
    const at = pick === null ? (r: number): number => start + r : (r: number): number => pick[start + r]!;
    const chunk = DuckDBDataChunk.create(types, n);
    const vector = (c: number): duckdb.Vector => duckdb.data_chunk_get_vector(chunk.chunk, c);
    const noNulls = (): void => {
      throw new Error('a position in the batch cannot be null');
    };
    if (layout.kind === 'batch') copyTo(vector(0), int64Words(n, at, noNulls), null);
    for (let c = 0; c < EXCHANGE_NAMES.length; c++) {
      if (c === PREVIEW) allNull(vector(first + c), n);
      else fillVector(vector(first + c), EXCHANGE_KINDS[c]!, cols.columns[c]!, n, at);
    }
    if (layout.kind === 'stored') copyTo(vector(EXCHANGE_NAMES.length), int64Words(n, () => ingestedAt, noNulls), null);
    fillVector(vector(types.length - 1), 'text?', { kind: 'text', values: previewSigs as (string | null)[] }, n, at);
    app.appendDataChunk(chunk);
    if (start + n < total) await yieldToEventLoop();
  }
}
