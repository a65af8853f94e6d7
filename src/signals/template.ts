/**
 * Template signatures: a capability sweep fills one wrapper with items from a problem
 * bank, so the wrapper's ends repeat while the middle changes. Three views of the masked
 * prompt: its first words, its last words, and a SimHash of word shingles that stays
 * within a few bits for near-identical texts (paraphrases of one template collide often).
 */
import { hashPair, sig64 } from './hash.js';
import { words } from './text.js';

const EDGE_WORDS = 8;
const SHINGLE = 3;
const MAX_WORDS = 400;

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
  const votes = new Int32Array(64);
  const n = Math.max(1, w.length - SHINGLE + 1);
  for (let i = 0; i < n; i++) {
    const shingle = w.slice(i, i + SHINGLE).join(' ');
    const [a, b] = hashPair(shingle);
    for (let bit = 0; bit < 32; bit++) {
      votes[bit]! += (a >>> bit) & 1 ? 1 : -1;
      votes[bit + 32]! += (b >>> bit) & 1 ? 1 : -1;
    }
  }
  let hi = 0;
  let lo = 0;
  for (let bit = 0; bit < 32; bit++) {
    if (votes[bit]! > 0) lo |= 1 << bit;
    if (votes[bit + 32]! > 0) hi |= 1 << bit;
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
