/**
 * Phrase sketch of a prompt: the hashes of its sentences once lower-cased and masked
 * (numbers, quotes, code). An operator that writes its wrappers afresh per account still
 * draws them from one stock of phrasings, so its accounts share whole sentences that are
 * not the item they wrap; two people asking for the same thing rarely write the same
 * sentence, and the items of a public bank are held by honest accounts as well, which is
 * why the linker lets a shared phrase tie only accounts that are already suspects.
 *
 * The masked text is walked once, by offset: a sentence is hashed as it is read, its white
 * space folded on the fly, so no sentence, piece or folded copy is ever cut out as a string
 * (this ran on every exchange and was the feature function's largest cost when it split
 * the text with a regex and folded each piece with another).
 */
import { fnv1a32Finish, fnv1a32Step, FNV_SEED_A, hexCodes } from './hash.js';

/** Sentences kept per prompt: the wrapper's sentences are at its ends, so the first and last. */
export const MAX_PHRASES = 8;
/** Fewer words than this is an interjection ("hi!", "thanks"), which everyone writes. */
const MIN_WORDS = 3;
const MAX_CHARS = 240;
/** Characters read at each end of a long prompt. */
const ENDS_CHARS = 1500;

/** What `\s` and `trim` treat as white space. */
function isSpace(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13);
  if (c < 0xa0) return false;
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/** After one of these, a run of white space ends a sentence. */
const isStop = (c: number): boolean => c === 46 /* . */ || c === 63 /* ? */ || c === 33 /* ! */ || c === 58 /* : */ || c === 59 /* ; */;

/** Sentence hashes of the prompt being sketched (reused; only its first `length` entries count). */
const found: number[] = [];

/**
 * Space-separated 8-hex hashes of the prompt's sentences, de-duplicated, first and last
 * sentences kept when there are more than MAX_PHRASES; '' for an empty prompt.
 * @example phraseSigs(maskForWords('Thanks a lot. Ana has # apples.')) // 'xxxxxxxx yyyyyyyy'
 */
export function phraseSigs(masked: string): string {
  found.length = 0;
  if (masked.length <= 2 * ENDS_CHARS) sentences(masked, 0, masked.length);
  else {
    // A wrapper sits at the ends of a prompt; a pasted file in between is not split at all.
    // Each end is read as if it were the whole text, and the sentence at its cut dropped.
    sentences(masked, 0, ENDS_CHARS);
    if (found.length > 0) found.length--;
    const headCount = found.length;
    sentences(masked, masked.length - ENDS_CHARS, masked.length);
    if (found.length > headCount) found.splice(headCount, 1);
  }
  const n = found.length;
  // The text is made once from its character codes: joined hash by hash, it was up to
  // fifteen strings on the way, and a string of pieces the row's encoder flattens again.
  codes.length = 0;
  for (let k = 0; k < n; k++) {
    // The first and last MAX_PHRASES / 2 when there are more.
    if (n > MAX_PHRASES && k >= MAX_PHRASES / 2 && k < n - MAX_PHRASES / 2) continue;
    const h = found[k]!;
    if (seenBefore(h, k, n)) continue;
    if (codes.length > 0) codes.push(32);
    hexCodes(h, codes);
  }
  return codes.length === 0 ? '' : String.fromCharCode.apply(null, codes);
}

/** Character codes of the text being made (reused). */
const codes: number[] = [];

/** Whether a kept sentence before `k` had the hash `h` (at most MAX_PHRASES are kept: a scan is cheap). */
function seenBefore(h: number, k: number, n: number): boolean {
  for (let j = 0; j < k; j++) {
    if (n > MAX_PHRASES && j >= MAX_PHRASES / 2 && j < n - MAX_PHRASES / 2) continue;
    if (found[j] === h) return true;
  }
  return false;
}

/**
 * The sentences of `s` from `from` to `to`, read as a text of its own, pushed to `found` as
 * hashes. The same sentences as splitting the text on `/(?<=[.?!:;])\s+|\n+/`, folding each
 * piece's white space to one space and trimming it, then leaving out pieces that are empty,
 * longer than MAX_CHARS or of fewer than MIN_WORDS words (and hashing with fnv1a32).
 */
function sentences(s: string, from: number, to: number): void {
  let i = from;
  while (i < to) {
    // One piece: up to the next separator, hashed with its white space folded and trimmed.
    let h = FNV_SEED_A;
    let chars = 0;
    let words = 0;
    let inSpace = false;
    let sep = -1;
    for (; i < to; i++) {
      const c = s.charCodeAt(i);
      if (c === 10 || (isSpace(c) && i > from && isStop(s.charCodeAt(i - 1)))) {
        sep = i;
        break;
      }
      if (isSpace(c)) {
        inSpace = words > 0;
        continue;
      }
      if (words === 0 || inSpace) {
        if (words > 0) {
          h = fnv1a32Step(h, 32);
          chars++;
        }
        words++;
        inSpace = false;
      }
      h = fnv1a32Step(h, c);
      chars++;
    }
    if (words >= MIN_WORDS && chars <= MAX_CHARS) found.push(fnv1a32Finish(h));
    if (sep < 0) return;
    // The separator: a run of white space after a stop, else a run of newlines.
    const afterStop = s.charCodeAt(sep) !== 10 || (sep > from && isStop(s.charCodeAt(sep - 1)));
    i = sep + 1;
    if (afterStop) while (i < to && isSpace(s.charCodeAt(i))) i++;
    else while (i < to && s.charCodeAt(i) === 10) i++;
  }
}

/** The hashes of a `phraseSigs` string. */
export const phrasesOf = (sigs: string): string[] => (sigs ? sigs.split(' ') : []);
