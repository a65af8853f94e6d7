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

/**
 * Counts per 32-bit key for at most `cap` keys (later keys are not tracked), optionally with
 * the tag of the last prompt that used each key, so that a key is counted once per different
 * prompt (a template wraps different items; the same item sent three times is not a template).
 * Open addressing, grown by doubling up to twice the cap, so a light account costs 100 bytes.
 */
export class CountTable {
  private keys = new Uint32Array(INITIAL_SLOTS);
  private counts = new Uint32Array(INITIAL_SLOTS);
  private tags: Uint32Array | null;
  /** Keys tracked. */
  size = 0;
  /** Adds of keys past the cap (not tracked): what the table would have held. */
  overflow = 0;

  constructor(
    readonly cap: number,
    withTags = false,
  ) {
    this.tags = withTags ? new Uint32Array(INITIAL_SLOTS) : null;
  }

  /** Count of `key`, 0 when untracked. */
  get(key: number): number {
    if (key === 0) return 0;
    const i = this.find(key);
    return this.keys[i] === key ? this.counts[i]! : 0;
  }

  /** Tag of the last prompt that used `key`, undefined when untracked. */
  lastTag(key: number): number | undefined {
    if (key === 0 || !this.tags) return undefined;
    const i = this.find(key);
    return this.keys[i] === key ? this.tags[i] : undefined;
  }

  /** Counts one more use of `key`; returns its new count (0 when past the cap or `key` is 0). */
  add(key: number): number {
    return this.bump(key, 0, false);
  }

  /** Counts `key` once per different prompt in a row: a use by the prompt that used it last counts nothing. */
  use(key: number, tag: number): number {
    return this.bump(key, tag, true);
  }

  /** The largest count held. */
  top(): number {
    let best = 0;
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] !== 0 && this.counts[i]! > best) best = this.counts[i]!;
    return best;
  }

  /** Every tracked key with its count. */
  *entries(): IterableIterator<[number, number]> {
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] !== 0) yield [this.keys[i]!, this.counts[i]!];
  }

  /** Bytes the table holds: its object, its arrays and their overhead (see state-bytes.ts). */
  get bytes(): number {
    const arrays = this.tags ? 3 : 2;
    return objectBytes(6) + arrays * TYPED_ARRAY_OVERHEAD + this.keys.byteLength + this.counts.byteLength + (this.tags?.byteLength ?? 0);
  }

  private bump(key: number, tag: number, byPrompt: boolean): number {
    if (key === 0) return 0;
    let i = this.find(key);
    if (this.keys[i] === key) {
      if (byPrompt) {
        if (this.tags![i] === tag) return this.counts[i]!;
        this.tags![i] = tag;
      }
      return ++this.counts[i]!;
    }
    if (this.size >= this.cap) {
      this.overflow++;
      return 0;
    }
    // Kept at most half full, so that probes stay short.
    if ((this.size + 1) * 2 > this.keys.length) {
      this.grow();
      i = this.find(key);
    }
    this.keys[i] = key;
    this.counts[i] = 1;
    if (this.tags) this.tags[i] = tag;
    this.size++;
    return 1;
  }

  /** The slot holding `key`, else the empty slot where it would go. */
  private find(key: number): number {
    const mask = this.keys.length - 1;
    let i = Math.imul(key, 0x9e3779b1) >>> 0 & mask;
    while (this.keys[i] !== 0 && this.keys[i] !== key) i = (i + 1) & mask;
    return i;
  }

  private grow(): void {
    const { keys, counts, tags } = this;
    const slots = keys.length * 2;
    this.keys = new Uint32Array(slots);
    this.counts = new Uint32Array(slots);
    this.tags = tags ? new Uint32Array(slots) : null;
    for (let j = 0; j < keys.length; j++) {
      if (keys[j] === 0) continue;
      const i = this.find(keys[j]!);
      this.keys[i] = keys[j]!;
      this.counts[i] = counts[j]!;
      if (tags) this.tags![i] = tags[j]!;
    }
  }
}
