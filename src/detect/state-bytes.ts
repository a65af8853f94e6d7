/**
 * What the engine's state costs in bytes, estimated by structure: typed arrays by their
 * `byteLength`, hash sets and maps by their entries times a stated cost per entry. An
 * estimate, not a measurement (the heap is V8's to lay out): the costs below are those of a
 * 64-bit V8 without pointer compression (Node's default build), rounded up, and
 * `state-bytes.test.ts` holds the total to within a factor of the heap it stands for.
 */

/** An object's header (map, properties, elements) plus one tagged slot per field. */
export const objectBytes = (fields: number): number => 24 + 8 * fields;

/**
 * A typed array and its buffer beyond their bytes: the view object, the ArrayBuffer object
 * and the backing store's bookkeeping.
 */
export const TYPED_ARRAY_OVERHEAD = 160;

/** A typed array's cost. */
export const typedArrayBytes = (a: ArrayBufferView): number => TYPED_ARRAY_OVERHEAD + a.byteLength;

/**
 * One entry of a Set: key and chain slots, its share of the bucket array, and the table's
 * slack (V8 doubles a full table, so a table is between half and fully used).
 */
export const SET_ENTRY = 32;
/** One entry of a Map: a Set's entry and the value's slot. */
export const MAP_ENTRY = 40;
/** An empty Set or Map: the object and its smallest table. */
export const EMPTY_TABLE = 120;
/** A one-byte string of `n` characters (header, hash, length; padded to 8). */
export const stringBytes = (n: number): number => 24 + ((n + 7) & ~7);
/** A small array of numbers (JSArray and its elements). */
export const arrayBytes = (n: number): number => 32 + 16 + 8 * n;
