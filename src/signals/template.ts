/**
 * Template signatures: a capability sweep fills one wrapper with items from a problem
 * bank, so the wrapper's ends repeat while the middle changes. Three views of the masked
 * prompt: its first words, its last words, and a SimHash of word shingles that stays
 * within a few bits for near-identical texts (paraphrases of one template collide often).
 */
import { fnv1a32, sig64 } from './hash.js';
import { words } from './text.js';

const EDGE_WORDS = 8;
const SHINGLE = 3;
/** Words kept for the SimHash: a wrapper lives at the ends, and the hot path cannot afford whole documents. */
const MAX_WORDS = 48;

export interface TemplateSignature {
  prefix: string;
  suffix: string;
  simhash: string;
}

export function templateSignature(masked: string): TemplateSignature {
  const all = words(masked, 20000);
  // Long prompts: the wrapper is at the ends, so keep both ends rather than the head only.
  const w = all.length > MAX_WORDS ? all.slice(0, MAX_WORDS / 2).concat(all.slice(-MAX_WORDS / 2)) : all;
  const prefix = sig64('p:' + w.slice(0, EDGE_WORDS).join(' '));
  const suffix = sig64('s:' + w.slice(-EDGE_WORDS).join(' '));
  return { prefix, suffix, simhash: simhash64(w) };
}

/** 64-bit SimHash over word shingles, as 16 hex characters. */
export function simhash64(w: readonly string[]): string {
  // Words past MAX_WORDS are not read (templateSignature never passes more).
  const len = Math.min(w.length, MAX_WORDS);
  const n = Math.max(1, len - SHINGLE + 1);
  // Per-bit vote counts kept bit-sliced: plane k holds bit k of all 32 counters, so adding
  // a shingle's hash is a ripple-carry of a few word operations instead of 32 increments.
  // Six planes count to 63, enough for the at most MAX_WORDS shingles a prompt gets.
  const lo = PLANES_LO.fill(0);
  const hi = PLANES_HI.fill(0);
  const ha = HASH_A;
  const hb = HASH_B;
  for (let i = 0; i < len; i++) {
    ha[i] = fnv1a32(w[i]!);
    hb[i] = fnv1a32(w[i]!, 0x9747b28c);
  }
  for (let i = 0; i < n; i++) {
    // Hash each word once and mix three neighbours' hashes: no shingle strings on the hot path.
    let a = 0x9e3779b9;
    let b = 0x85ebca6b;
    for (let j = i; j < Math.min(i + SHINGLE, len); j++) {
      a = Math.imul(a ^ ha[j]!, 0x01000193) ^ (a >>> 15);
      b = Math.imul(b ^ hb[j]!, 0x01000193) ^ (b >>> 13);
    }
    addToPlanes(lo, a);
    addToPlanes(hi, b);
  }
  return hex32(majority(hi, n)) + hex32(majority(lo, n));
}

const PLANE_COUNT = 6;
const PLANES_LO = new Int32Array(PLANE_COUNT);
const PLANES_HI = new Int32Array(PLANE_COUNT);
const HASH_A = new Uint32Array(MAX_WORDS);
const HASH_B = new Uint32Array(MAX_WORDS);

function addToPlanes(planes: Int32Array, x: number): void {
  let carry = x | 0;
  for (let k = 0; k < PLANE_COUNT && carry !== 0; k++) {
    const p = planes[k]!;
    planes[k] = p ^ carry;
    carry = p & carry;
  }
}

/** Bit set where more than half of the `n` votes were ones. */
function majority(planes: Int32Array, n: number): number {
  let out = 0;
  for (let bit = 0; bit < 32; bit++) {
    let count = 0;
    for (let k = 0; k < PLANE_COUNT; k++) count |= ((planes[k]! >>> bit) & 1) << k;
    if (count * 2 > n) out |= 1 << bit;
  }
  return out >>> 0;
}

const hex32 = (x: number): string => (x >>> 0).toString(16).padStart(8, '0');

/** Number of differing bits between two SimHashes. */
export function hammingDistance(a: string, b: string): number {
  let d = 0;
  for (let i = 0; i < 16; i += 8) {
    let x = (parseInt(a.slice(i, i + 8), 16) ^ parseInt(b.slice(i, i + 8), 16)) >>> 0;
    while (x) {
      x &= x - 1;
      d++;
    }
  }
  return d;
}
