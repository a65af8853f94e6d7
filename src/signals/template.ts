/**
 * Template signatures: a capability sweep fills one wrapper with items from a problem
 * bank, so the wrapper's ends repeat while the middle changes. Three views of the masked
 * prompt: its first words, its last words, and a SimHash of word shingles that stays
 * within a few bits for near-identical texts (paraphrases of one template collide often).
 *
 * The masked text is walked once: words are found by offset and hashed in place, and only
 * the words the signatures read (both ends) are kept, as offsets, never as strings.
 */
import { fnv1a32, fnv1a32Finish, fnv1a32Step, FNV_SEED_A, FNV_SEED_B, hex16 } from './hash.js';

const EDGE_WORDS = 8;
const SHINGLE = 3;
/** Words kept for the SimHash: a wrapper lives at the ends, and the hot path cannot afford whole documents. */
const MAX_WORDS = 48;
const HALF = MAX_WORDS / 2;
/** Words of a prompt read at most (as `words(masked, 20000)` did). */
const WORD_LIMIT = 20000;

export interface TemplateSignature {
  prefix: string;
  suffix: string;
  simhash: string;
}

/** ASCII letters, digits and `_`: the common case of `[\p{L}\p{N}_]` and all of `\w`. */
const WORD_ASCII = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  WORD_ASCII[c] = /[A-Za-z0-9_]/.test(ch) ? 1 : 0;
}
const WORD_UNICODE = /[\p{L}\p{N}_]/uy;

/** Length in code units of the word character (code point) at `i`, 0 when it is not one. */
function wordCharAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c < 128) return WORD_ASCII[c]!;
  WORD_UNICODE.lastIndex = i;
  if (!WORD_UNICODE.test(s)) return 0;
  return WORD_UNICODE.lastIndex - i;
}

/** Word offsets kept from one prompt: the first HALF and a ring of the last HALF (reused buffers). */
const HEAD_START = new Int32Array(HALF);
const HEAD_END = new Int32Array(HALF);
const TAIL_START = new Int32Array(HALF);
const TAIL_END = new Int32Array(HALF);
const W_START = new Int32Array(MAX_WORDS);
const W_END = new Int32Array(MAX_WORDS);

/**
 * The words `/<\w+>|#|[\p{L}\p{N}_]+/gu` finds in `masked`, at most WORD_LIMIT, reduced to
 * those the signatures read: all of them up to MAX_WORDS, else the first and last HALF.
 * Offsets go to W_START / W_END; returns how many.
 */
function edgeWords(masked: string): number {
  let n = 0;
  const len = masked.length;
  let i = 0;
  while (i < len && n < WORD_LIMIT) {
    const c = masked.charCodeAt(i);
    let start = -1;
    let end = -1;
    if (c === 60 /* < */) {
      let j = i + 1;
      while (j < len && masked.charCodeAt(j) < 128 && WORD_ASCII[masked.charCodeAt(j)] === 1) j++;
      if (j > i + 1 && masked.charCodeAt(j) === 62 /* > */) {
        start = i;
        end = j + 1;
      }
    } else if (c === 35 /* # */) {
      start = i;
      end = i + 1;
    } else {
      let w = wordCharAt(masked, i);
      if (w > 0) {
        start = i;
        let j = i;
        while (w > 0) {
          j += w;
          w = j < len ? wordCharAt(masked, j) : 0;
        }
        end = j;
      }
    }
    if (start < 0) {
      // Not a word: step one code point, as a unicode regex does.
      i += c >= 0xd800 && c <= 0xdbff && i + 1 < len && (masked.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
      continue;
    }
    if (n < HALF) {
      HEAD_START[n] = start;
      HEAD_END[n] = end;
    }
    TAIL_START[n % HALF] = start;
    TAIL_END[n % HALF] = end;
    n++;
    i = end;
  }
  if (n <= MAX_WORDS) {
    // Every word: the head ring holds the first HALF, the tail ring the rest in order.
    for (let k = 0; k < n; k++) {
      W_START[k] = k < HALF ? HEAD_START[k]! : TAIL_START[k % HALF]!;
      W_END[k] = k < HALF ? HEAD_END[k]! : TAIL_END[k % HALF]!;
    }
    return n;
  }
  for (let k = 0; k < HALF; k++) {
    W_START[k] = HEAD_START[k]!;
    W_END[k] = HEAD_END[k]!;
    const t = (n - HALF + k) % HALF;
    W_START[HALF + k] = TAIL_START[t]!;
    W_END[HALF + k] = TAIL_END[t]!;
  }
  return MAX_WORDS;
}

/** `sig64(tag + words.join(' '))` over the words from..to of `s`, without the joined string. */
function edgeSig(tag: string, s: string, from: number, to: number): string {
  let a = FNV_SEED_A;
  let b = FNV_SEED_B;
  for (let i = 0; i < tag.length; i++) {
    a = fnv1a32Step(a, tag.charCodeAt(i));
    b = fnv1a32Step(b, tag.charCodeAt(i));
  }
  for (let k = from; k < to; k++) {
    if (k > from) {
      a = fnv1a32Step(a, 32);
      b = fnv1a32Step(b, 32);
    }
    for (let i = W_START[k]!; i < W_END[k]!; i++) {
      const c = s.charCodeAt(i);
      a = fnv1a32Step(a, c);
      b = fnv1a32Step(b, c);
    }
  }
  return hex16(fnv1a32Finish(a), fnv1a32Finish(b));
}

export function templateSignature(masked: string): TemplateSignature {
  const n = edgeWords(masked);
  const prefix = edgeSig('p:', masked, 0, Math.min(n, EDGE_WORDS));
  const suffix = edgeSig('s:', masked, Math.max(0, n - EDGE_WORDS), n);
  for (let k = 0; k < n; k++) {
    let a = FNV_SEED_A;
    let b = FNV_SEED_B;
    for (let i = W_START[k]!; i < W_END[k]!; i++) {
      const c = masked.charCodeAt(i);
      a = fnv1a32Step(a, c);
      b = fnv1a32Step(b, c);
    }
    HASH_A[k] = fnv1a32Finish(a);
    HASH_B[k] = fnv1a32Finish(b);
  }
  return { prefix, suffix, simhash: simhashOfHashes(n) };
}

/** 64-bit SimHash over word shingles, as 16 hex characters. */
export function simhash64(w: readonly string[]): string {
  // Words past MAX_WORDS are not read (templateSignature never passes more).
  const len = Math.min(w.length, MAX_WORDS);
  for (let i = 0; i < len; i++) {
    HASH_A[i] = fnv1a32(w[i]!);
    HASH_B[i] = fnv1a32(w[i]!, FNV_SEED_B);
  }
  return simhashOfHashes(len);
}

/** SimHash of the first `len` words whose hashes are in HASH_A / HASH_B. */
function simhashOfHashes(len: number): string {
  const n = Math.max(1, len - SHINGLE + 1);
  // Per-bit vote counts kept bit-sliced: plane k holds bit k of all 32 counters, so adding
  // a shingle's hash is a ripple-carry of a few word operations instead of 32 increments.
  // Six planes count to 63, enough for the at most MAX_WORDS shingles a prompt gets.
  const lo = PLANES_LO.fill(0);
  const hi = PLANES_HI.fill(0);
  const ha = HASH_A;
  const hb = HASH_B;
  for (let i = 0; i < n; i++) {
    // Mix three neighbours' word hashes: no shingle strings on the hot path.
    let a = 0x9e3779b9;
    let b = 0x85ebca6b;
    for (let j = i; j < Math.min(i + SHINGLE, len); j++) {
      a = Math.imul(a ^ ha[j]!, 0x01000193) ^ (a >>> 15);
      b = Math.imul(b ^ hb[j]!, 0x01000193) ^ (b >>> 13);
    }
    addToPlanes(lo, a);
    addToPlanes(hi, b);
  }
  return hex16(majority(hi, n), majority(lo, n));
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

/**
 * Bit set where more than half of the `n` votes were ones: each bit's count compared with
 * floor(n / 2) in the bit-sliced planes themselves, all 32 bits at once, from the highest
 * plane down (a count is greater once it has a one where the bound has a zero, the planes
 * above being equal). Six steps instead of reading each bit's count out of six planes.
 */
function majority(planes: Int32Array, n: number): number {
  const bound = n >>> 1;
  let greater = 0;
  let equal = -1;
  for (let k = PLANE_COUNT - 1; k >= 0; k--) {
    const p = planes[k]!;
    if (((bound >>> k) & 1) === 0) {
      greater |= equal & p;
      equal &= ~p;
    } else equal &= p;
  }
  return greater >>> 0;
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
