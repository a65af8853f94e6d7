/**
 * Per-account counts of string values (harness signatures, templates, sentences, addresses)
 * held as 32-bit hashes in typed arrays instead of a Map of strings. The engine holds every
 * active account, so what one costs is what the scan costs: a Map entry with its string key
 * is 60-90 bytes, a slot here is 8 (12 with the last prompt), and nothing is allocated per
 * exchange. Two values of one account that share a 32-bit hash are counted as one: with at
 * most a few hundred values per account that happens to about one account in 100,000
 * (256² / 2³³), and it merges two counts of that account, nothing more.
 */
import { fnv1a32 } from '../signals/hash.js';
import { objectBytes, TYPED_ARRAY_OVERHEAD } from './state-bytes.js';

/** The 32-bit key of a value; 0 is reserved for "none" (the empty string). */
export function valueKey(v: string): number {
  if (v.length === 0) return 0;
  return fnv1a32(v) || 1;
}

/**
 * A prompt hash (hex, uniformly distributed) as a 32-bit tag: its first 8 hex digits, read
 * without building a substring. Tags tell an account's prompts apart, and their low 13 bits
 * are the bit a `DistinctCounter` sets. A hash that does not start with 8 hex digits (only
 * hand-written test data) keeps in those bits what `parseInt(h.slice(0, 8), 16)` gave it
 * before (0 for no digit), and takes the rest from FNV so that it is still told apart.
 */
export function promptTag(hexHash: string): number {
  let v = 0;
  const n = Math.min(8, hexHash.length);
  let i = 0;
  for (; i < n; i++) {
    const c = hexHash.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : (c | 32) >= 97 && (c | 32) <= 102 ? (c | 32) - 87 : -1;
    if (d < 0) break;
    v = v * 16 + d;
  }
  if (i === 8) return v >>> 0;
  return ((fnv1a32(hexHash) & ~PROMPT_BITS_MASK) | (v & PROMPT_BITS_MASK)) >>> 0;
}

/** Bits of a prompt tag that pick a `DistinctCounter`'s bit (its map is 2^13 bits). */
const PROMPT_BITS_MASK = 8191;

const INITIAL_SLOTS = 8;

/** The slots of a table that has held nothing yet: shared, never written. */
const NO_SLOTS = new Uint32Array(0);

/**
 * Counts per 32-bit key for at most `cap` keys (later keys are not tracked), optionally with
 * the tag of the last prompt that used each key, so that a key is counted once per different
 * prompt (a template wraps different items; the same item sent three times is not a template).
 * Open addressing, grown by doubling up to twice the cap.
 *
 * A slot's key, count and tag lie side by side in one typed array, made on the first key: an
 * account holds seven tables, most of them small or empty (no system prompt, no template), and
 * a typed array's own overhead (about 160 bytes) was most of what each cost when every table
 * had two or three arrays from the start.
 */
export class CountTable {
  /** Per slot: key (0 = empty), count, and the last tag when tagged. */
  private slots: Uint32Array = NO_SLOTS;
  /** Numbers per slot: 2, or 3 with tags. */
  private readonly width: 2 | 3;
  /** Slots (a power of two, or 0 before the first key). */
  private capacity = 0;
  /** Keys tracked. */
  size = 0;
  /** Adds of keys past the cap (not tracked): what the table would have held. */
  overflow = 0;
  /** The largest count held: counts only grow, so it is kept as they do rather than sought. */
  private most = 0;
  /**
   * What the last `add` or `use` found before it counted: the key's count (0 when untracked)
   * and, with tags, the tag of the last prompt that used it (undefined when untracked). An
   * account's sentences, several per exchange, were looked up three times each (`get`,
   * `lastTag`, `use`): this is one probe.
   */
  countBefore = 0;
  tagBefore: number | undefined = undefined;

  constructor(
    readonly cap: number,
    withTags = false,
  ) {
    this.width = withTags ? 3 : 2;
  }

  /** Count of `key`, 0 when untracked. */
  get(key: number): number {
    if (key === 0 || this.capacity === 0) return 0;
    const at = this.find(key) * this.width;
    return this.slots[at] === key ? this.slots[at + 1]! : 0;
  }

  /** Tag of the last prompt that used `key`, undefined when untracked. */
  lastTag(key: number): number | undefined {
    if (key === 0 || this.width !== 3 || this.capacity === 0) return undefined;
    const at = this.find(key) * 3;
    return this.slots[at] === key ? this.slots[at + 2] : undefined;
  }

  /** Counts one more use of `key`; returns its new count (0 when past the cap or `key` is 0). */
  add(key: number): number {
    return this.bump(key, 0, false);
  }

  /** Counts `key` once per different prompt in a row: a use by the prompt that used it last counts nothing. */
  use(key: number, tag: number): number {
    return this.bump(key, tag, true);
  }

  /** The largest count held (every account's template tables are asked it at each rescoring). */
  top(): number {
    return this.most;
  }

  /** Every tracked key with its count. */
  *entries(): IterableIterator<[number, number]> {
    const { slots, width } = this;
    for (let at = 0; at < slots.length; at += width) if (slots[at] !== 0) yield [slots[at]!, slots[at + 1]!];
  }

  /** Bytes the table holds: its object, and its array with that array's overhead (see state-bytes.ts). */
  get bytes(): number {
    return objectBytes(9) + (this.capacity === 0 ? 0 : TYPED_ARRAY_OVERHEAD + this.slots.byteLength);
  }

  private bump(key: number, tag: number, byPrompt: boolean): number {
    this.countBefore = 0;
    this.tagBefore = undefined;
    if (key === 0) return 0;
    const w = this.width;
    if (this.capacity > 0) {
      const at = this.find(key) * w;
      if (this.slots[at] === key) {
        this.countBefore = this.slots[at + 1]!;
        if (w === 3) this.tagBefore = this.slots[at + 2]!;
        if (byPrompt) {
          if (this.slots[at + 2] === tag) return this.slots[at + 1]!;
          this.slots[at + 2] = tag;
        }
        const n = ++this.slots[at + 1]!;
        if (n > this.most) this.most = n;
        return n;
      }
    }
    if (this.size >= this.cap) {
      this.overflow++;
      return 0;
    }
    // Kept at most half full, so that probes stay short.
    if ((this.size + 1) * 2 > this.capacity) this.grow();
    const at = this.find(key) * w;
    this.slots[at] = key;
    this.slots[at + 1] = 1;
    if (w === 3) this.slots[at + 2] = tag;
    this.size++;
    if (this.most === 0) this.most = 1;
    return 1;
  }

  /** The slot holding `key`, else the empty slot where it would go (capacity > 0). */
  private find(key: number): number {
    const mask = this.capacity - 1;
    const { slots, width } = this;
    let i = Math.imul(key, 0x9e3779b1) >>> 0 & mask;
    while (slots[i * width] !== 0 && slots[i * width] !== key) i = (i + 1) & mask;
    return i;
  }

  private grow(): void {
    const old = this.slots;
    const w = this.width;
    this.capacity = this.capacity === 0 ? INITIAL_SLOTS : this.capacity * 2;
    this.slots = new Uint32Array(this.capacity * w);
    for (let from = 0; from < old.length; from += w) {
      if (old[from] === 0) continue;
      const at = this.find(old[from]!) * w;
      for (let k = 0; k < w; k++) this.slots[at + k] = old[from + k]!;
    }
  }
}
