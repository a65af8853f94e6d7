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
  // Counting ones per bit (no branch) and comparing with half the shingles is the usual
  // ±1 vote without the branch.
  const ones = new Uint16Array(64);
  const ha = new Uint32Array(w.length);
  const hb = new Uint32Array(w.length);
  for (let i = 0; i < w.length; i++) {
    ha[i] = fnv1a32(w[i]!);
    hb[i] = fnv1a32(w[i]!, 0x9747b28c);
  }
  const n = Math.max(1, w.length - SHINGLE + 1);
  for (let i = 0; i < n; i++) {
    // Hash each word once and mix three neighbours' hashes: no shingle strings on the hot path.
    let a = 0x9e3779b9;
    let b = 0x85ebca6b;
    for (let j = i; j < Math.min(i + SHINGLE, w.length); j++) {
      a = Math.imul(a ^ ha[j]!, 0x01000193) ^ (a >>> 15);
      b = Math.imul(b ^ hb[j]!, 0x01000193) ^ (b >>> 13);
    }
    for (let bit = 0; bit < 32; bit++) {
      ones[bit]! += (a >>> bit) & 1;
      ones[bit + 32]! += (b >>> bit) & 1;
    }
  }
  let hi = 0;
  let lo = 0;
  for (let bit = 0; bit < 32; bit++) {
    if (ones[bit]! * 2 > n) lo |= 1 << bit;
    if (ones[bit + 32]! * 2 > n) hi |= 1 << bit;
  }
  return (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}

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
