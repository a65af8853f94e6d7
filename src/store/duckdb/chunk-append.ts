/**
 * Exchange rows appended to a DuckDB table as data chunks, a column at a time.
 *
 * Before, every row went in as one JSON string into a staging table, was typed by
 * `json_transform` and then copied by `INSERT ... SELECT`: three passes over every row on
 * DuckDB's threads (about 44 µs of CPU per exchange with the checkpoint, measured on 60,000
 * rows of the medium scenario). Filling the columns here and handing DuckDB whole chunks
 * costs about 12 µs on this thread (most of it one native call per string) and about 11 on
 * DuckDB's to append and commit, and nothing is copied a second time.
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
const CHUNK_ROWS = 2048;

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
  if (col.kind === 'text') {
    const values = col.values;
    for (let r = 0; r < n; r++) {
      const v = values[at(r)];
      if (v === null || v === undefined) isNull(r);
      else duckdb.vector_assign_string_element(vector, r, v);
    }
    if (mask !== null) {
      duckdb.vector_ensure_validity_writable(vector);
      const m = mask as Uint8Array;
      duckdb.copy_data_to_vector_validity(vector, 0, m.buffer as ArrayBuffer, m.byteOffset, m.byteLength);
    }
    return;
  }
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
